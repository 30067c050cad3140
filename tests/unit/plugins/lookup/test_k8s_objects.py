# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_objects lookup: paths without discovery for built-in kinds, the kubernetes.core.k8s lookup's
answers (an absent object is an empty list), and failures in the words of the modules."""
import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible import constants as C

from ansible_collections.stateful.datastores.plugins.lookup import k8s_objects
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import connection
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

NAME = "stateful.datastores.k8s_objects"


def lookup():
    """The plugin as the loader would configure it, without a collection search path."""
    plugin = k8s_objects.LookupModule()
    plugin._load_name = NAME
    C.config.initialize_plugin_configuration_definitions(
        "lookup", NAME, yaml.safe_load(k8s_objects.DOCUMENTATION)["options"])
    return plugin


class RecordingKube(object):
    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def get(self, path, query=None, missing_ok=False):
        self.calls.append((path, query))
        answer = self.answers.get(path)
        if isinstance(answer, Exception):
            raise answer
        if answer is None and not missing_ok:
            raise KubeError("not found", 404)
        return answer


def test_a_list_carries_kind_and_api_version_and_the_selector():
    kube = RecordingKube({"/apis/apps/v1/namespaces/db/statefulsets": {"items": [{"metadata": {"name": "a"}}]}})
    found = k8s_objects.read_objects(kube, "StatefulSet", namespace="db", label_selector="app=x")
    assert found == [{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "a"}}]
    assert kube.calls == [("/apis/apps/v1/namespaces/db/statefulsets", {"labelSelector": "app=x"})]


def test_a_missing_object_is_an_empty_list_and_a_present_one_is_returned_whole():
    kube = RecordingKube({"/api/v1/namespaces/here": {"kind": "Namespace", "metadata": {"name": "here"}}})
    assert k8s_objects.read_objects(kube, "Namespace", name="gone") == []
    assert k8s_objects.read_objects(kube, "Namespace", name="here")[0]["metadata"]["name"] == "here"


def test_cluster_scoped_kinds_ignore_the_namespace():
    kube = RecordingKube({"/apis/storage.k8s.io/v1/storageclasses": {"items": []}})
    assert k8s_objects.read_objects(kube, "StorageClass", "storage.k8s.io/v1", namespace="db") == []


def run_lookup(monkeypatch, error, **options):
    class FailingKube(object):
        def __init__(self, params, retry_deadline):
            self.params, self.retry_deadline = params, retry_deadline

        def get(self, *args, **kwargs):
            raise error

    monkeypatch.setattr(connection, "Kube", FailingKube)
    with pytest.raises(AnsibleLookupError) as raised:
        lookup().run([], {}, kind="Pod", namespace="db", **options)
    return str(raised.value)


def test_an_unreachable_api_server_names_the_callers_variables(monkeypatch):
    error = KubeError("GET /api/v1/namespaces/db/pods: cannot reach the API server at https://127.0.0.1:1: "
                      "Connection refused", host="https://127.0.0.1:1")
    error.retried = 60.0
    message = run_lookup(monkeypatch, error, kubeconfig="/k/config", connection_variables="antidote_kubeconfig")
    assert "cannot reach the Kubernetes API server at https://127.0.0.1:1: connection refused" in message
    assert "(retried for 60s)" in message and "antidote_kubeconfig" in message


def test_a_rejected_token_says_401_without_the_servers_headers(monkeypatch):
    message = run_lookup(monkeypatch, KubeError("Unauthorized", 401, body={"headers": "Audit-Id: x"}))
    assert "401 Unauthorized" in message and "Audit-Id" not in message


def test_a_kind_the_server_does_not_serve_is_named(monkeypatch):
    class NoGroups(object):
        def __init__(self, params, retry_deadline):
            pass

        def get(self, path, query=None, missing_ok=False):
            return None

    monkeypatch.setattr(connection, "Kube", NoGroups)
    with pytest.raises(AnsibleLookupError, match="serves no kind RaftCluster in raft.atomix.io/v1beta2"):
        lookup().run([], {}, kind="RaftCluster", api_version="raft.atomix.io/v1beta2")


def test_a_kubeconfig_that_does_not_exist_is_named_with_the_callers_variables(monkeypatch, tmp_path):
    missing = str(tmp_path / "nowhere")

    def unconfigurable(params, retry_deadline):
        raise IOError("Invalid kube-config file. No configuration found.")

    monkeypatch.setattr(connection, "Kube", unconfigurable)
    with pytest.raises(AnsibleLookupError) as raised:
        lookup().run([], {}, kind="Pod", kubeconfig=missing, connection_variables="loklak_kubeconfig")
    message = str(raised.value)
    assert "cannot configure the Kubernetes client" in message and "the file {} does not exist".format(missing) in message
    assert "loklak_kubeconfig" in message


def test_kinds_given_as_terms_are_read_one_after_the_other_into_one_list(monkeypatch):
    answers = {"/api/v1/namespaces/db/services": {"items": [{"metadata": {"name": "s"}}]},
               "/apis/apps/v1/namespaces/db/statefulsets": {"items": [{"metadata": {"name": "a"}}]}}
    monkeypatch.setattr(connection, "Kube", lambda params, retry_deadline: RecordingKube(answers))
    found = lookup().run([{"kind": "Service", "api_version": "v1"}, {"kind": "StatefulSet"}], {}, namespace="db")
    assert found == [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
                     {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "a"}}]


def test_kinds_of_one_api_group_cost_one_discovery_call(monkeypatch):
    group = {"resources": [{"kind": "Database", "name": "databases", "namespaced": True},
                           {"kind": "Partition", "name": "partitions", "namespaced": True}]}
    answers = {"/apis/cloud.atomix.io/v1beta2": group,
               "/apis/cloud.atomix.io/v1beta2/namespaces/db/databases": {"items": []},
               "/apis/cloud.atomix.io/v1beta2/namespaces/db/partitions": {"items": []}}
    kube = RecordingKube(answers)
    monkeypatch.setattr(connection, "Kube", lambda params, retry_deadline: kube)
    kinds = [{"kind": kind, "api_version": "cloud.atomix.io/v1beta2"} for kind in ("Database", "Partition")]
    assert lookup().run(kinds, {}, namespace="db") == []
    assert [path for path, _query in kube.calls].count("/apis/cloud.atomix.io/v1beta2") == 1


@pytest.mark.parametrize("terms, options", [
    ([], {}),
    ([{"kind": "Service"}], {"kind": "Pod"}),
    ([{"kind": "Service"}], {"api_version": "v1"}),
    (["Service"], {}),
    ([{"api_version": "v1"}], {}),
    ([{"kind": "Service", "namespace": "db"}], {}),
])
def test_either_the_kind_option_or_kinds_as_terms(terms, options):
    with pytest.raises(AnsibleLookupError, match="k8s_objects (reads either the kind option|terms are kinds)"):
        lookup().run(terms, {}, **options)
