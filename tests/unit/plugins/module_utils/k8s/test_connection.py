# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeConnection: one client per caller, built on first use from the connection options alone, failures in words."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import connection
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError


def test_the_client_is_built_once_from_the_connection_options_with_the_retry_deadline(monkeypatch):
    built = []
    monkeypatch.setattr(connection, "require_kubernetes", lambda: None)
    monkeypatch.setattr(connection, "Kube", lambda params, retry_deadline: built.append((params, retry_deadline)) or 1)
    kube = connection.KubeConnection({"context": "kind", "namespace": "db"})
    assert kube.kube(retry_deadline=5) == 1 and kube.kube() == 1
    assert len(built) == 1 and built[0][1] == 5
    assert built[0][0]["context"] == "kind" and "namespace" not in built[0][0]


def test_a_kube_error_names_the_callers_variables_and_other_errors_are_their_message():
    kube = connection.KubeConnection({}, variables="atomix_kubeconfig")
    assert "atomix_kubeconfig" in kube.describe(KubeError("Unauthorized", 401))
    assert kube.describe(ValueError("bad selector")) == "bad selector"
