# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the backends for an inventory, point the pods' ports at them, and keep them running."""
import base64
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import yaml

from tests.backends import plan
from tests.helpers.cluster import REPO, forward_pod_ports, forward_pod_ports_cluster, kubeconfig_path, kubectl, kubectl_binary

ANTIDOTE_PB, ANTIDOTE_METRICS, HAZELCAST_PORT, ELASTICSEARCH_HTTP = 8087, 3001, 5701, 9200


class Backends(object):
    """create_namespaces=False leaves the namespaces to the playbook (a test of who may create them):
    the pods' ports are then pointed at the backends by cluster-scoped ClusterPortForward objects,
    which can exist before their namespace does, and stop() deletes them."""

    def __init__(self, inventory, systems=None, overrides=None, create_namespaces=True):
        self.values = plan.inventory_vars(inventory)
        self.values.update(overrides or {})
        self.systems = list(systems or self.values.get("datastores_systems") or [])
        self.create_namespaces = create_namespaces
        self.running = []  # objects with stop()
        self.cluster_forwards = []
        self.summary = {}

    def start(self):
        for system in self.systems:
            starter = getattr(self, "_start_" + system, None)
            if starter:
                self.summary[system] = starter()
        return self.summary

    def stop(self):
        for backend in reversed(self.running):
            backend.stop()
        self.running = []
        if self.cluster_forwards:
            kubectl("delete", "clusterportforwards.kwok.x-k8s.io", "--ignore-not-found", *self.cluster_forwards,
                    check=False)
            self.cluster_forwards = []

    def _ensure_namespace(self, name):
        if self.create_namespaces and kubectl("get", "namespace", name, check=False).returncode != 0:
            kubectl("create", "namespace", name, check=False)

    def _forward(self, namespace, pod, targets):
        if self.create_namespaces:
            forward_pod_ports(namespace, pod, targets)
        else:
            self.cluster_forwards.append(forward_pod_ports_cluster(namespace, pod, targets))

    def _start_antidote(self):
        """Real AntidoteDB nodes named as the role names the pods; DATASTORES_ANTIDOTE_BACKEND=standin
        falls back to the protocol stand-in (for machines without Erlang/OTP and libzmq)."""
        dcs = plan.antidote_pods(self.values)
        if os.environ.get("DATASTORES_ANTIDOTE_BACKEND") == "standin":
            return self._start_antidote_standin(dcs)
        from tests.servers.antidote import ANTIDOTE_VERSION, AntidoteNodes

        nodes = AntidoteNodes(layout=[(dc, [node for _pod, node in pods]) for dc, pods in dcs],
                              ring_size=int(self.values["antidote_ring_size"]))
        nodes.start()
        self.running.append(nodes)
        ports = dict((node.name, (node.pb_port, node.metrics_port)) for node in nodes.nodes.values())
        return self._forward_antidote(dcs, ports, "real AntidoteDB {0} (loopback nodes)".format(ANTIDOTE_VERSION))

    def _start_antidote_standin(self, dcs):
        from tests.standins.antidote_standin import AntidoteStandin

        layout = [(dc, [(node, "10.244.{}.{}".format(250 - d, i + 1)) for i, (_pod, node) in enumerate(pods)])
                  for d, (dc, pods) in enumerate(dcs)]
        standin = AntidoteStandin(layout=layout, ring_size=int(self.values["antidote_ring_size"]))
        standin.start()
        self.running.append(standin)
        return self._forward_antidote(dcs, standin.ports, "stand-in (protocol-faithful)")

    def _forward_antidote(self, dcs, ports, kind):
        namespace = self.values["antidote_namespace"]
        self._ensure_namespace(namespace)
        for _dc, pods in dcs:
            for pod, node in pods:
                pb_port, metrics_port = ports[node]
                self._forward(namespace, pod, {ANTIDOTE_PB: pb_port, ANTIDOTE_METRICS: metrics_port})
        return {"kind": kind, "namespace": namespace, "pods": [pod for _dc, pods in dcs for pod, _node in pods]}

    def _start_hazelcast(self):
        from tests.servers.hazelcast import HAZELCAST_VERSION, HazelcastCluster

        pods = plan.stateful_pods(self.values, "hazelcast")
        cluster = HazelcastCluster(len(pods), cluster_name="demo-" + self.values["hazelcast_name"])
        cluster.start()
        self.running.append(cluster)
        namespace = self.values["hazelcast_namespace"]
        self._ensure_namespace(namespace)
        for pod, (_host, port) in zip(pods, cluster.endpoints):
            self._forward(namespace, pod, {HAZELCAST_PORT: port})
        return {"kind": "real Hazelcast {}".format(HAZELCAST_VERSION), "namespace": namespace, "pods": pods}

    def _start_elasticsearch(self):
        namespace = self.values["elasticsearch_namespace"]
        self._ensure_namespace(namespace)
        nodes = OpenSearchNodes(namespace, self.values)
        self.running.append(nodes)
        return {"kind": "real OpenSearch 2.19.1, started with the role's password and certificate",
                "namespace": namespace, "pods": nodes.pods}

    def _start_atomix(self):
        namespace = self.values["atomix_namespace"]
        self._ensure_namespace(namespace)
        if self.values["atomix_generation"] == "cloud-v1beta2":
            from tests.servers.atomix.controllers import CloudControllers

            workdir = tempfile.mkdtemp(prefix="backends-atomix-")
            self.running.append(CloudControllers(kubeconfig_path(), namespace, workdir).start())
            return {"kind": "real controllers kubernetes-controller v0.2.0-beta.5 + raft-storage-controller v0.1.1 "
                            "(on the host, as the role's ServiceAccounts)", "namespace": namespace}
        from tests.servers.atomix.netns import NamespaceError
        from tests.servers.atomix.v1_runtime import V1Runtime

        try:
            runtime = V1Runtime(kubeconfig_path(), namespace, self.values.get("atomix_name", "raft"),
                                tempfile.mkdtemp(prefix="backends-atomix-"), api_port()).start()
        except NamespaceError as error:
            self.running.append(StatusPlayer(namespace, self.values["atomix_generation"]))
            return {"kind": "controller stand-in (writes status): " + str(error), "namespace": namespace}
        self.running.append(runtime)
        return {"kind": "real controllers atomix-controller v1.0.0 + atomix-raft-controller v0.7.0 and real Raft "
                        "nodes, in a sealed network namespace", "namespace": namespace}


