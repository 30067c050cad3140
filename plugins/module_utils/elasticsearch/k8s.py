# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes glue for the Elasticsearch modules: pods, port-forward tunnels, credentials, TLS.

The cluster logic lives in client.py (ElasticsearchClient, check_health); the pods of the StatefulSet
and the port-forwards to them come from k8s/members.py. This file gives an ElasticsearchClient per
pod whose requests go through its port-forward (or one per endpoint), with credentials and TLS.

TLS through a port-forward: the connection goes to 127.0.0.1, but the certificate is checked
against the pod's own DNS name, ``<pod>.<serviceName>.<namespace>.svc`` (sent as SNI and used for
the host name check), and its chain against the CA given (a file or a key of a Secret). So the
check is as strict as from inside the cluster; es_tls_server_name names another host instead.
Passwords come from a Secret by reference (or a no_log option) and never appear in a result or
message: ElasticsearchClient redacts them.
"""

import base64
import contextlib
import http.client
import re
import socket
import ssl

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
    DEFAULT_PORT,
    ElasticsearchClient,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import members
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.members import members_running, statefulset_pods
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import object_path

REVISION_LABEL = "controller-revision-hash"

# Options every Elasticsearch module shares (besides the Kubernetes connection options).
CONNECTION_SPEC = {
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "endpoints": {"type": "list", "elements": "str"},
    "port": {"type": "int", "default": DEFAULT_PORT},
    "scheme": {"type": "str", "default": "https", "choices": ["https", "http"]},
    "es_username": {"type": "str", "default": "elastic"},
    "es_password": {"type": "str", "no_log": True},
    "es_credentials_secret": {"type": "str", "no_log": False},
    "es_username_key": {"type": "str", "default": "username", "no_log": False},
    "es_password_key": {"type": "str", "default": "password", "no_log": False},
    "es_ca_cert": {"type": "path"},
    "es_ca_secret": {"type": "str", "no_log": False},
    "es_ca_secret_key": {"type": "str", "default": "ca.crt", "no_log": False},
    "es_validate_certs": {"type": "bool", "default": True},
    "es_tls_server_name": {"type": "str"},
    "timeout": {"type": "int", "default": 300},
    "request_timeout": {"type": "float", "default": 10.0},
}
MUTUALLY_EXCLUSIVE = [("name", "endpoints"), ("es_password", "es_credentials_secret"), ("es_ca_cert", "es_ca_secret")]
REQUIRED_ONE_OF = [("name", "endpoints")]


class EsK8sError(DatastoresError):
    """A failure to report as the module's message, with what is known so far."""


def validate_connection(params):
    """Problems the argument spec cannot express, as messages naming the options."""
    problems = []
    if params["timeout"] < 0:
        problems.append("timeout must be 0 or more seconds, got %d" % params["timeout"])
    if params["request_timeout"] <= 0:
        problems.append("request_timeout must be more than 0 seconds, got %s" % params["request_timeout"])
    if not 0 < params["port"] < 65536:
        problems.append("port must be 1-65535, got %d" % params["port"])
    uses_k8s = params.get("name") or params.get("es_credentials_secret") or params.get("es_ca_secret")
    if uses_k8s and not params.get("namespace"):
        problems.append("namespace is required with name, es_credentials_secret or es_ca_secret")
    for endpoint in params.get("endpoints") or []:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", endpoint):
            problems.append("endpoints entry %r is not a URL such as https://es-0.es-headless.db.svc:9200" % endpoint)
    if params.get("endpoints") is not None and not params["endpoints"]:
        problems.append("endpoints must list at least one URL")
    return problems


# ---------------------------------------------------------------------- secrets
def read_secret(kube, namespace, name):
    secret = kube.get(object_path("Secret", namespace, name), missing_ok=True)
    if secret is None:
        raise EsK8sError("Secret %s/%s not found" % (namespace, name))
    return secret


def secret_value(secret, key, required=True):
    """The decoded value of one key; the message lists the keys there are, never a value."""
    data = secret.get("data") or {}
    if key not in data:
        if not required:
            return None
        meta = secret.get("metadata", {})
        raise EsK8sError("Secret %s/%s has no key %r (keys: %s)" % (
            meta.get("namespace"), meta.get("name"), key, ", ".join(sorted(data)) or "none"))
    return base64.b64decode(data[key]).decode("utf-8")


