# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/elasticsearch.yml (role elasticsearch) on localkube, verified against REAL
OpenSearch 2.19.1 nodes behind the API server's real port-forward.

KWOK runs the pods (scheduled, IPs, Ready; no container runs). A KWOK PortForward per pod sends
port-forwards of its port 9200 to one of three OpenSearch nodes that the test starts on 127.0.0.1
(tests/servers/elasticsearch, from Maven Central), so every Elasticsearch call of the role's modules
(health, rolling restart, voting exclusions) reaches a real server through the real tunnel. Those
nodes run with what the role generated: its elastic password (read from the Secret the role made)
and its CA and certificate, checked by the modules against the pods' DNS names.

What cannot be shown here, because no container runs: Elasticsearch 8 itself (it is not
obtainable on this machine; OpenSearch is the wire-compatible stand-in), the readiness probe run
by a kubelet (the same script is run here against a real node), and a node process that really
restarts when its pod is deleted (the node behind a pod stays up; the module's admin calls, its
one-at-a-time order and the cluster's answers are real).

The tests share one deployment. Bad input and check mode need its namespace before the first run.
The first run (bootstrap) is the fixture `first_run`, made once for the tests that start from it:
the second run (changed=0, -vvv, no password), check mode with a change, the readiness probe, a node
of another cluster. The version upgrade (one node at a time) is the fixture `upgrade`, made once for
the tests that start from the upgraded cluster: a refused downgrade, deleting the workloads and
deploying again (the same volumes, the data still there), and a scale-down through voting exclusions.
"""
import base64
import json
import os
import pathlib
import queue
import ssl
import subprocess
import threading
import time
import uuid
import http.server

import pytest

from tests.helpers.ansible import REPO, finish_json, run_module, run_playbook, run_playbook_json, start_playbook_json
from tests.helpers.cluster import (
    apply,
    forward_pod_port,
    kubeconfig_path,
    kubectl,
    kubectl_binary,
    kubectl_json,
    local_volumes,
    localkube,
)
from tests.helpers.reliability import assert_no_secret_printed
from tests.servers.elasticsearch import OPENSEARCH_VERSION, Cluster, Pki, missing_tools

pytestmark = [
    pytest.mark.localkube,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason="needs %s on PATH" % ", ".join(missing_tools())),
]

NAME = "es"
PODS = ["es-0", "es-1", "es-2"]
OLD_VERSION = "8.19.20"  # the first runs pin this; the upgrade goes to the role's default
PLAYBOOK = REPO / "playbooks" / "elasticsearch.yml"
BAD_INPUT = pathlib.Path(__file__).parent / "bad_input.yml"
SELECTOR = "app.kubernetes.io/name=elasticsearch,app.kubernetes.io/instance=" + NAME
HEALTH_TASK = "Verify that every node joined one cluster of elasticsearch_replicas nodes with the wanted health"
ROLLING_TASK = "Restart the pods that run an old revision, one at a time"
SCALE_TASK = "Remove the highest nodes (voting exclusions, shards moved away), keeping their volumes"
APPLY_TASK = "Apply the ConfigMaps, Services, StatefulSet and PodDisruptionBudget and wait for the pods"
FACT_TASK = "Set elasticsearch_cluster (health, version, nodes, endpoints, Secrets, volumes)"


@pytest.fixture(scope="session", autouse=True)
def local_control_plane():
    """This module needs the control plane (the directory's conftest turns it off for the server-only tests)."""
    if localkube("status", check=False).returncode != 0:
        started = localkube("up", check=False)
        assert started.returncode == 0, "localkube up failed:\n" + started.stdout + started.stderr
    return kubeconfig_path()


# -- the deployment shared by the tests -------------------------------------------------------------

class Deployment(object):
    def __init__(self, namespace, app_namespace, storage_class, workdir):
        self.namespace, self.app_namespace, self.storage_class = namespace, app_namespace, storage_class
        self.workdir = workdir
        self.main = self.foreign = None
        self.password = None
        self.state = {}  # what the first run made (volumes, cluster UUID), for the tests after it

    def role_vars(self, **extra):
        values = {
            "elasticsearch_namespace": self.namespace,
            "elasticsearch_name": NAME,
            "elasticsearch_storage_class": self.storage_class,
            "elasticsearch_version": OLD_VERSION,
            "elasticsearch_timeout": 240,
            "elasticsearch_rolling_timeout": 240,
        }
        values.update(extra)
        return {k: v for k, v in values.items() if v is not None}

    def start(self, check=False, tags=None, **extra):
        return start_playbook_json(PLAYBOOK, self.role_vars(**extra), check=check,
                                   args=("--tags", tags) if tags else ())

    @staticmethod
    def finish(process, timeout=400):
        return finish_json(process, timeout=timeout)

    def run(self, check=False, tags=None, **extra):
        return self.finish(self.start(check=check, tags=tags, **extra))

    def objects(self, namespace=None):
        found = kubectl_json("get", "statefulsets,deployments,services,secrets,configmaps,persistentvolumeclaims,"
                             "poddisruptionbudgets", "-n", namespace or self.namespace)["items"]
        return sorted("{0}/{1}".format(item["kind"], item["metadata"]["name"]) for item in found
                      if item["metadata"]["name"] != "kube-root-ca.crt")

    def secret(self, name):
        data = kubectl_json("get", "secret", name, "-n", self.namespace)["data"]
        return {key: base64.b64decode(value) for key, value in data.items()}

    def node(self, pod):
        return self.main.nodes[PODS.index(pod)]

    def es(self, method, path, body=None, node=0):
        """A call straight to a real node (what loklak would do), for set-up and checks."""
        return self.main.request(self.main.nodes[node], method, path, body)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    namespace = "t-es-role-" + uuid.uuid4().hex[:6]
    app_namespace = namespace + "-web"
    storage_class = namespace + "-local"
    kubectl("create", "namespace", namespace)
    apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": storage_class},
           "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
           "reclaimPolicy": "Retain"})
    volumes = local_volumes(storage_class, 2)
    apply({"apiVersion": "v1", "kind": "List", "items": volumes})
    current = Deployment(namespace, app_namespace, storage_class, tmp_path_factory.mktemp("es-role"))
    try:
        yield current
    finally:
        for cluster in (current.main, current.foreign):
            if cluster is not None:
                cluster.stop(grace=10)
        kubectl("delete", "namespace", namespace, app_namespace, "--wait=false", check=False)
        kubectl("delete", "storageclass", storage_class, "--wait=false", check=False)
        kubectl("delete", "persistentvolume", *[v["metadata"]["name"] for v in volumes], "--wait=false", check=False)


