# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  port:
    description: The HTTP port of Elasticsearch in the pod.
    type: int
    default: 9200
  scheme:
    description: C(https) (security on, the default of Elasticsearch 8) or C(http).
    type: str
    choices: [https, http]
    default: https
  es_username:
    description: Elasticsearch user, when O(es_credentials_secret) has no username key.
    type: str
    default: elastic
  es_password:
    description: The user's password. Prefer O(es_credentials_secret), which keeps it out of Ansible variables.
    type: str
  es_credentials_secret:
    description: Name of a Secret in O(namespace) holding the password (key O(es_password_key)) and optionally the user (key O(es_username_key)).
    type: str
  es_username_key:
    description: Key of the user name in O(es_credentials_secret).
    type: str
    default: username
  es_password_key:
    description: Key of the password in O(es_credentials_secret).
    type: str
    default: password
  es_ca_cert:
    description: PEM file of the CA that signed the nodes' HTTP certificates. Without it and O(es_ca_secret), the system's CAs.
    type: path
  es_ca_secret:
    description: Name of a Secret in O(namespace) holding the CA certificate (key O(es_ca_secret_key)).
    type: str
  es_ca_secret_key:
    description: Key of the CA certificate in O(es_ca_secret).
    type: str
    default: ca.crt
  es_validate_certs:
    description: Verify the nodes' certificates (chain and name). C(false) accepts any certificate; avoid it.
    type: bool
    default: true
  es_tls_server_name:
    description:
      - The name a node's certificate must carry. Default through port-forward, the pod's DNS name
        C(<pod>.<serviceName>.<namespace>.svc); with C(endpoints), the endpoint's host.
    type: str
  timeout:
    description: Seconds to wait for everything the module does (one deadline).
    type: int
    default: 300
  request_timeout:
    description: Seconds to wait for one answer of one node (server-side waits get the time left instead).
    type: float
    default: 10.0
notes:
  - Mutually exclusive - O(es_password) and O(es_credentials_secret); O(es_ca_cert) and O(es_ca_secret).
  - Node names are expected to be the pod names (C(node.name) set from the pod name, as the
    C(stateful.datastores.elasticsearch) role does).
"""