def credentials(kube, params):
    """(username, password) from es_credentials_secret or es_username/es_password."""
    if params.get("es_credentials_secret"):
        secret = read_secret(kube, params["namespace"], params["es_credentials_secret"])
        password = secret_value(secret, params["es_password_key"])
        username = secret_value(secret, params["es_username_key"], required=False) or params["es_username"]
        return username, password
    return params["es_username"], params.get("es_password")


def ssl_context(kube, params):
    """The SSLContext for https, with the CA from es_ca_cert, es_ca_secret or the system store."""
    if params["scheme"] != "https":
        return None
    if not params["es_validate_certs"]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if params.get("es_ca_secret"):
        secret = read_secret(kube, params["namespace"], params["es_ca_secret"])
        pem = secret_value(secret, params["es_ca_secret_key"])
        try:
            return ssl.create_default_context(cadata=pem)
        except ssl.SSLError as error:
            raise EsK8sError("key %r of Secret %s/%s is not a PEM CA certificate: %s" % (
                params["es_ca_secret_key"], params["namespace"], params["es_ca_secret"], error))
    try:
        return ssl.create_default_context(cafile=params.get("es_ca_cert"))
    except (OSError, ssl.SSLError) as error:
        raise EsK8sError("es_ca_cert %s cannot be read as PEM CA certificates: %s" % (params.get("es_ca_cert"), error))


