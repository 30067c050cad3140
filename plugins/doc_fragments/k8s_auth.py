# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig as a dictionary.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then to the in-cluster service account, then to C(~/.kube/config).
    type: raw
  context:
    description: The kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description: URL of the API server. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token for the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  username:
    description: Username for basic authentication. Falls back to E(K8S_AUTH_USERNAME).
    type: str
  password:
    description: Password for basic authentication. Falls back to E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - Falls back to E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - CA certificate that signed the API server's certificate.
      - Falls back to E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description: Client certificate file. Falls back to E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description: Client key file. Falls back to E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description: HTTP proxy URL for API requests. Falls back to E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description: Comma-separated hosts that bypass the proxy. Falls back to E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description: Headers for the proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description: Colon-separated username and password for the proxy.
        type: str
      basic_auth:
        description: Colon-separated username and password for basic authentication.
        type: str
      user_agent:
        description: User agent string.
        type: str
  persist_config:
    description: Whether refreshed kubeconfig tokens are written back to the file. Falls back to E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description: User to act as. Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description: Groups to act as. Falls back to E(K8S_AUTH_IMPERSONATE_GROUPS) (comma-separated).
    type: list
    elements: str
notes:
  - The connection options carry the names that M(kubernetes.core.k8s) uses, so one C(module_defaults) group sets both.
requirements:
  - kubernetes >= 24.2.0 (Python library)
"""
