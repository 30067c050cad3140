# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/loklak.yml (seed 001) on localkube, against a REAL Elasticsearch 2.4.6 cluster and a REAL loklak.

KWOK runs the pods (scheduled, volumes bound, Ready; no container runs). The servers behind them are
real and run in a sealed network namespace that this test creates (tests/servers/loklak/netns.py):
three Elasticsearch 2.4.6 nodes from Maven Central and loklak_server built from ../shared/vendor/loklak
(tests/servers/loklak/build.py). loklak listens on every address and cannot be told otherwise, which is
why it runs where the only network is the namespace's loopback. It reads the settings file that the
role rendered into its ConfigMap, unchanged: the Service name elasticsearch.<namespace> resolves to
the namespace's loopback, where node 0 listens on 9300 as the Service would forward.

KWOK port-forwards of each pod reach the real servers through loopback relays, so the role's modules
(elasticsearch_health for the 2.x cluster, loklak_verify for the marker message) talk to them over
the API server's real port-forward.

Not shown here, because no container runs: the init container and the probes run by a kubelet (the
rendered probe script is run with bash against the real servers instead), and pods whose deletion
stops a server (the test stops and starts the servers where Kubernetes would).
"""
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import apply, kubectl, kubectl_json, local_volumes
from tests.servers.loklak.elasticsearch2 import ES2_VERSION, Cluster
from tests.servers.loklak.netns import Namespace, missing_tools
from tests.servers.loklak.server import Server

pytestmark = [
    pytest.mark.localkube,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason="needs %s" % ", ".join(missing_tools())),
]

PLAYBOOK = REPO / "playbooks" / "loklak.yml"
TEARDOWN = REPO / "playbooks" / "teardown.yml"
SITE = REPO / "playbooks" / "site.yml"
ES_PODS = ["elasticsearch-0", "elasticsearch-1", "elasticsearch-2"]
VERIFY_TASK = "Push a marker message through loklak and find it through search"
ES_FACT_TASK = "Set elasticsearch_cluster (health, version, nodes, endpoints, Secrets, volumes)"
LOKLAK_FACT_TASK = "Set loklak_app (image, Service identity and address, Elasticsearch addresses)"


class Stack(object):
    """The namespaces, volumes and real servers shared by the tests of this module."""

    def __init__(self, workdir):
        suffix = uuid.uuid4().hex[:6]
        self.es_namespace, self.app_namespace = "t-lk-es-" + suffix, "t-lk-app-" + suffix
        self.storage_class = "t-lk-" + suffix
        self.workdir = Path(workdir)
        self.netns = Namespace({"elasticsearch." + self.es_namespace: "127.0.0.1"})
        self.es = Cluster(self.netns, tempfile.mkdtemp(prefix="lk-es2-"), size=3, node_prefix="elasticsearch")
        self.loklak = None
        self.forwards = []
        self.state = {}
        self.service_type = "ClusterIP"

    def variables(self, **extra):
        values = {"datastores_systems": ["loklak"], "loklak_elasticsearch_namespace": self.es_namespace,
                  "loklak_namespace": self.app_namespace, "elasticsearch_storage_class": self.storage_class,
                  "loklak_storage_class": self.storage_class, "elasticsearch_timeout": 240, "loklak_timeout": 240,
                  "loklak_service_type": self.service_type}
        values.update(extra)
        return values

    def forward_pods(self):
        for index, pod in enumerate(ES_PODS):
            self.forwards.append(_cluster_forward(self.es_namespace, [pod], 9200, self.es.http_relay(index)))
        self.forwards.append(_cluster_forward(self.app_namespace, None, 80, self.loklak_relay.port))

    def start_loklak_when_configured(self):
        """Start loklak (in the background) once the role has applied its ConfigMap, with that file."""
        outcome = {}

        def run():
            try:
                kubectl("wait", "--for=create", "configmap/loklak-config", "-n", self.app_namespace,
                        "--timeout=300s", timeout=320)
                properties = kubectl_json("get", "configmap", "loklak-config", "-n", self.app_namespace)["data"][
                    "customized_config.properties"]
                self.loklak.write_settings(properties)
                self.loklak.start()
                outcome["ok"] = True
            except Exception as error:  # reported by the test that waits for it
                outcome["error"] = error

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, outcome

    def run(self, playbook=PLAYBOOK, **extra):
        return run_playbook_json(playbook, self.variables(**extra))

    def deploy(self, **extra):
        thread, outcome = self.start_loklak_when_configured()
        run = self.run(**extra)
        thread.join(timeout=300)
        return run, outcome

    def es_get(self, path):
        return self.es.request(0, "GET", path)[1]

    def probe(self, mode):
        script = self.workdir / "probe.sh"
        script.write_text(kubectl_json("get", "configmap", "loklak-config", "-n", self.app_namespace)["data"]["probe.sh"])
        return subprocess.run(self.netns.command(["bash", str(script), mode]), capture_output=True, text=True,
                              timeout=60, check=False)

    def close(self):
        if self.loklak is not None:
            self.loklak.close()
            shutil.rmtree(self.loklak.workdir, ignore_errors=True)
        self.es.close()
        shutil.rmtree(self.es.workdir, ignore_errors=True)
        self.netns.close()


def _cluster_forward(namespace, names, port, target):
    name = "%s.%s" % (namespace, names[0] if names else "all")
    selector = {"matchNamespaces": [namespace]}
    if names:
        selector["matchNames"] = names
    apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": name},
           "spec": {"selector": selector,
                    "forwards": [{"ports": [port], "target": {"port": target, "address": "127.0.0.1"}}]}})
    return name


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    current = Stack(tmp_path_factory.mktemp("loklak"))
    volumes = []
    try:
        apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": current.storage_class},
               "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
               "reclaimPolicy": "Retain"})
        volumes = local_volumes(current.storage_class, 2)
        apply({"apiVersion": "v1", "kind": "List", "items": volumes})
        current.es.start()
        current.loklak = Server(current.netns, tempfile.mkdtemp(prefix="lk-server-"), properties=None)
        current.loklak_relay = current.loklak.relay
        current.forward_pods()
        yield current
    finally:
        current.close()
        for name in current.forwards:
            kubectl("delete", "clusterportforward", name, "--wait=false", check=False)
        kubectl("delete", "namespace", current.es_namespace, current.app_namespace, "--wait=false", check=False)
        kubectl("delete", "storageclass", current.storage_class, "--wait=false", check=False)
        if volumes:
            kubectl("delete", "persistentvolume", *[v["metadata"]["name"] for v in volumes], "--wait=false",
                    check=False)


@pytest.fixture(scope="module")
def deployed(stack):
    """The first deploy, made once; the cluster's UUID is kept for the redeploy to compare."""
    run, started = stack.deploy()
    if started.get("ok") and run.rc == 0:
        stack.state["uuid"] = stack.es_get("/")["cluster_uuid"]
    return run, started


