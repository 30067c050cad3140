# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/tls.py: the CA and certificates the elasticsearch_secrets module makes, checked with
the `cryptography` library and by a real TLS handshake (Python's ssl module) against a server on 127.0.0.1."""
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.stateful.datastores.plugins.module_utils import tls

POD_NAMES = ["*.es-headless.db.svc", "es.db.svc", "localhost"]


@pytest.fixture(scope="module")
def ca():
    return tls.generate_ca("db CA", 30, organization="stateful-datastores", unit="db")


@pytest.fixture(scope="module")
def node(ca):
    return tls.generate_certificate(ca[0], ca[1], "es", dns_names=POD_NAMES, ip_addresses=["127.0.0.1"], days=10,
                                    organization="stateful-datastores", unit="db")


def test_ca_is_a_ca_and_key_is_pkcs8(ca):
    info = tls.describe(ca[0])
    assert info["is_ca"] is True and info["subject"] == info["issuer"] == "CN=db CA,OU=db,O=stateful-datastores"
    assert ca[1].startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, what OpenSearch and Elasticsearch read
    assert tls.key_matches(ca[0], ca[1])


def test_certificate_names_usage_and_signature(ca, node):
    info = tls.describe(node[0])
    assert info["subject"] == "CN=es,OU=db,O=stateful-datastores" and info["is_ca"] is False
    assert info["dns_names"] == POD_NAMES and info["ip_addresses"] == ["127.0.0.1"]
    cert = x509.load_pem_x509_certificate(node[0])
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert tls.signed_by(node[0], ca[0]) and tls.key_matches(node[0], node[1])
    other_ca = tls.generate_ca("other", 1)
    assert not tls.signed_by(node[0], other_ca[0])
    assert not tls.key_matches(node[0], other_ca[1])


def test_certificate_never_outlives_its_ca():
    short_ca = tls.generate_ca("short", 2)
    cert, _key = tls.generate_certificate(short_ca[0], short_ca[1], "n", dns_names=["n"], days=825)
    assert tls.describe(cert)["not_after"] == tls.describe(short_ca[0])["not_after"]


def test_wrong_ca_key_is_refused(ca):
    other = tls.generate_ca("other", 1)
    with pytest.raises(tls.TlsError, match="does not belong"):
        tls.generate_certificate(ca[0], other[1], "x", dns_names=["x"])


def test_garbage_is_named_not_echoed():
    with pytest.raises(tls.TlsError, match="the CA certificate is not a PEM certificate"):
        tls.generate_certificate(b"not a cert", b"secret-key-material", "x", dns_names=["x"])
    with pytest.raises(tls.TlsError) as error:
        tls.key_matches(tls.generate_ca("c", 1)[0], b"secret-key-material")
    assert "secret-key-material" not in str(error.value)


@pytest.mark.parametrize("name, covered", [
    ("es-0.es-headless.db.svc", True),
    ("ES-2.es-headless.db.svc.", True),
    ("a.b.es-headless.db.svc", False),  # a wildcard covers one label only
    ("es-headless.db.svc", False),
    ("es.db.svc", True),
    ("localhost", True),
    ("es.other.svc", False),
])
def test_name_covered(name, covered):
    assert tls.name_covered(name, POD_NAMES) is covered


def test_real_handshake_checks_the_pod_name(ca, node, tmp_path):
    """A TLS server on 127.0.0.1 with the generated certificate; the client checks the pod's DNS name."""
    (tmp_path / "cert.pem").write_bytes(node[0])
    (tmp_path / "key.pem").write_bytes(node[1])
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve():
        for dummy in range(2):
            conn = listener.accept()[0]
            try:
                with server_context.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context(cadata=ca[0].decode())
    with socket.create_connection(("127.0.0.1", port)) as sock:
        with client.wrap_socket(sock, server_hostname="es-1.es-headless.db.svc") as tls_conn:
            assert tls_conn.getpeercert()["subject"][-1] == (("commonName", "es"),)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            client.wrap_socket(sock, server_hostname="es-1.elsewhere.db.svc")
    listener.close()
    thread.join(timeout=5)
    key = serialization.load_pem_private_key(node[1], None)
    assert key.key_size == tls.KEY_BITS
