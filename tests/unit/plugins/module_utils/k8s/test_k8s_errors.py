# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One translation of Kubernetes failures: what failed, which credential or variable, what to do."""
import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import Kube, KubeError, _api_error
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.errors import ConfigurationError, credential, explain

PARAMS = {"kubeconfig": "/home/me/.kube/prod", "context": "admin@prod"}
VARIABLES = "hazelcast_kubeconfig and hazelcast_context"


def test_unreachable_names_the_address_the_cause_the_credential_and_the_variable():
    error = KubeError("GET /version: cannot reach the API server at https://127.0.0.1:9: "
                      "NewConnectionError: [Errno 111] Connection refused", host="https://127.0.0.1:9")
    message = explain(error, PARAMS, VARIABLES, environ={}, retried=30)
    assert "https://127.0.0.1:9" in message and "connection refused" in message
    assert "retried for 30s" in message
    assert "kubeconfig /home/me/.kube/prod, context admin@prod" in message and VARIABLES in message


def test_401_says_which_credential_and_never_prints_the_token_or_headers():
    error = _api_error("GET", "/version", 401, "Unauthorized", b'{"message": "Unauthorized"}',
                       {"Audit-Id": "abc", "Www-Authenticate": "Bearer"})
    message = explain(error, {"host": "https://k:6443", "api_key": "s3cret-token"}, VARIABLES, environ={})
    assert "401 Unauthorized" in message and "the token given as api_key" in message and VARIABLES in message
    assert "s3cret-token" not in message and "Audit-Id" not in message


def test_403_keeps_the_servers_words_and_points_at_the_rbac_document():
    error = _api_error("GET", "/api/v1/namespaces/x", 403, "Forbidden",
                       b'{"message": "namespaces \\"x\\" is forbidden: User \\"dev\\" cannot get resource"}', {})
    message = explain(error, PARAMS, VARIABLES, environ={})
    assert 'User "dev" cannot get resource' in message and "docs/rbac/deployer.yaml" in message


def test_missing_kubeconfig_file_is_named(tmp_path):
    absent = str(tmp_path / "absent")
    message = explain(ConfigurationError("Invalid kube-config file. No configuration found."),
                      {"kubeconfig": absent}, VARIABLES, environ={})
    assert "the file {} does not exist".format(absent) in message and VARIABLES in message


def test_without_options_the_default_kubeconfig_is_named():
    assert credential({}, {"KUBECONFIG": "/tmp/k"}) == "kubeconfig /tmp/k"
    assert "~/.kube/config" in credential({}, {})


def test_long_server_text_is_clipped_to_one_line():
    error = KubeError("GET /x: " + "word\n" * 500, status=422)
    message = explain(error, PARAMS, environ={})
    assert "\n" not in message and len(message) < 400


@pytest.mark.parametrize("text", ["failed to convert new object (default/bad; /v1, Kind=Pod) to proper version: "
                                  "quantities must match the regular expression",
                                  "failed to create typed patch object (x): .spec: expected map"])
def test_a_500_that_is_the_object_itself_is_not_retried(text):
    error = KubeError("PATCH /api/v1/x: {} (500)".format(text), status=500)
    assert Kube._retry_wait(error, 1) is None


def test_other_500s_are_retried():
    assert Kube._retry_wait(KubeError("etcdserver: leader changed (500)", status=500), 1) is not None


class ScriptedKube(object):
    """Answers GET by path from a table; a KubeError in the table is raised."""

    def __init__(self, answers):
        self.answers = answers

    def request(self, method, path, query=None, **kwargs):
        answer = self.answers.get(path, KubeError("not found", status=404))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, path, query=None, missing_ok=False):
        try:
            return self.request("GET", path)
        except KubeError as error:
            if missing_ok and error.status == 404:
                return None
            raise


def test_preflight_collects_every_problem_and_skips_what_it_may_not_read():
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.preflight import PreflightError, check

    kube = ScriptedKube({"/version": {"gitVersion": "v1.34.4"},
                         "/apis/apps/v1/namespaces/ns/deployments/hz": {"kind": "Deployment"},
                         "/api/v1/nodes/n2": KubeError("forbidden", status=403)})
    params = {"namespace": {"name": "ns", "variable": "x_namespace", "create": False, "create_variable": "x_create"},
              "present": [{"kind": "Node", "name": "n1", "msg": "n1 missing"},
                          {"kind": "Node", "name": "n2", "msg": "n2 missing"}],
              "absent": [{"kind": "Deployment", "name": "hz", "msg": "hz is a Deployment"}]}
    with pytest.raises(PreflightError) as raised:
        check(kube, params)
    assert raised.value.result["problems"] == [
        "namespace ns (x_namespace) does not exist and x_create is false: create it first (kubectl create "
        "namespace ns), set x_create: true, or set x_namespace to an existing namespace",
        "n1 missing", "hz is a Deployment"]
    assert raised.value.result["warnings"] == ["could not check Node n2 (403 Forbidden), skipped: n2 missing"]