def _objects(namespace):
    found = kubectl_json("get", "statefulsets,deployments,services,configmaps,persistentvolumeclaims", "-n",
                         namespace)["items"]
    return sorted("%s/%s" % (i["kind"], i["metadata"]["name"]) for i in found if i["metadata"]["name"] != "kube-root-ca.crt")


def test_an_incompatible_pairing_is_refused_before_anything_is_written(stack):
    loklak_on_8 = stack.run(loklak_elasticsearch_version="8.19.21")
    assert loklak_on_8.rc != 0
    assert "loklak speaks only Elasticsearch 2.x (its 2.4 TransportClient), and loklak_elasticsearch_version is " \
           "8.19.21" in loklak_on_8.messages
    site = stack.run(SITE, datastores_systems=["elasticsearch", "loklak"], elasticsearch_namespace=stack.es_namespace)
    assert site.rc != 0
    message = site.messages
    assert "Elasticsearch 8.19.21 as %s/elasticsearch" % stack.es_namespace in message, message
    assert "needs Elasticsearch 2.4.6 (2.x" in message and "Nothing was changed" in message
    assert [name for name, result in site.results() if result.get("failed")] == [
        "Refuse to pair loklak with the elasticsearch system's cluster when loklak cannot speak to it"]
    assert site.changed_tasks() == []
    for namespace in (stack.es_namespace, stack.app_namespace):
        assert kubectl("get", "namespace", namespace, check=False).returncode != 0


