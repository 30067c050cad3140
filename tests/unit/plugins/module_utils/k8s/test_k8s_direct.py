# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which connections go without the kubernetes package, and what they are made of."""
import base64

import pytest
import yaml

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.direct import direct_settings


def kubeconfig(tmp_path, user, cluster=None, name="config"):
    cluster = cluster or {"server": "https://127.0.0.1:16443", "certificate-authority": "pki/ca.crt"}
    path = tmp_path / name
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "main",
        "contexts": [{"name": "main", "context": {"cluster": "c", "user": "u"}},
                     {"name": "other", "context": {"cluster": "c2", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": cluster}, {"name": "c2", "cluster": {"server": "https://other:443"}}],
        "users": [{"name": "u", "user": user}]}))
    return str(path)


def test_client_certificate_files_resolve_against_the_kubeconfig_directory(tmp_path):
    path = kubeconfig(tmp_path, {"client-certificate": "pki/admin.crt", "client-key": "/abs/admin.key"})
    found = direct_settings({"kubeconfig": path}, {})
    assert found["server"] == "https://127.0.0.1:16443" and found["verify"] is True
    assert found["ca_file"] == str(tmp_path / "pki" / "ca.crt")
    assert (found["cert_file"], found["key_file"]) == (str(tmp_path / "pki" / "admin.crt"), "/abs/admin.key")
    assert found["headers"] == {}


def test_inline_data_token_file_and_the_chosen_context(tmp_path):
    (tmp_path / "token").write_text("abc\n")
    cluster = {"server": "https://10.0.0.1", "certificate-authority-data": base64.b64encode(b"PEM").decode(),
               "insecure-skip-tls-verify": True}
    path = kubeconfig(tmp_path, {"tokenFile": "token"}, cluster)
    found = direct_settings({"kubeconfig": path}, {})
    assert (found["ca_data"], found["verify"], found["headers"]) == ("PEM", False, {"Authorization": "Bearer abc"})
    assert direct_settings({"kubeconfig": path, "context": "other"}, {})["server"] == "https://other:443"


def test_kubeconfig_comes_from_the_environment_when_not_given(tmp_path):
    path = kubeconfig(tmp_path, {"token": "t"})
    assert direct_settings({}, {"KUBECONFIG": path})["headers"]["Authorization"] == "Bearer t"


def test_awx_variables_need_no_kubeconfig():
    settings = {"host": "https://127.0.0.1:16443", "api_key": "token", "ca_cert": "/runner/ca", "validate_certs": True,
                "impersonate_user": "alice", "impersonate_groups": ["ops"]}
    found = direct_settings(settings, {})
    assert (found["server"], found["ca_file"], found["verify"]) == ("https://127.0.0.1:16443", "/runner/ca", True)
    assert found["headers"] == {"Authorization": "Bearer token", "Impersonate-User": "alice"}
    assert found["impersonate_groups"] == ["ops"]


def test_options_override_the_kubeconfig(tmp_path):
    path = kubeconfig(tmp_path, {"client-certificate-data": base64.b64encode(b"C").decode(),
                                 "client-key-data": base64.b64encode(b"K").decode()})
    found = direct_settings({"kubeconfig": path, "client_cert": "/c", "client_key": "/k", "validate_certs": False}, {})
    assert (found["cert_file"], found["cert_data"], found["key_file"], found["key_data"]) == ("/c", None, "/k", None)
    assert found["verify"] is False


@pytest.mark.parametrize("user, settings, environ", [
    ({"exec": {"command": "gke-gcloud-auth-plugin"}}, {}, {}),
    ({"auth-provider": {"name": "oidc"}}, {}, {}),
    ({"username": "admin", "password": "x"}, {}, {}),
    ({"token": "t"}, {"proxy": "http://proxy:3128"}, {}),
    ({"token": "t"}, {"username": "admin"}, {}),
    ({"token": "t"}, {"proxy_headers": {"user_agent": "x"}}, {}),
])
def test_anything_else_is_left_to_the_kubernetes_package(tmp_path, user, settings, environ):
    path = kubeconfig(tmp_path, user)
    assert direct_settings(dict(settings, kubeconfig=path), environ) is None


def test_in_cluster_several_files_a_dictionary_or_no_file_are_left_to_the_kubernetes_package(tmp_path):
    path = kubeconfig(tmp_path, {"token": "t"})
    assert direct_settings({}, {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}) is None
    assert direct_settings({}, {"KUBECONFIG": path + ":" + path}) is None
    assert direct_settings({"kubeconfig": {"clusters": []}}, {}) is None
    assert direct_settings({"kubeconfig": str(tmp_path / "missing")}, {}) is None
    assert direct_settings({"kubeconfig": path, "context": "absent"}, {}) is None
