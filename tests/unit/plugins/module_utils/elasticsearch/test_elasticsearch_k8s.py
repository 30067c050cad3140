# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/elasticsearch/k8s.py: TLS checked against the pod's DNS name while connecting to
127.0.0.1 (as through a port-forward), credentials and CA from Secrets, option validation.

The HTTPS server here is Python's own, on 127.0.0.1, with a certificate made by module_utils/tls.py."""
import base64
import http.server
import json
import ssl
import threading

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils import tls
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
    ElasticsearchClient,
    ElasticsearchError,
)
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import (
    CONNECTION_SPEC,
    EsK8sError,
    Transport,
    credentials,
    ssl_context,
    validate_connection,
)
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.rolling import ROLLING_SPEC

POD_DNS = "es-0.es-headless.db.svc"
PASSWORD = "not-in-any-message-7"


@pytest.fixture(scope="module")
def pki():
    ca = tls.generate_ca("db CA", 1)
    node = tls.generate_certificate(ca[0], ca[1], "es", dns_names=["*.es-headless.db.svc"], days=1)
    return ca, node


@pytest.fixture(scope="module")
def server(pki, tmp_path_factory):
    """An HTTPS server on 127.0.0.1 answering GET / like an Elasticsearch node; records the Host header and SNI."""
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen["authorization"] = self.headers.get("Authorization")
            body = json.dumps({"name": "es-0", "cluster_name": "es", "cluster_uuid": "u1",
                               "version": {"number": "8.19.21"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(pki[1][0])
    (directory / "key.pem").write_bytes(pki[1][1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(directory / "cert.pem"), str(directory / "key.pem"))
    context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


def client(port, context, server_name):
    transport = Transport("https", "127.0.0.1", port, context, server_name=server_name,
                          where="port-forward to pod db/es-0 port 9200")
    return ElasticsearchClient("https://%s:9200" % POD_DNS, username="elastic", password=PASSWORD, timeout=5,
                               transport=transport)


def test_pod_name_is_checked_while_connecting_to_loopback(pki, server):
    port, seen = server
    context = ssl.create_default_context(cadata=pki[0][0].decode())
    info = client(port, context, POD_DNS).info()
    assert info["cluster_uuid"] == "u1" and seen["sni"] == POD_DNS
    assert base64.b64decode(seen["authorization"].split()[1]) == ("elastic:" + PASSWORD).encode()


def test_wrong_name_or_ca_is_refused_with_advice(pki, server):
    port, _seen = server
    context = ssl.create_default_context(cadata=pki[0][0].decode())
    with pytest.raises(ElasticsearchError) as error:
        client(port, context, "es-0.other.db.svc").info()
    message = str(error.value)
    assert message.startswith("GET https://%s:9200/: TLS certificate of port-forward to pod db/es-0 port 9200 "
                              "rejected" % POD_DNS)
    assert "checked name 'es-0.other.db.svc'" in message and "es_tls_server_name" in message
    assert PASSWORD not in message
    other_ca = ssl.create_default_context(cadata=tls.generate_ca("other", 1)[0].decode())
    with pytest.raises(ElasticsearchError, match="certificate verify failed|unable to get local issuer"):
        client(port, other_ca, POD_DNS).info()


class SecretKube:
    def __init__(self, secrets):
        self.secrets = secrets

    def get(self, path, query=None, missing_ok=False):
        name = path.rsplit("/", 1)[1]
        if name not in self.secrets:
            return None
        return dict(self.secrets[name], metadata={"name": name, "namespace": path.split("/")[4]})


def encoded(values):
    return {"data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}


def params(**extra):
    values = {key: spec.get("default") for key, spec in CONNECTION_SPEC.items()}
    values.update(namespace="db", name="es")
    values.update(extra)
    return values


def test_credentials_from_a_secret_or_options():
    kube = SecretKube({"creds": encoded({"username": "admin", "password": PASSWORD}),
                       "only-pw": encoded({"pw": PASSWORD})})
    assert credentials(kube, params(es_credentials_secret="creds")) == ("admin", PASSWORD)
    assert credentials(kube, params(es_credentials_secret="only-pw", es_password_key="pw")) == ("elastic", PASSWORD)
    assert credentials(None, params(es_password="x", es_username="u")) == ("u", "x")
    with pytest.raises(EsK8sError, match=r"Secret db/only-pw has no key 'password' \(keys: pw\)"):
        credentials(kube, params(es_credentials_secret="only-pw"))
    with pytest.raises(EsK8sError, match="Secret db/nothing not found"):
        credentials(kube, params(es_credentials_secret="nothing"))


def test_ca_from_a_secret(pki):
    kube = SecretKube({"certs": encoded({"ca.crt": pki[0][0].decode()}), "bad": encoded({"ca.crt": "junk"})})
    context = ssl_context(kube, params(es_ca_secret="certs"))
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1
    with pytest.raises(EsK8sError, match=r"key 'ca.crt' of Secret db/bad is not a PEM CA certificate"):
        ssl_context(kube, params(es_ca_secret="bad"))
    assert ssl_context(kube, params(scheme="http")) is None
    assert ssl_context(kube, params(es_validate_certs=False)).verify_mode == ssl.CERT_NONE


@pytest.mark.parametrize("extra, message", [
    ({"namespace": None}, "namespace is required with name, es_credentials_secret or es_ca_secret"),
    ({"name": None, "endpoints": ["es-0:9200"]}, "endpoints entry 'es-0:9200' is not a URL"),
    ({"name": None, "endpoints": []}, "endpoints must list at least one URL"),
    ({"port": 70000}, "port must be 1-65535, got 70000"),
    ({"request_timeout": 0}, "request_timeout must be more than 0 seconds"),
])
def test_validate_connection(extra, message):
    problems = validate_connection(params(**extra))
    assert any(message in p for p in problems), problems


def test_secret_options_are_no_log_and_keys_are_not():
    assert CONNECTION_SPEC["es_password"]["no_log"] is True
    assert CONNECTION_SPEC["es_password_key"]["no_log"] is False
    assert ROLLING_SPEC["es_credentials_secret"] == CONNECTION_SPEC["es_credentials_secret"]