def wait_for_secrets(namespace, names, process, timeout=120):
    """Watch Secrets until all `names` exist (or the playbook ended, or the time is up)."""
    watch = subprocess.Popen([kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "secrets", "-n", namespace,
                              "--watch", "-o", "name"], stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in watch.stdout], daemon=True).start()
    seen, deadline = set(), time.monotonic() + timeout
    try:
        while not {"secret/" + n for n in names} <= seen:
            assert process.poll() is None, "the playbook ended before creating the Secrets"
            assert time.monotonic() < deadline, "Secrets %s not created within %ds" % (names, timeout)
            try:
                seen.add(lines.get(timeout=1))
            except queue.Empty:
                pass
    finally:
        watch.kill()
        watch.wait()


class PodWatch(object):
    """kubectl's watch of the Elasticsearch pods, from now on: every event, and the most pods ever unavailable."""

    def __init__(self, namespace):
        self.process = subprocess.Popen([kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "pods", "-n",
                                         namespace, "-l", SELECTOR, "--watch", "--output-watch-events", "-o", "json"],
                                        stdout=subprocess.PIPE, text=True)
        self.events = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        decoder, buffer = json.JSONDecoder(), ""
        for line in self.process.stdout:
            buffer += line
            try:
                event, end = decoder.raw_decode(buffer.lstrip())
            except ValueError:
                continue
            buffer = buffer.lstrip()[end:]
            pod = event["object"]
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
            self.events.append((event["type"], pod["metadata"]["name"], pod["metadata"]["uid"],
                                ready and not pod["metadata"].get("deletionTimestamp") and event["type"] != "DELETED"))

    def stop(self):
        self.process.terminate()
        self.process.wait()
        self.thread.join(timeout=10)

    def most_unavailable(self, names):
        state, worst = {}, 0
        for kind, name, uid, available in self.events:
            state[name] = available
            if len(state) >= len(names):  # after the initial listing
                worst = max(worst, sum(1 for n in names if not state.get(n)))
        return worst

    def deletions(self):
        order = []
        for kind, name, _uid, available in self.events:
            if not available and (not order or order[-1] != name) and kind in ("MODIFIED", "DELETED"):
                order.append(name)
        return order