class OpenSearchNodes(object):
    """Real OpenSearch nodes for the elasticsearch role's pods.

    They need what the role generates (the elastic password, the CA-signed node certificate), so a
    thread waits for those Secrets, then starts the nodes and points the pods' 9200 at them. The
    thread lives as long as the nodes: they are tied to the thread that started them.
    """

    def __init__(self, namespace, values):
        self.namespace = namespace
        self.name = values["elasticsearch_name"]
        self.cluster_name = values.get("elasticsearch_cluster_name") or self.name
        self.pods = plan.stateful_pods(values, "elasticsearch")
        self.cluster = None
        self._waiter = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _secret(self, name):
        data = json.loads(kubectl("get", "secret", name, "-n", self.namespace, "-o", "json").stdout)["data"]
        return {key: base64.b64decode(value) for key, value in data.items()}

    def _run(self):
        from tests.servers.elasticsearch import Cluster, Pki

        credentials, certs = self.name + "-credentials", self.name + "-certs"
        wanted, seen = {"secret/" + credentials, "secret/" + certs}, set()
        self._waiter = subprocess.Popen(
            [kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "secrets", "-n", self.namespace,
             "--watch", "-o", "name"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self._waiter.stdout:
            seen.add(line.strip())
            if wanted <= seen:
                break
        self._waiter.terminate()
        if not wanted <= seen or self._stopping.is_set():
            return
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="backends-opensearch-"))
        pki = workdir / "pki"
        pki.mkdir()
        tls = self._secret(certs)
        for source, target in (("ca.crt", "ca.pem"), ("tls.crt", "node.pem"), ("tls.key", "node.key")):
            (pki / target).write_bytes(tls[source])
        self.cluster = Cluster(workdir / "nodes", size=len(self.pods), node_prefix=self.name,
                               cluster_name=self.cluster_name, password=self._secret(credentials)["password"].decode(),
                               admin_user="elastic", pki=Pki(pki),
                               nodes_dn=["CN={},OU={},O=stateful-datastores".format(self.name, self.namespace)])
        self.cluster.launch()
        for pod, node in zip(self.pods, self.cluster.nodes):
            forward_pod_ports(self.namespace, pod, {ELASTICSEARCH_HTTP: node.http_port})
        self._stopping.wait()
        self.cluster.stop()

    def stop(self):
        self._stopping.set()
        if self._waiter and self._waiter.poll() is None:
            self._waiter.terminate()
        self._thread.join(timeout=60)


def api_port():
    return urllib.parse.urlsplit(yaml.safe_load(pathlib.Path(kubeconfig_path()).read_text())["clusters"][0]
                                 ["cluster"]["server"]).port


class StatusPlayer(object):
    """The Atomix controller stand-in, in its own process, where no sealed namespace can be made."""

    def __init__(self, namespace, generation):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "standins" / "atomix_status_player.py"), "--kubeconfig",
             kubeconfig_path(), "--namespace", namespace, "--generation", generation],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)
