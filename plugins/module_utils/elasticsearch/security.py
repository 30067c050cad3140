# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Secrets an Elasticsearch cluster needs, created only when absent and never printed.

- credentials: {username, password}: the password of the built-in ``elastic`` user, random, made here.
- CA: {ca.crt, ca.key}: a private CA that signs the node certificate.
- TLS: type kubernetes.io/tls {tls.crt, tls.key, ca.crt}: one certificate for HTTP and transport,
  with the Services' names, a wildcard for the pods behind the headless Service, localhost and 127.0.0.1.

An existing Secret is never changed (another password or CA would lock running nodes out; delete it
to have a new one made). Existing Secrets, the user's or ours, are checked: required keys, a certificate
signed by the CA in it, a key that belongs to the certificate, not expired, and which of the wanted
names it lacks. Results carry names, fingerprints and dates, never a password or a key.
"""

import base64
import secrets
import string

from ansible_collections.stateful.datastores.plugins.module_utils import tls
from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import collection_path, object_path

PASSWORD_ALPHABET = string.ascii_letters + string.digits
TLS_KEYS = ("tls.crt", "tls.key", "ca.crt")
CA_KEYS = ("ca.crt", "ca.key")

ARGUMENT_SPEC = {
    "namespace": {"type": "str", "required": True},
    "labels": {"type": "dict", "default": {}},
    "credentials_secret": {"type": "str", "no_log": False},
    "generate_credentials": {"type": "bool", "default": True},
    # Not "username": that is a Kubernetes connection option (k8s_auth.AUTH_ARG_SPEC) of every module.
    "es_username": {"type": "str", "default": "elastic"},
    "password_length": {"type": "int", "default": 24, "no_log": False},
    "password_key": {"type": "str", "default": "password", "no_log": False},
    "tls_secret": {"type": "str", "no_log": False},
    "generate_tls": {"type": "bool", "default": True},
    "ca_secret": {"type": "str", "no_log": False},
    "dns_names": {"type": "list", "elements": "str", "default": []},
    "ip_addresses": {"type": "list", "elements": "str", "default": []},
    "common_name": {"type": "str"},
    "organization": {"type": "str", "default": "stateful-datastores"},
    "ca_days": {"type": "int", "default": 3650},
    "certificate_days": {"type": "int", "default": 825},
}
REQUIRED_ONE_OF = [("credentials_secret", "tls_secret")]


class SecretsError(DatastoresError):
    """A Secret could not be read, made or stored; ``result`` has what was done before."""


def validate(params):
    problems = []
    if not 16 <= params["password_length"] <= 128:
        problems.append("password_length must be 16-128, got %d" % params["password_length"])
    if params["ca_days"] < 1 or params["certificate_days"] < 1:
        problems.append("ca_days and certificate_days must be at least 1, got %d and %d" % (
            params["ca_days"], params["certificate_days"]))
    if params.get("tls_secret") and params["generate_tls"] and not params.get("ca_secret"):
        problems.append("ca_secret is required when generate_tls is true (the CA is kept there)")
    if params.get("tls_secret") and params["generate_tls"] and not (params["dns_names"] or params["ip_addresses"]):
        problems.append("dns_names or ip_addresses are required when generate_tls is true")
    import ipaddress

    for address in params["ip_addresses"]:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            problems.append("ip_addresses entry %r is not an IP address" % address)
    return problems


def new_password(length):
    return "".join(secrets.choice(PASSWORD_ALPHABET) for dummy in range(length))


def _decoded(secret, key):
    return base64.b64decode((secret.get("data") or {})[key])


def _encoded(values):
    return {key: base64.b64encode(value if isinstance(value, bytes) else value.encode("utf-8")).decode("ascii")
            for key, value in values.items()}


class Manager:
    """Reads and creates the Secrets of one namespace."""

    def __init__(self, kube, params, check_mode):
        self.kube, self.params, self.check_mode = kube, params, check_mode
        self.namespace = params["namespace"]
        self.created = []
        self.warnings = []

    def where(self, name):
        return "Secret %s/%s" % (self.namespace, name)

    def read(self, name):
        return self.kube.get(object_path("Secret", self.namespace, name), missing_ok=True)

    def create(self, name, values, secret_type="Opaque", component=None):
        """POST the Secret; in check mode only note it. A Secret made meanwhile by someone else wins."""
        self.created.append(name)
        if self.check_mode:
            return None
        labels = dict(self.params["labels"])
        if component:
            labels["app.kubernetes.io/component"] = component
        body = {"apiVersion": "v1", "kind": "Secret", "type": secret_type,
                "metadata": {"name": name, "namespace": self.namespace, "labels": labels},
                "data": _encoded(values)}
        from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

        try:
            return self.kube.request("POST", collection_path("Secret", self.namespace), body=body)
        except KubeError as error:
            if error.status == 409:
                self.created.remove(name)
                return self.read(name)
            raise

    def missing_keys(self, secret, keys):
        data = secret.get("data") or {}
        return [key for key in keys if key not in data]

    # ------------------------------------------------------------------ credentials
    def credentials(self):
        name = self.params["credentials_secret"]
        key = self.params["password_key"]
        secret = self.read(name)
        if secret is None:
            if not self.params["generate_credentials"]:
                raise SecretsError("%s not found; create it with the elastic user's password under key %r, or let "
                                   "it be generated" % (self.where(name), key))
            self.create(name, {"username": self.params["es_username"],
                               key: new_password(self.params["password_length"])}, component="credentials")
            return {"name": name, "created": True, "username": self.params["es_username"], "password_key": key}
        missing = self.missing_keys(secret, [key])
        if missing:
            raise SecretsError("%s has no key %r (keys: %s); add the password under that key" % (
                self.where(name), key, ", ".join(sorted(secret.get("data") or {})) or "none"))
        username = self.params["es_username"]
        if "username" in (secret.get("data") or {}):
            username = _decoded(secret, "username").decode("utf-8")
        return {"name": name, "created": False, "username": username, "password_key": key}

    # ------------------------------------------------------------------ TLS
    def tls(self):
        name = self.params["tls_secret"]
        secret = self.read(name)
        ca_info = None
        if secret is None:
            if not self.params["generate_tls"]:
                raise SecretsError("%s not found; create it with keys %s (for example with cert-manager), or let it "
                                   "be generated" % (self.where(name), ", ".join(TLS_KEYS)))
            ca_pem, ca_key_pem, ca_info = self.ca()
            if ca_pem is None:  # check mode, CA not made yet
                self.create(name, {}, "kubernetes.io/tls", component="tls")
                return {"name": name, "created": True, "dns_names": self.params["dns_names"],
                        "ip_addresses": self.params["ip_addresses"], "missing_names": [], "ca": ca_info}
            cert_pem, key_pem = tls.generate_certificate(
                ca_pem, ca_key_pem, self.params["common_name"] or self.params["dns_names"][0],
                dns_names=self.params["dns_names"], ip_addresses=self.params["ip_addresses"],
                days=self.params["certificate_days"], organization=self.params["organization"], unit=self.namespace)
            self.create(name, {"tls.crt": cert_pem, "tls.key": key_pem, "ca.crt": ca_pem}, "kubernetes.io/tls",
                        component="tls")
            info = self.check_certificate(name, cert_pem, key_pem, ca_pem)
            info.update(created=True, ca=ca_info)
            return info
        missing = self.missing_keys(secret, TLS_KEYS)
        if missing:
            raise SecretsError("%s lacks key(s) %s; it needs %s (PEM: the node certificate, its key, the CA)" % (
                self.where(name), ", ".join(missing), ", ".join(TLS_KEYS)))
        info = self.check_certificate(name, _decoded(secret, "tls.crt"), _decoded(secret, "tls.key"),
                                      _decoded(secret, "ca.crt"))
        if self.params.get("ca_secret"):
            ca_secret = self.read(self.params["ca_secret"])
            if ca_secret is not None and not self.missing_keys(ca_secret, CA_KEYS):
                ca_info = tls.describe(_decoded(ca_secret, "ca.crt"), "ca.crt of " + self.where(self.params["ca_secret"]))
                ca_info.update(name=self.params["ca_secret"], created=False)
        info.update(created=False, ca=ca_info)
        return info

    def ca(self):
        """(ca.crt, ca.key, facts) from the CA Secret, made first when absent; (None, None, facts) in check mode."""
        name = self.params["ca_secret"]
        secret = self.read(name)
        if secret is None:
            cert_pem, key_pem = tls.generate_ca("%s CA" % (self.params["common_name"] or self.namespace),
                                                self.params["ca_days"], organization=self.params["organization"],
                                                unit=self.namespace)
            self.create(name, {"ca.crt": cert_pem, "ca.key": key_pem}, component="ca")
            info = tls.describe(cert_pem, "the new CA")
            info.update(name=name, created=True)
            return (None, None, info) if self.check_mode else (cert_pem, key_pem, info)
        missing = self.missing_keys(secret, CA_KEYS)
        if missing:
            raise SecretsError("%s lacks key(s) %s; it needs ca.crt and ca.key (PEM) to sign the node certificate" % (
                self.where(name), ", ".join(missing)))
        cert_pem, key_pem = _decoded(secret, "ca.crt"), _decoded(secret, "ca.key")
        try:
            if not tls.key_matches(cert_pem, key_pem):
                raise SecretsError("%s: ca.key does not belong to ca.crt" % self.where(name))
        except tls.TlsError as error:
            raise SecretsError("%s: %s" % (self.where(name), error))
        info = tls.describe(cert_pem, "ca.crt of " + self.where(name))
        info.update(name=name, created=False)
        return cert_pem, key_pem, info

    def check_certificate(self, name, cert_pem, key_pem, ca_pem):
        where = self.where(name)
        try:
            info = tls.describe(cert_pem, "tls.crt of " + where)
            if not tls.key_matches(cert_pem, key_pem):
                raise SecretsError("%s: tls.key does not belong to tls.crt" % where)
            if not tls.signed_by(cert_pem, ca_pem):
                raise SecretsError("%s: tls.crt (issuer %s) is not signed by the CA in ca.crt (%s)" % (
                    where, info["issuer"], tls.describe(ca_pem, "ca.crt of " + where)["subject"]))
        except tls.TlsError as error:
            raise SecretsError("%s: %s" % (where, error))
        if info["expired"]:
            raise SecretsError("%s: tls.crt expired on %s; delete the Secret to have a new one made, or renew it" % (
                where, info["not_after"]))
        missing = [n for n in self.params["dns_names"] if not tls.name_covered(n, info["dns_names"])]
        missing += [a for a in self.params["ip_addresses"] if a not in info["ip_addresses"]]
        if missing:
            self.warnings.append("%s: the certificate does not cover %s; clients that check those names will refuse "
                                 "it" % (where, ", ".join(missing)))
        info.update(name=name, missing_names=missing)
        return info


def run(kube, params, check_mode):
    """Returns (the module result: changed, created, credentials, tls; warnings for the user)."""
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

    if not tls.HAS_CRYPTOGRAPHY and params.get("tls_secret"):
        raise SecretsError("the Python library cryptography is required (it comes with ansible-core): %s"
                           % tls.CRYPTOGRAPHY_IMPORT_ERROR)
    manager = Manager(kube, params, check_mode)
    result = {"credentials": None, "tls": None}
    try:
        if params.get("credentials_secret"):
            result["credentials"] = manager.credentials()
        if params.get("tls_secret"):
            result["tls"] = manager.tls()
    except (SecretsError, KubeError) as error:
        raise SecretsError(str(error), dict(result, created=manager.created, changed=bool(manager.created)))
    result.update(changed=bool(manager.created), created=list(manager.created))
    return result, manager.warnings