def allocation_updates(node, since):
    with open(node.log_file, errors="replace") as handle:
        handle.seek(since)
        text = handle.read()
    return [line.split("updating ", 1)[1] for line in text.splitlines()
            if "updating [cluster.routing.allocation.enable]" in line]


def log_size(node):
    return os.path.getsize(node.log_file)


def service_identity(namespace, name):
    svc = kubectl_json("get", "service", name, "-n", namespace)
    return svc["metadata"]["uid"], svc["spec"]["clusterIP"], svc["spec"]["ports"][0].get("nodePort")


def claims(namespace):
    return {c["metadata"]["name"]: (c["metadata"]["uid"], c["spec"]["volumeName"])
            for c in kubectl_json("get", "pvc", "-n", namespace)["items"]}


# -- validation and check mode ----------------------------------------------------------------------

BAD_CASES = [
    ("uppercase name", {"elasticsearch_name": "ES"}, "elasticsearch_name must be a DNS label of at most 40"),
    ("name too long", {"elasticsearch_name": "e" * 41}, "elasticsearch_name must be a DNS label of at most 40"),
    ("bad namespace", {"elasticsearch_namespace": "Bad_NS"}, "elasticsearch_namespace must be a DNS label"),
    ("no replicas", {"elasticsearch_replicas": 0}, "elasticsearch_replicas must be a whole number of at least 1, got 0"),
    ("replicas not a number", {"elasticsearch_replicas": "three"}, "elasticsearch_replicas"),
    ("version 9", {"elasticsearch_version": "9.0.0"}, "elasticsearch_version must be a pinned Elasticsearch 7.17.x or 8.x.y"),
    ("unpinned version", {"elasticsearch_version": "latest"}, "got 'latest'"),
    ("heap above the memory limit", {"elasticsearch_heap_size": "1g"},
     "elasticsearch_heap_size sets a heap of 1024 MiB (-Xmx), not below the container memory limit 512Mi "
     "(elasticsearch_resources.limits.memory)"),
    ("heap not a JVM size", {"elasticsearch_heap_size": "lots"}, "elasticsearch_heap_size must be a JVM size in m or g"),
    ("storage size", {"elasticsearch_storage_size": "big"}, "elasticsearch_storage_size must be a positive Kubernetes quantity"),
    ("unknown resource", {"elasticsearch_resources": {"requests": {"gpu": "1"}}},
     "elasticsearch_resources must be {requests: {cpu, memory}, limits: {cpu, memory}}"),
    ("bootstrap setting in config", {"elasticsearch_config": {"cluster.initial_master_nodes": ["a"]}},
     "elasticsearch_config may not set cluster.initial_master_nodes"),
    ("discovery in config", {"elasticsearch_config": {"discovery.seed_hosts": ["x"], "indices.queries.cache.size": "5%"}},
     "elasticsearch_config may not set discovery.seed_hosts"),
    ("small max_map_count", {"elasticsearch_max_map_count": 1000}, "elasticsearch_max_map_count must be a whole number of at least 262144"),
    ("bad Secret name", {"elasticsearch_credentials_secret": "My_Secret"}, "elasticsearch_credentials_secret must be a DNS name"),
    ("unknown service type", {"elasticsearch_service_type": "External"}, "elasticsearch_service_type"),
    ("unknown status", {"elasticsearch_wait_for_status": "blue"}, "elasticsearch_wait_for_status"),
    ("unknown anti-affinity", {"elasticsearch_anti_affinity": "sometimes"}, "elasticsearch_anti_affinity"),
    ("unknown storage class", {"elasticsearch_storage_class": "no-such-class"},
     'elasticsearch_storage_class "no-such-class" is not a StorageClass of this cluster'),
]
VALIDATION_TASKS = ("Validating arguments against arg spec 'main'", "Fail on values the argument specs cannot check",
                    "Check the connection, the namespace and the StorageClass before writing")


