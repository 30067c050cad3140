#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: elasticsearch_secrets
short_description: Create the elastic password and the TLS certificates of an Elasticsearch cluster when absent
version_added: 0.1.0
description:
  - Makes sure the Secrets an Elasticsearch cluster with security on needs exist in a namespace, and creates
    the ones that do not, with values made inside the module (never passed through Ansible variables).
  - The credentials Secret holds C(username) (C(elastic)) and a random password (letters and digits).
  - The TLS Secret (type C(kubernetes.io/tls)) holds C(tls.crt), C(tls.key) and C(ca.crt), one certificate
    for HTTP and transport, signed by a private CA kept in the CA Secret (C(ca.crt), C(ca.key)), made first
    when absent. Keys are RSA 2048 in PKCS#8 PEM; the certificate is good for server and client authentication.
  - Existing Secrets are never changed, only checked (required keys; for TLS a certificate signed by the CA
    in C(ca.crt), a key that belongs to it, not expired). Names the certificate should carry but does not are
    returned and warned about. To replace a Secret, delete it and run again.
  - The result and messages carry names, fingerprints and dates; never a password or a private key.
  - Uses the Python library C(cryptography), which ansible-core depends on; community.crypto is not needed.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reports which Secrets would be created, without creating them.
  diff_mode:
    support: none
    description: Nothing to compare; the result says what was found or done.
options:
  namespace:
    description: Namespace of the Secrets. It must exist.
    type: str
    required: true
  labels:
    description: Labels of the Secrets created (C(app.kubernetes.io/component) is set per Secret).
    type: dict
    default: {}
  credentials_secret:
    description: Name of the Secret with the C(elastic) user's password.
    type: str
  generate_credentials:
    description: Create O(credentials_secret) when absent. C(false) - it must exist (a Secret of your own).
    type: bool
    default: true
  es_username:
    description:
      - The Elasticsearch user name stored in a new credentials Secret (the built-in superuser).
      - Not O(username), which is the Kubernetes connection's basic-auth user like in every module.
    type: str
    default: elastic
  password_length:
    description: Length of a generated password, 16 to 128.
    type: int
    default: 24
  password_key:
    description: Key of the password in O(credentials_secret).
    type: str
    default: password
  tls_secret:
    description: Name of the Secret with C(tls.crt), C(tls.key) and C(ca.crt).
    type: str
  generate_tls:
    description: Create O(tls_secret) (and O(ca_secret)) when absent. C(false) - it must exist (for example from cert-manager).
    type: bool
    default: true
  ca_secret:
    description: Name of the Secret with the CA (C(ca.crt), C(ca.key)) that signs a generated certificate.
    type: str
  dns_names:
    description: DNS names of a generated certificate; C(*.headless.ns.svc) covers every pod behind a headless Service.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP addresses of a generated certificate, such as C(127.0.0.1) for probes inside the pod.
    type: list
    elements: str
    default: []
  common_name:
    description: Common name of a generated certificate (default the first of O(dns_names)) and of the CA.
    type: str
  organization:
    description: Organization in the subjects of the generated CA and certificate.
    type: str
    default: stateful-datastores
  ca_days:
    description: Validity of a generated CA in days.
    type: int
    default: 3650
  certificate_days:
    description: Validity of a generated certificate in days (at most until the CA expires).
    type: int
    default: 825
notes:
  - At least one of O(credentials_secret) and O(tls_secret) is required.
  - Needs C(get) and C(create) on C(secrets) in the namespace.
seealso:
  - module: stateful.datastores.elasticsearch_health
"""

EXAMPLES = r"""
- name: Password and certificates for StatefulSet elasticsearch behind headless Service elasticsearch-headless
  stateful.datastores.elasticsearch_secrets:
    namespace: elasticsearch
    credentials_secret: elasticsearch-credentials
    ca_secret: elasticsearch-ca
    tls_secret: elasticsearch-certs
    dns_names:
      - elasticsearch
      - elasticsearch.elasticsearch.svc
      - "*.elasticsearch-headless.elasticsearch.svc"
      - localhost
    ip_addresses: [127.0.0.1]
  register: secrets

- name: Certificates made by cert-manager, password of your own; only checked
  stateful.datastores.elasticsearch_secrets:
    namespace: search
    credentials_secret: my-elastic-password
    generate_credentials: false
    tls_secret: search-tls
    generate_tls: false
"""

RETURN = r"""
created:
  description: Names of the Secrets created (in check mode, that would be created).
  type: list
  elements: str
  returned: always
credentials:
  description: The credentials Secret - name, created, username, password_key. Never the password.
  type: dict
  returned: when credentials_secret is given
tls:
  description:
    - The TLS Secret - name, created, subject, issuer, dns_names, ip_addresses, not_before, not_after,
      fingerprint_sha256, missing_names (wanted names the certificate lacks), and ca (the CA Secret's name,
      subject, not_after, fingerprint_sha256, created).
    - In check mode, for a Secret not made yet, only name, created, dns_names and ip_addresses.
  type: dict
  returned: when tls_secret is given
"""

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.security import (
    ARGUMENT_SPEC,
    REQUIRED_ONE_OF,
    run,
    validate,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def _make_secrets(task):
    result, warnings = run(task.kube(), task.params, task.check_mode)
    return dict(result, warnings=warnings)


def main():
    spec = auth_arg_spec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, _make_secrets, validate=validate, required_one_of=REQUIRED_ONE_OF, supports_check_mode=True)


if __name__ == "__main__":
    main()