# ---------------------------------------------------------------------- transport
class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to host:port that checks the certificate against server_name instead of host."""

    def __init__(self, host, port, server_name, context, timeout):
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._tls = context

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self._server_name)
        except BaseException:
            sock.close()
            raise


class Transport:
    """One request per connection to host:port; TLS names checked against ``server_name``.

    ``forward`` (a LocalForward) adds the tunnel's own error to a failed request's message.
    """

    def __init__(self, scheme, host, port, context=None, server_name=None, forward=None, where=None):
        self.scheme, self.host, self.port = scheme, host, int(port)
        self.context, self.server_name = context, server_name or host
        self.forward, self.where = forward, where or (str(forward) if forward is not None else host)

    def __call__(self, method, target, body, headers, timeout):
        if self.scheme == "https":
            conn = _NamedHTTPSConnection(self.host, self.port, self.server_name, self.context, timeout)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        if self.forward is not None:
            self.forward.last_error = None
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except ssl.SSLCertVerificationError as error:
            raise ConnectionError("TLS certificate of %s rejected (%s); checked name %r against the CA given: set "
                                  "es_ca_secret or es_ca_cert to the CA that signed it, or es_tls_server_name to a "
                                  "name in it" % (self.where, error.verify_message or error, self.server_name)) from None
        except (OSError, http.client.HTTPException) as error:
            if self.forward is not None:
                self.forward.raise_for(error, EsK8sError, " (is Elasticsearch up?), or it expects %s" % (
                    "http" if self.scheme == "https" else "https"))
            raise
        finally:
            conn.close()


def pod_dns_name(pod, service, namespace):
    return "%s.%s.%s.svc" % (pod, service, namespace)


@contextlib.contextmanager
def tunnels(kube, params, pods, service, username, password, context):
    """A local port-forward listener per pod and an ElasticsearchClient through each.

    with tunnels(kube, params, ["es-0", "es-1"], "es-headless", username, password, context) as clients: ...
    clients maps pod name -> ElasticsearchClient whose url names the pod (https://es-0.es-headless.ns.svc:9200).
    """
    namespace, port, scheme = params["namespace"], params["port"], params["scheme"]
    with members.forwarded(kube, namespace, pods, port) as found:
        clients = {}
        for member in found:
            dns = pod_dns_name(member.name, service, namespace)
            transport = Transport(scheme, member.address[0], member.address[1], context,
                                  server_name=params.get("es_tls_server_name") or dns, forward=member.forward)
            clients[member.name] = ElasticsearchClient("%s://%s:%d" % (scheme, dns, port), username=username,
                                                       password=password, timeout=params["request_timeout"],
                                                       transport=transport)
        yield clients


Tunnels = tunnels  # the name tests/integration/elasticsearch uses


def direct_clients(params, username, password, context):
    """{endpoint URL: ElasticsearchClient} for the endpoints option."""
    from urllib.parse import urlsplit

    clients = {}
    for url in params["endpoints"]:
        parts = urlsplit(url)
        scheme = parts.scheme
        transport = Transport(scheme, parts.hostname, parts.port or DEFAULT_PORT, context if scheme == "https" else None,
                              server_name=params.get("es_tls_server_name") or parts.hostname)
        clients[url] = ElasticsearchClient(url, username=username, password=password,
                                           timeout=params["request_timeout"], transport=transport)
    return clients


# ---------------------------------------------------------------------- pods
def describe_pods(pods):
    """'es-0 Running, es-1 Running, not Ready, ...'."""
    return members.describe_pods(pods, readiness=True)


# ---------------------------------------------------------------------- the health check, end to end
class Connection:
    """What a module needs to talk to the cluster: the StatefulSet (or endpoints), credentials, TLS.

    connection.open(pods) gives {label: ElasticsearchClient}; close() ends every tunnel.
    """

    def __init__(self, params, kube_factory):
        self.params = params
        self.kube = kube_factory() if (params.get("name") or params.get("es_credentials_secret")
                                       or params.get("es_ca_secret")) else None
        self.workload = None
        if params.get("name"):
            self.workload = members.Workload(self.kube, params["namespace"], "StatefulSet", params["name"],
                                             error=EsK8sError)
        self.sts = self.workload.obj if self.workload else None
        self.username, self.password = credentials(self.kube, params)
        self.context = ssl_context(self.kube, params)
        self._tunnels = contextlib.ExitStack()

    @property
    def service(self):
        return self.sts.get("spec", {}).get("serviceName") or self.sts["metadata"]["name"]

    def pod_set(self):
        return self.workload.pods()

    def open(self, pods=None):
        if self.sts is None:
            return direct_clients(self.params, self.username, self.password, self.context)
        return self._tunnels.enter_context(tunnels(self.kube, self.params, pods, self.service, self.username,
                                                   self.password, self.context))

    def close(self):
        self._tunnels.close()


HEALTH_SPEC = dict(CONNECTION_SPEC)
HEALTH_SPEC.update({
    "expected_nodes": {"type": "int"},
    "wait_for_status": {"type": "str", "default": "green", "choices": ["green", "yellow", "red", "none"]},
})


def validate_health(params):
    problems = validate_connection(params)
    if params.get("expected_nodes") is not None and params["expected_nodes"] < 1:
        problems.append("expected_nodes must be at least 1, got %d" % params["expected_nodes"])
    return problems


def run_health(params, check_mode=False, kube_factory=None):
    """Everything elasticsearch_health does: returns (failure message or None, result)."""
    from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
        ClusterHealthError,
        ElasticsearchError,
        check_health,
    )

    deadline = Deadline(min(params["timeout"], params["request_timeout"]) if check_mode else params["timeout"])
    wanted_status = None if params["wait_for_status"] == "none" else params["wait_for_status"]
    connection = Connection(params, kube_factory)
    result = {"healthy": False, "source": "port-forward" if connection.sts is not None else "endpoints",
              "statefulset": None, "pods": [], "problems": []}
    try:
        if connection.sts is not None:
            wanted = statefulset_pods(connection.sts)
            expected = params.get("expected_nodes") or len(wanted)
            result["statefulset"] = {"name": params["name"], "namespace": params["namespace"],
                                     "replicas": len(wanted), "service": connection.service}
            pods = connection.pod_set()
            if not pods.wait(members_running(wanted), deadline):
                message = "%s: not every pod of %d runs after %.1fs; pods: %s" % (
                    connection.workload.what, len(wanted), deadline.elapsed(), describe_pods(pods.pods.values()))
                result.update(problems=[message], expected_nodes=expected, elapsed=deadline.elapsed())
                return (None if check_mode else message), result
            result["pods"] = wanted
            clients = connection.open(wanted)
            labels = {client.url: pod for pod, client in clients.items()}
        else:
            clients = connection.open()
            expected = params.get("expected_nodes") or len(clients)
            labels = {client.url: None for client in clients.values()}
        try:
            health = check_health(list(clients.values()), expected, wanted_status, deadline=deadline,
                                  request_timeout=params["request_timeout"])
            failure = None
        except ClusterHealthError as error:
            health, failure = error.result, str(error)
        except ElasticsearchError as error:  # refused credentials: waiting does not help
            health, failure = {"problems": [str(error)], "expected_nodes": expected}, str(error)
        for entry in health.get("endpoints") or []:
            entry["pod"] = labels.get(entry.get("endpoint"))
        result.update(health)
        result["elapsed"] = deadline.elapsed()
        if failure and connection.sts is not None:
            failure = "%s, nodes asked through port-forward to port %d: %s" % (
                connection.workload.what, params["port"], failure)
        return (None if check_mode else failure), result
    finally:
        connection.close()