def test_bad_input_fails_before_anything_is_created(deployment):
    cases = [{"name": name, "vars": values} for name, values, _expected in BAD_CASES]
    run = run_playbook_json(BAD_INPUT, {"cases": cases, "base": deployment.role_vars()})
    assert run.rc == 0, run
    outcomes = {item["case"]: item for item in run.result("Report the outcomes")["outcomes"]}
    for name, _values, expected in BAD_CASES:
        outcome = outcomes[name]
        assert outcome["failed"], "case {0!r} passed validation".format(name)
        assert expected in outcome["msg"], (name, outcome)
        assert outcome["task"].startswith(VALIDATION_TASKS), (name, outcome)
    assert len(BAD_CASES) >= 10
    assert deployment.objects() == [], "validation let the role create objects"


def test_check_mode_on_an_empty_namespace_creates_nothing(deployment):
    run = deployment.run(check=True)
    assert run.rc == 0, run
    assert run.result("Create the elastic password, the CA and the certificate when absent; check the existing "
                      "ones")["created"] == ["es-credentials", "es-ca", "es-certs"]
    assert run.result(APPLY_TASK)["changed"] is True  # the server-side dry run of objects to create
    assert deployment.objects() == []


# -- the first run: a new cluster -------------------------------------------------------------------

@pytest.fixture(scope="module")
def first_run(deployment):
    """The role's first run, the real nodes started with what it generated; made once, for every test after it."""
    process = deployment.start()
    try:
        boot_real_nodes(deployment, process)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    run = deployment.finish(process)
    deployment.state.update(claims=claims(deployment.namespace), uuid=deployment.es("GET", "/")[1]["cluster_uuid"])
    return run


def test_first_run_bootstraps_a_secure_cluster(deployment, first_run):
    run = first_run
    assert run.rc == 0, run
    check_first_run(deployment, run)


def boot_real_nodes(deployment, process):
    """While the role runs: once it made the Secrets, start real nodes with its password and certificate."""
    wait_for_secrets(deployment.namespace, ["es-credentials", "es-certs"], process)
    # The real nodes get what the role generated: the elastic password and the CA-signed certificate.
    credentials, certs = deployment.secret("es-credentials"), deployment.secret("es-certs")
    deployment.password = credentials["password"].decode()
    pki = deployment.workdir / "pki"
    pki.mkdir()
    for source, target in (("ca.crt", "ca.pem"), ("tls.crt", "node.pem"), ("tls.key", "node.key")):
        (pki / target).write_bytes(certs[source])
    common = {"password": deployment.password, "admin_user": "elastic", "pki": Pki(pki),
              "nodes_dn": ["CN=es,OU=%s,O=stateful-datastores" % deployment.namespace], "cluster_name": "es"}
    deployment.main = Cluster(deployment.workdir / "main", size=3, node_prefix="es", **common)
    deployment.foreign = Cluster(deployment.workdir / "foreign", size=1, node_prefix="foreign", **common)
    deployment.main.launch()
    deployment.foreign.launch()
    for pod, node in zip(PODS, deployment.main.nodes):
        forward_pod_port(deployment.namespace, pod, 9200, node.http_port)
    deployment.main.wait_formed(time.monotonic() + 300)  # both boot meanwhile
    deployment.foreign.wait_formed(time.monotonic() + 300)


