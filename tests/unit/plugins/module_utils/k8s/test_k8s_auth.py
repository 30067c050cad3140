# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import AUTH_ARG_SPEC, resolve


def test_parameters_win_over_environment():
    settings = resolve({"host": "https://a:6443"}, {"K8S_AUTH_HOST": "https://b:6443"})
    assert settings["host"] == "https://a:6443"


def test_awx_kubernetes_credential_variables_are_read():
    environ = {"K8S_AUTH_HOST": "https://api:6443", "K8S_AUTH_API_KEY": "token", "K8S_AUTH_VERIFY_SSL": "False",
               "K8S_AUTH_SSL_CA_CERT": "/tmp/ca.crt"}
    settings = resolve({}, environ)
    assert settings == {"host": "https://api:6443", "api_key": "token", "validate_certs": False,
                        "ca_cert": "/tmp/ca.crt"}


def test_new_spellings_and_lists():
    settings = resolve({}, {"K8S_AUTH_VALIDATE_CERTS": "yes", "K8S_AUTH_IMPERSONATE_GROUPS": "a, b",
                            "K8S_AUTH_CLIENT_CERT": "/c", "K8S_AUTH_KEY_FILE": "/k"})
    assert settings == {"validate_certs": True, "impersonate_groups": ["a", "b"], "client_cert": "/c",
                        "client_key": "/k"}


def test_empty_environment_values_are_ignored():
    assert resolve({}, {"K8S_AUTH_HOST": "", "K8S_AUTH_CONTEXT": "kind"}) == {"context": "kind"}


def test_secrets_are_marked_no_log():
    assert AUTH_ARG_SPEC["api_key"]["no_log"] and AUTH_ARG_SPEC["password"]["no_log"]
