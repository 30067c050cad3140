# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module, named as kubernetes.core names them.

Values come from module parameters first, then from the K8S_AUTH_* environment variables that
kubernetes.core and AWX's Kubernetes credential type use, then from the kubeconfig or the
in-cluster service account.
"""
import copy
import os

AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "proxy_headers": {"type": "dict", "options": {
        "proxy_basic_auth": {"type": "str", "no_log": True},
        "basic_auth": {"type": "str", "no_log": True},
        "user_agent": {"type": "str"},
    }},
    "persist_config": {"type": "bool"},
    "impersonate_user": {"type": "str"},
    "impersonate_groups": {"type": "list", "elements": "str"},
}

# The second name of each pair is the older spelling that kubernetes.core also reads.
ENV_NAMES = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "username": ("K8S_AUTH_USERNAME",),
    "password": ("K8S_AUTH_PASSWORD",),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "client_cert": ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    "client_key": ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    "proxy": ("K8S_AUTH_PROXY",),
    "no_proxy": ("K8S_AUTH_NO_PROXY",),
    "persist_config": ("K8S_AUTH_PERSIST_CONFIG",),
    "impersonate_user": ("K8S_AUTH_IMPERSONATE_USER",),
    "impersonate_groups": ("K8S_AUTH_IMPERSONATE_GROUPS",),
}

TRUE_WORDS = ("1", "true", "yes", "on", "y")


def auth_arg_spec():
    return copy.deepcopy(AUTH_ARG_SPEC)


def _from_env(option, environ):
    for name in ENV_NAMES.get(option, ()):
        value = environ.get(name)
        if value not in (None, ""):
            if option in ("validate_certs", "persist_config"):
                return value.strip().lower() in TRUE_WORDS
            if option == "impersonate_groups":
                return [group.strip() for group in value.split(",") if group.strip()]
            return value
    return None


def resolve(params, environ=None):
    """The effective connection settings: module parameters, then K8S_AUTH_* variables."""
    environ = os.environ if environ is None else environ
    settings = {}
    for option in AUTH_ARG_SPEC:
        value = params.get(option)
        if value is None:
            value = _from_env(option, environ)
        if value is not None:
            settings[option] = value
    return settings