def check_first_run(deployment, run):
    fact = run.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    main_uuid = deployment.es("GET", "/")[1]["cluster_uuid"]
    assert fact["healthy"] is True and fact["status"] == "green" and fact["cluster_uuid"] == main_uuid, fact
    assert fact["bootstrapped"] is True and fact["nodes"] == PODS and fact["number_of_nodes"] == 3
    assert (fact["distribution"], fact["version"], fact["wanted_version"]) == ("opensearch", OPENSEARCH_VERSION,
                                                                               OLD_VERSION)
    assert fact["endpoint"] == "https://es.%s.svc.cluster.local:9200" % deployment.namespace
    assert fact["endpoints"] == {"http": "https://es.%s.svc.cluster.local:9200" % deployment.namespace,
                                 "transport": "es.%s.svc.cluster.local:9300" % deployment.namespace}
    health = run.result(HEALTH_TASK)
    assert health["source"] == "port-forward" and health["changed"] is False
    assert [e["endpoint"] for e in health["endpoints"]] == [
        "https://%s.es-headless.%s.svc:9200" % (pod, deployment.namespace) for pod in PODS]

    # Bootstrap: cluster.initial_master_nodes went to the pods through a ConfigMap that is gone now.
    applied = run.result(APPLY_TASK)["resources"]
    bootstrap = [r["object"] for r in applied if r["name"] == "es-bootstrap"]
    assert bootstrap[0]["data"] == {"cluster.initial_master_nodes": "es-0,es-1,es-2"}
    assert run.result("Delete the bootstrap ConfigMap (cluster.initial_master_nodes) now that the cluster has "
                      "formed")["changed"] is True
    assert kubectl("get", "configmap", "es-bootstrap", "-n", deployment.namespace, check=False).returncode != 0

    sts = kubectl_json("get", "statefulset", NAME, "-n", deployment.namespace)
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    assert spec["updateStrategy"] == {"type": "OnDelete"} and spec["podManagementPolicy"] == "Parallel"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["serviceName"] == "es-headless"
    assert spec["volumeClaimTemplates"][0]["spec"]["storageClassName"] == deployment.storage_class
    container = pod["containers"][0]
    assert container["image"] == "docker.elastic.co/elasticsearch/elasticsearch:" + OLD_VERSION
    assert container["readinessProbe"]["exec"]["command"] == ["bash", "/mnt/stateful-datastores/readiness.sh"]
    assert "livenessProbe" not in container
    assert container["envFrom"] == [{"configMapRef": {"name": "es-bootstrap", "optional": True}}]
    assert {"name": "ELASTIC_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "es-credentials",
                                                                       "key": "password"}}} in container["env"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["runAsNonRoot"] is True and "initContainers" not in pod
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    terms = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [t["podAffinityTerm"]["topologyKey"] for t in terms] == ["kubernetes.io/hostname",
                                                                    "topology.kubernetes.io/zone"]
    labels = sts["metadata"]["labels"]
    assert {k: labels[k] for k in ("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
                                   "app.kubernetes.io/component")} == {
        "app.kubernetes.io/part-of": "stateful-datastores", "app.kubernetes.io/managed-by": "stateful.datastores",
        "app.kubernetes.io/component": "node"}
    headless = kubectl_json("get", "service", "es-headless", "-n", deployment.namespace)["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    client = kubectl_json("get", "service", "es", "-n", deployment.namespace)["spec"]
    assert [(p["name"], p["port"]) for p in client["ports"]] == [("http", 9200), ("transport", 9300)]
    pdb = kubectl_json("get", "pdb", "es-pdb", "-n", deployment.namespace)["spec"]
    assert pdb["maxUnavailable"] == 1
    config = kubectl_json("get", "configmap", "es-config", "-n", deployment.namespace)["data"]["elasticsearch.yml"]
    assert "node.store.allow_mmap: false" in config and "xpack.security.enabled: true" in config
    assert "- es-headless.%s.svc.cluster.local:9300" % deployment.namespace in config
    volumes = claims(deployment.namespace)
    assert sorted(volumes) == ["data-es-0", "data-es-1", "data-es-2"]


def test_second_run_changes_nothing_and_never_prints_a_secret(deployment, first_run):
    run = run_playbook(PLAYBOOK, deployment.role_vars(), args=("-vvv",))
    assert run.rc == 0, run
    assert run.changed == 0, run
    output = run.stdout + run.stderr
    password = deployment.password.encode()
    assert_no_secret_printed("elasticsearch role at -vvv", [
        deployment.password, base64.b64encode(password).decode(),
        deployment.secret("es-certs")["tls.key"].decode().splitlines()[1],
        deployment.secret("es-ca")["ca.key"].decode().splitlines()[1]], output)
    assert "Invoked with" in output or "invocation" in output  # -vvv really printed the module arguments
    # The bootstrap setting is nowhere after the first start.
    assert kubectl("get", "configmap", "es-bootstrap", "-n", deployment.namespace, check=False).returncode != 0
    sts = kubectl("get", "statefulset", NAME, "-n", deployment.namespace, "-o", "json").stdout
    config = kubectl("get", "configmap", "es-config", "-n", deployment.namespace, "-o", "json").stdout
    assert "initial_master_nodes" not in sts and "initial_master_nodes" not in config


def test_check_mode_with_a_change_reports_it_and_changes_nothing(deployment, first_run):
    def snapshot():
        items = kubectl_json("get", "statefulsets,configmaps,services,pods,deployments", "-n", deployment.namespace)
        return {(i["kind"], i["metadata"]["name"]): (i["metadata"]["uid"], i["metadata"]["resourceVersion"])
                for i in items["items"]}

    before, marks = snapshot(), [log_size(n) for n in deployment.main.nodes]
    run = deployment.run(check=True, elasticsearch_version=None)
    assert run.rc == 0, run
    assert run.result(APPLY_TASK)["changed"] is True
    assert snapshot() == before
    assert all(allocation_updates(n, m) == [] for n, m in zip(deployment.main.nodes, marks))


def test_readiness_probe_is_this_nodes_membership_not_the_cluster_health(deployment, first_run, tmp_path):
    script = tmp_path / "readiness.sh"
    script.write_text(kubectl_json("get", "configmap", "es-config", "-n", deployment.namespace)["data"]["readiness.sh"])

    def probe(pod, port, password=deployment.password):
        env = dict(os.environ, POD_NAME=pod, PROBE_PORT=str(port), PROBE_CA=deployment.main.ca_file,
                   ELASTIC_PASSWORD=password)
        return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=30, check=False)

    # A yellow cluster (a replica that cannot be placed) keeps every node ready: the probe is node-local.
    assert deployment.es("PUT", "/probe-yellow", {"settings": {"number_of_shards": 1, "number_of_replicas": 5}})[0] == 200
    assert deployment.es("GET", "/_cluster/health?wait_for_status=yellow&timeout=30s")[1]["status"] == "yellow"
    for pod in PODS:
        done = probe(pod, deployment.node(pod).http_port)
        assert done.returncode == 0, done.stderr
    assert deployment.es("DELETE", "/probe-yellow")[0] == 200
    refused = probe("es-0", deployment.node("es-0").http_port, password="wrong")
    assert refused.returncode == 1 and "not in a cluster with an elected master" in refused.stderr

    # A node that answers but has no elected master is not ready.
    certs = deployment.secret("es-certs")
    (tmp_path / "cert.pem").write_bytes(certs["tls.crt"])
    (tmp_path / "key.pem").write_bytes(certs["tls.key"])

    class NoMaster(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'{"master_node":null}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    server = http.server.HTTPServer(("127.0.0.1", 0), NoMaster)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        lonely = probe("es-1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert lonely.returncode == 1 and '{"master_node":null}' in lonely.stderr


def test_a_node_of_another_cluster_is_reported(deployment, first_run):
    forward_pod_port(deployment.namespace, "es-2", 9200, deployment.foreign.nodes[0].http_port)
    try:
        rc, result = run_module("stateful.datastores.elasticsearch_health", {
            "namespace": deployment.namespace, "name": NAME, "es_credentials_secret": "es-credentials",
            "es_ca_secret": "es-certs", "timeout": 60})
    finally:
        forward_pod_port(deployment.namespace, "es-2", 9200, deployment.node("es-2").http_port)
    foreign_uuid = deployment.foreign.request(deployment.foreign.nodes[0], "GET", "/")[1]["cluster_uuid"]
    assert rc != 0 and result["healthy"] is False
    message = result["msg"]
    assert "endpoints belong to 2 different clusters" in message
    assert ("https://es-2.es-headless.%s.svc:9200 (node foreign-0) is in cluster_uuid %s, not %s: split: a separately "
            "bootstrapped cluster with the same name" % (deployment.namespace, foreign_uuid,
                                                         deployment.state["uuid"])) in message
    assert result["elapsed"] < 30  # reported at once, not after the deadline
    by_pod = {e["pod"]: e["cluster_uuid"] for e in result["endpoints"]}
    assert by_pod == {"es-0": deployment.state["uuid"], "es-1": deployment.state["uuid"], "es-2": foreign_uuid}
    assert deployment.password not in json.dumps(result)


# -- day 2 ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def upgrade(deployment, first_run):
    """The run that upgrades to the role's default version, made once, and what was seen before and during it."""
    nodes = deployment.es("GET", "/_cat/nodes?format=json&h=name,master")[1]
    master = [n["name"] for n in nodes if n["master"] == "*"][0]
    marks = [log_size(n) for n in deployment.main.nodes]
    old_uids = {p["metadata"]["name"]: p["metadata"]["uid"]
                for p in kubectl_json("get", "pods", "-n", deployment.namespace, "-l", SELECTOR)["items"]}
    watch = PodWatch(deployment.namespace)
    try:
        run = deployment.run(elasticsearch_version=None)
    finally:
        watch.stop()
    return master, marks, old_uids, watch, run


def test_version_upgrade_restarts_one_node_at_a_time(deployment, upgrade):
    master, marks, old_uids, watch, run = upgrade
    expected_order = sorted((p for p in PODS if p != master), reverse=True) + [master]
    assert run.rc == 0, run
    rolled = run.result(ROLLING_TASK)
    assert rolled["changed"] is True and rolled["method"] == "allocation"  # OpenSearch has no node shutdown API
    assert rolled["elected_master"] == master and rolled["planned"] == rolled["restarted"] == expected_order
    per_pod = [(s["pod"], s["action"]) for s in rolled["steps"]]
    for pod in expected_order:
        assert [a for p, a in per_pod if p == pod] == [
            "allocation_primaries", "flush", "delete_pod", "pod_ready", "node_joined", "allocation_restored",
            "cluster_green"]
    assert [p for p, a in per_pod if a == "delete_pod"] == expected_order
    # The server's own record: each node applied primaries -> all three times, strictly alternating.
    for node, mark in zip(deployment.main.nodes, marks):
        assert allocation_updates(node, mark) == [
            "[cluster.routing.allocation.enable] from [all] to [primaries]",
            "[cluster.routing.allocation.enable] from [primaries] to [all]"] * 3
    # Kubernetes' record: the deletions in that order, never two pods unavailable at once.
    assert watch.deletions() == expected_order
    assert watch.most_unavailable(PODS) == 1
    new = {p["metadata"]["name"]: p for p in kubectl_json("get", "pods", "-n", deployment.namespace, "-l",
                                                          SELECTOR)["items"]}
    assert all(new[p]["metadata"]["uid"] != old_uids[p] for p in PODS)
    assert {p["spec"]["containers"][0]["image"] for p in new.values()} == {
        "docker.elastic.co/elasticsearch/elasticsearch:8.19.21"}
    assert claims(deployment.namespace) == deployment.state["claims"]
    assert run.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]["restarted"] == expected_order


def test_a_downgrade_is_refused(deployment, upgrade):
    run = deployment.run(tags="elasticsearch", elasticsearch_version=OLD_VERSION)
    assert run.rc != 0
    assert ("elasticsearch_version %s is older than the version the StatefulSet %s/es runs, 8.19.21"
            % (OLD_VERSION, deployment.namespace)) in run.messages
    image = kubectl_json("get", "statefulset", NAME, "-n", deployment.namespace)["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image.endswith(":8.19.21")


def test_workloads_deleted_and_deployed_again_find_their_data(deployment, upgrade):
    """The seed's persistence check: delete the StatefulSet, deploy again, same volumes, same data."""
    assert deployment.es("POST", "/loklak_messages/_doc?refresh=true", {"text": "still here after redeploy"})[0] == 201
    kubectl("delete", "statefulset", NAME, "-n", deployment.namespace, "--wait=true")
    kubectl("wait", "--for=delete", "pod", "-l", SELECTOR, "-n", deployment.namespace, "--timeout=60s", check=False)
    assert kubectl_json("get", "pods", "-n", deployment.namespace, "-l", SELECTOR)["items"] == []
    assert claims(deployment.namespace) == deployment.state["claims"]  # volumes outlive the workload

    run = deployment.run(elasticsearch_version=None)
    assert run.rc == 0, run
    fact = run.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert fact["bootstrapped"] is False and fact["healthy"] is True
    assert fact["cluster_uuid"] == deployment.state["uuid"]
    applied = [r["name"] for r in run.result(APPLY_TASK)["resources"]]
    assert "es-bootstrap" not in applied and "es" in applied
    assert claims(deployment.namespace) == deployment.state["claims"]  # the same claims, bound to the same volumes
    pods = kubectl_json("get", "pods", "-n", deployment.namespace, "-l", SELECTOR)["items"]
    assert sorted((p["metadata"]["name"], [v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"]
                                           if "persistentVolumeClaim" in v]) for p in pods) == [
        (pod, ["data-" + pod]) for pod in PODS]

    # The index written before is still there, read through a pod's port-forward with the role's CA.
    from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import Tunnels, ssl_context
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import Kube

    kube = Kube({"kubeconfig": kubeconfig_path()})
    params = {"namespace": deployment.namespace, "port": 9200, "scheme": "https", "es_tls_server_name": None,
              "request_timeout": 10.0, "es_validate_certs": True, "es_ca_secret": "es-certs",
              "es_ca_secret_key": "ca.crt", "es_ca_cert": None}
    with Tunnels(kube, params, ["es-1"], "es-headless", "elastic", deployment.password,
                 ssl_context(kube, params)) as clients:
        count = clients["es-1"].get("/loklak_messages/_count")
    assert count["count"] == 1


def test_scale_down_goes_through_voting_exclusions_and_keeps_the_volume(deployment, upgrade):
    process = deployment.start(tags="elasticsearch", elasticsearch_version=None, elasticsearch_replicas=2)
    try:
        # The real node stops when Kubernetes deletes its pod, as it would in a cluster.
        kubectl("wait", "--for=delete", "pod/es-2", "-n", deployment.namespace, "--timeout=180s", timeout=200)
        node = deployment.node("es-2")
        node.process.terminate()
        node.process.wait(timeout=60)
    except BaseException:
        process.kill()
        print(process.communicate())
        raise
    run = deployment.finish(process)
    assert run.rc == 0, run
    scaled = run.result(SCALE_TASK)
    assert scaled["changed"] is True and scaled["removed"] == ["es-2"] and scaled["kept_pvcs"] == ["data-es-2"]
    assert [s["action"] for s in scaled["steps"]] == [
        "voting_exclusions", "allocation_exclude", "shards_moved", "scale", "pods_gone", "nodes_left",
        "voting_exclusions_cleared", "allocation_exclude_restored", "cluster_green"]
    assert scaled["steps"][0]["nodes"] == ["es-2"] and scaled["steps"][6]["previous"] == ["es-2"]
    state = deployment.es("GET", "/_cluster/state/metadata?filter_path=metadata.cluster_coordination")[1]
    assert state["metadata"]["cluster_coordination"]["voting_config_exclusions"] == []
    settings = deployment.es("GET", "/_cluster/settings?flat_settings=true")[1]
    assert "cluster.routing.allocation.exclude._name" not in settings["persistent"]
    health = deployment.es("GET", "/_cluster/health")[1]
    assert (health["number_of_nodes"], health["status"]) == (2, "green")
    assert kubectl_json("get", "statefulset", NAME, "-n", deployment.namespace)["spec"]["replicas"] == 2
    assert claims(deployment.namespace) == deployment.state["claims"]  # data-es-2 is kept
    fact = run.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert fact["removed"] == ["es-2"] and fact["number_of_nodes"] == 2 and fact["healthy"] is True