def test_loklak_on_elasticsearch_2_pushes_and_finds_a_marker(stack, deployed):
    run, started = deployed
    assert started.get("ok"), started.get("error") or stack.loklak.log_tail()
    assert run.rc == 0, run
    cluster = run.result(ES_FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert (cluster["version"], cluster["healthy"], cluster["number_of_nodes"]) == (ES2_VERSION, True, 3)
    assert cluster["bootstrapped"] is False and cluster["security"] is False
    assert cluster["endpoints"]["transport"] == "elasticsearch.%s.svc.cluster.local:9300" % stack.es_namespace
    verified = run.result(VERIFY_TASK)
    assert verified["changed"] is True and verified["pushed"] is True and verified["found"] is True
    app = run.result(LOKLAK_FACT_TASK)["ansible_facts"]["loklak_app"]
    assert app["healthy"] is True and app["verified"] is True and app["elasticsearch"]["version"] == ES2_VERSION
    assert app["elasticsearch"]["transport"] == "elasticsearch.%s:9300" % stack.es_namespace
    # The marker went through loklak into Elasticsearch: the index there holds it.
    hits = stack.es_get("/messages/_search?q=text:%s" % verified["marker"])["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [verified["message_id"]]
    # The seed's names, discovery and volumes.
    statefulset = kubectl_json("get", "statefulset", "elasticsearch", "-n", stack.es_namespace)
    config = kubectl_json("get", "configmap", "elasticsearch-config", "-n", stack.es_namespace)["data"]["elasticsearch.yml"]
    assert "- elasticsearch-headless.%s.svc.cluster.local:9300" % stack.es_namespace in config
    assert "discovery.zen.minimum_master_nodes: 2" in config and "xpack" not in config
    assert statefulset["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/library/elasticsearch:2.4.6"
    assert "PersistentVolumeClaim/loklak-data" in _objects(stack.app_namespace)


def test_the_probe_script_sees_the_backend(stack, deployed):
    for mode in ("backend", "ready"):
        done = stack.probe(mode)
        assert done.returncode == 0, (mode, done.stdout, done.stderr)


def test_second_run_finds_the_marker_and_changes_nothing(stack, deployed):
    run = stack.run()
    assert run.rc == 0, run
    verified = run.result(VERIFY_TASK)
    assert (verified["changed"], verified["pushed"], verified["found"]) == (False, False, True)
    assert run.changed == 0, run.changed_tasks()


def test_the_load_balancer_address_is_never_given_up(stack, deployed):
    """The seed's warning: recreating the LoadBalancer Service loses its public IP. A type change away from
    LoadBalancer is refused, and applying the Service patches it in place (same UID and clusterIP)."""
    made = stack.run(loklak_service_type="LoadBalancer")
    assert made.rc == 0, made
    stack.service_type = "LoadBalancer"
    before = kubectl_json("get", "service", "loklak", "-n", stack.app_namespace)
    refused = stack.run(loklak_service_type="ClusterIP")
    assert refused.rc != 0
    assert ("Service %s/loklak is a LoadBalancer; changing it to ClusterIP releases its address"
            % stack.app_namespace) in refused.messages
    after = kubectl_json("get", "service", "loklak", "-n", stack.app_namespace)
    assert after["spec"]["type"] == "LoadBalancer"
    assert (after["metadata"]["uid"], after["spec"]["clusterIP"]) == (before["metadata"]["uid"],
                                                                      before["spec"]["clusterIP"])


def test_teardown_without_purge_then_redeploy_finds_the_messages(stack, deployed):
    """The seed's persistence check: the workloads go, the servers stop, everything comes back, the data is there."""
    pushed = stack.loklak.push_messages("persisted", 3)
    assert stack.loklak.wait_for_hits("persisted", 3) == 3
    claims_before = {c["metadata"]["name"]: c["spec"]["volumeName"]
                     for ns in (stack.es_namespace, stack.app_namespace)
                     for c in kubectl_json("get", "pvc", "-n", ns)["items"]}
    down = run_playbook_json(TEARDOWN, stack.variables())
    assert down.rc == 0, down
    assert kubectl_json("get", "statefulsets,deployments", "-n", stack.es_namespace)["items"] == []
    assert kubectl_json("get", "deployments", "-n", stack.app_namespace)["items"] == []
    # The pods are gone, so are their servers; the volumes (data directories) stay.
    stack.loklak.stop()
    stack.es.stop()
    stack.es.start()
    run, started = stack.deploy()
    assert started.get("ok"), started.get("error") or stack.loklak.log_tail()
    assert run.rc == 0, run
    verified = run.result(VERIFY_TASK)
    assert (verified["found"], verified["pushed"]) == (True, False)  # found, not written again
    assert stack.es_get("/")["cluster_uuid"] == stack.state["uuid"]
    assert stack.loklak.wait_for_hits("persisted", 3) == 3
    assert sorted(pushed) == sorted(stack.loklak.ids_for("persisted"))
    assert {c["metadata"]["name"]: c["spec"]["volumeName"] for ns in (stack.es_namespace, stack.app_namespace)
            for c in kubectl_json("get", "pvc", "-n", ns)["items"]} == claims_before


def test_the_probe_fails_when_elasticsearch_is_gone_and_the_status_does_not(stack, deployed):
    """With every node stopped loklak still answers /api/status.json; the readiness script does not pass."""
    stack.es.stop()
    try:
        assert stack.loklak.get("/api/status.json")[0] == 200
        done = stack.probe("ready")
        assert done.returncode == 1 and "not from Elasticsearch" in done.stdout, (done.stdout, done.stderr)
        backend = stack.probe("backend")
        assert backend.returncode == 1 and "does not answer yet" in backend.stdout, backend.stdout
    finally:
        stack.es.start()
