# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/elasticsearch/security.py (the elasticsearch_secrets module) against an in-memory API.

Secrets are created only when absent, never changed, checked when present, and no password or key
ever appears in a result or message."""
import base64
import copy
import json

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils import tls
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.security import (
    ARGUMENT_SPEC,
    PASSWORD_ALPHABET,
    SecretsError,
    run,
    validate,
)
from tests.fakes import kube as fake

NS = "db"
NAMES = ["es", "*.es-headless.db.svc", "localhost"]


class FakeKube(fake.FakeKube):
    """The Secrets of one namespace, by name."""

    def __init__(self, secrets=None):
        super(FakeKube, self).__init__()
        self.secrets = self.named("/api/v1/namespaces/%s/secrets" % NS)
        self.secrets.update(copy.deepcopy(secrets or {}))

    def value(self, name, key):
        return base64.b64decode(self.secrets[name]["data"][key])


def params(**extra):
    values = {key: spec.get("default") for key, spec in ARGUMENT_SPEC.items()}
    values.update(namespace=NS, credentials_secret="es-credentials", tls_secret="es-certs", ca_secret="es-ca",
                  dns_names=list(NAMES), ip_addresses=["127.0.0.1"], common_name="es",
                  labels={"app.kubernetes.io/instance": "es"})
    values.update(extra)
    return values


def secret(name, values, secret_type="Opaque"):
    return {"metadata": {"name": name, "namespace": NS}, "type": secret_type,
            "data": {k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode() for k, v in values.items()}}


def test_first_run_creates_everything_and_returns_no_secret():
    kube = FakeKube()
    result, warnings = run(kube, params(), check_mode=False)
    assert result["changed"] is True and result["created"] == ["es-credentials", "es-ca", "es-certs"]
    assert warnings == []
    password = kube.value("es-credentials", "password").decode()
    assert len(password) == 24 and set(password) <= set(PASSWORD_ALPHABET)
    assert kube.value("es-credentials", "username") == b"elastic"
    certs = kube.secrets["es-certs"]
    assert certs["type"] == "kubernetes.io/tls" and sorted(certs["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert kube.value("es-certs", "ca.crt") == kube.value("es-ca", "ca.crt")
    assert tls.signed_by(kube.value("es-certs", "tls.crt"), kube.value("es-ca", "ca.crt"))
    assert certs["metadata"]["labels"] == {"app.kubernetes.io/instance": "es", "app.kubernetes.io/component": "tls"}
    assert result["tls"]["dns_names"] == NAMES and result["tls"]["ip_addresses"] == ["127.0.0.1"]
    assert result["tls"]["ca"]["name"] == "es-ca" and result["tls"]["ca"]["created"] is True
    text = json.dumps(result)
    assert password not in text
    for name, key in (("es-certs", "tls.key"), ("es-ca", "ca.key")):
        body = kube.value(name, key).decode().splitlines()[1]
        assert body not in text and kube.secrets[name]["data"][key] not in text


def test_second_run_changes_nothing():
    kube = FakeKube()
    run(kube, params(), check_mode=False)
    before = copy.deepcopy(kube.secrets)
    result, warnings = run(kube, params(), check_mode=False)
    assert result["changed"] is False and result["created"] == [] and warnings == []
    assert kube.secrets == before
    assert not [c for c in kube.calls[-3:] if c[0] == "POST"]
    assert result["credentials"] == {"name": "es-credentials", "created": False, "username": "elastic",
                                     "password_key": "password"}


def test_check_mode_creates_nothing_but_says_what_it_would():
    kube = FakeKube()
    result, _warnings = run(kube, params(), check_mode=True)
    assert result["changed"] is True and result["created"] == ["es-credentials", "es-ca", "es-certs"]
    assert kube.secrets == {}


def test_a_lost_certificate_is_made_again_from_the_kept_ca():
    kube = FakeKube()
    run(kube, params(), check_mode=False)
    ca_before = kube.value("es-ca", "ca.crt")
    del kube.secrets["es-certs"]
    result, _warnings = run(kube, params(), check_mode=False)
    assert result["created"] == ["es-certs"] and kube.value("es-ca", "ca.crt") == ca_before
    assert tls.signed_by(kube.value("es-certs", "tls.crt"), ca_before)


def test_own_secrets_are_only_checked():
    ca_cert, ca_key = tls.generate_ca("mine", 10)
    cert, key = tls.generate_certificate(ca_cert, ca_key, "es", dns_names=["es"])
    kube = FakeKube({"mine": secret("mine", {"pw": "hunter2-hunter2"}),
                     "mine-tls": secret("mine-tls", {"tls.crt": cert, "tls.key": key, "ca.crt": ca_cert})})
    result, warnings = run(kube, params(credentials_secret="mine", generate_credentials=False, password_key="pw",
                                        tls_secret="mine-tls", generate_tls=False), check_mode=False)
    assert result["changed"] is False and set(kube.secrets) == {"mine", "mine-tls"}
    assert result["tls"]["missing_names"] == ["*.es-headless.db.svc", "localhost", "127.0.0.1"]
    assert len(warnings) == 1 and "does not cover *.es-headless.db.svc, localhost, 127.0.0.1" in warnings[0]
    assert "hunter2" not in json.dumps(result)


@pytest.mark.parametrize("secrets, extra, message", [
    ({}, {"generate_credentials": False}, "Secret db/es-credentials not found; create it with the elastic user's password"),
    ({"es-credentials": secret("es-credentials", {"pass": "x"})}, {},
     "Secret db/es-credentials has no key 'password' (keys: pass)"),
    ({}, {"credentials_secret": None, "generate_tls": False}, "Secret db/es-certs not found; create it with keys"),
    ({"es-certs": secret("es-certs", {"tls.crt": "x"})}, {"credentials_secret": None},
     "Secret db/es-certs lacks key(s) tls.key, ca.crt"),
    ({"es-ca": secret("es-ca", {"ca.crt": "x"})}, {"credentials_secret": None},
     "Secret db/es-ca lacks key(s) ca.key"),
])
def test_bad_or_missing_secrets_are_named(secrets, extra, message):
    kube = FakeKube(secrets)
    with pytest.raises(SecretsError) as error:
        run(kube, params(**extra), check_mode=False)
    assert message in str(error.value)
    assert not [c for c in kube.calls if c[0] == "POST"]


def test_certificate_from_another_ca_is_refused():
    ca_cert, ca_key = tls.generate_ca("one", 10)
    other_ca = tls.generate_ca("two", 10)[0]
    cert, key = tls.generate_certificate(ca_cert, ca_key, "es", dns_names=NAMES)
    kube = FakeKube({"es-certs": secret("es-certs", {"tls.crt": cert, "tls.key": key, "ca.crt": other_ca})})
    with pytest.raises(SecretsError, match=r"tls.crt \(issuer CN=one CA\) is not signed by the CA in ca.crt|"
                                           r"is not signed by the CA in ca.crt"):
        run(kube, params(credentials_secret=None), check_mode=False)
    mismatched = FakeKube({"es-certs": secret("es-certs", {"tls.crt": cert, "tls.key": ca_key, "ca.crt": ca_cert})})
    with pytest.raises(SecretsError, match="tls.key does not belong to tls.crt"):
        run(mismatched, params(credentials_secret=None), check_mode=False)


def test_validate_names_the_options():
    problems = validate(params(password_length=8, ca_days=0, ip_addresses=["not-an-ip"], ca_secret=None))
    assert "password_length must be 16-128, got 8" in problems
    assert "ca_days and certificate_days must be at least 1, got 0 and 825" in problems
    assert "ip_addresses entry 'not-an-ip' is not an IP address" in problems
    assert "ca_secret is required when generate_tls is true (the CA is kept there)" in problems
    assert validate(params()) == []
