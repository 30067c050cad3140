# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the backends for an inventory, point the pods' ports at them, and keep them running."""
import subprocess
import sys

from tests.backends import plan
from tests.helpers.cluster import REPO, forward_pod_ports, kubeconfig_path, kubectl

ANTIDOTE_PB, ANTIDOTE_METRICS, HAZELCAST_PORT = 8087, 3001, 5701


class Backends(object):
    def __init__(self, inventory, systems=None, overrides=None):
        self.values = plan.inventory_vars(inventory)
        self.values.update(overrides or {})
        self.systems = list(systems or self.values.get("datastores_systems") or [])
        self.running = []  # objects with stop()
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

    def _ensure_namespace(self, name):
        if kubectl("get", "namespace", name, check=False).returncode != 0:
            kubectl("create", "namespace", name, check=False)

    def _start_antidote(self):
        from tests.standins.antidote_standin import AntidoteStandin

        dcs = plan.antidote_pods(self.values)
        layout = [(dc, [(node, "10.244.{}.{}".format(250 - d, i + 1)) for i, (_pod, node) in enumerate(pods)])
                  for d, (dc, pods) in enumerate(dcs)]
        standin = AntidoteStandin(layout=layout, ring_size=int(self.values["antidote_ring_size"]))
        standin.start()
        self.running.append(standin)
        namespace = self.values["antidote_namespace"]
        self._ensure_namespace(namespace)
        for _dc, pods in dcs:
            for pod, node in pods:
                pb_port, metrics_port = standin.ports[node]
                forward_pod_ports(namespace, pod, {ANTIDOTE_PB: pb_port, ANTIDOTE_METRICS: metrics_port})
        return {"kind": "stand-in (protocol-faithful)", "namespace": namespace,
                "pods": [pod for _dc, pods in dcs for pod, _node in pods]}

    def _start_hazelcast(self):
        from tests.servers.hazelcast import HAZELCAST_VERSION, HazelcastCluster

        pods = plan.stateful_pods(self.values, "hazelcast")
        cluster = HazelcastCluster(len(pods), cluster_name="demo-" + self.values["hazelcast_name"])
        cluster.start()
        self.running.append(cluster)
        namespace = self.values["hazelcast_namespace"]
        self._ensure_namespace(namespace)
        for pod, (_host, port) in zip(pods, cluster.endpoints):
            forward_pod_ports(namespace, pod, {HAZELCAST_PORT: port})
        return {"kind": "real Hazelcast {}".format(HAZELCAST_VERSION), "namespace": namespace, "pods": pods}

    def _start_atomix(self):
        namespace = self.values["atomix_namespace"]
        self._ensure_namespace(namespace)
        player = StatusPlayer(namespace, self.values["atomix_generation"])
        self.running.append(player)
        return {"kind": "controller stand-in (writes status)", "namespace": namespace}


class StatusPlayer(object):
    """The Atomix controller stand-in, in its own process."""

    def __init__(self, namespace, generation):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "standins" / "atomix_status_player.py"), "--kubeconfig",
             kubeconfig_path(), "--namespace", namespace, "--generation", generation],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)
