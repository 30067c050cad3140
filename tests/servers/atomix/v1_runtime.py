# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real Atomix 1.x controllers and Raft nodes for one namespace, inside a sealed namespace.

atomix-controller v1.0.0 and atomix-raft-controller v0.7.0 (built by tests.servers.atomix.build)
start once the role has created their ServiceAccounts and run with those accounts' tokens, with the
role's own logging.yaml (from its ConfigMaps) in their working directory. The raft controller dials
every Raft pod, so both run in a SealedNamespace, never on the host. KWOK runs nothing in the
pods, so for every pod of the RaftCluster's StatefulSet that has an IP, a real atomix-raft-node
process runs in the same namespace, bound to the pod's IP, with the raft.yaml of the ConfigMap the
controller made and the pod's DNS name in the namespace's /etc/hosts; it is restarted when its pod
is replaced (another UID or IP) and stopped when the pod goes; the pod's object stays until its
process has stopped (a finalizer of this harness), as a kubelet keeps it until the container ends.
Likewise a controller process is restarted when its Deployment's pod is replaced (a rollout restart).
"""
import os
import subprocess
import threading

import yaml
from kubernetes import client

from tests.helpers.ports import free_port
from tests.servers.atomix.build import build
from tests.servers.atomix.netns import SealedNamespace
from tests.servers.atomix.service_account import admin_client, service_account_kubeconfig, wait_for_service_account

CONTROLLERS = {"atomix-controller": "atomix-controller-v1.0.0", "atomix-raft-controller": "atomix-raft-controller-v0.7.0"}
NODE_BINARY = "atomix-raft-node-v0.7.0"
API_PORT, RAFT_PORT = 5678, 5679
CLUSTER_DOMAIN = "cluster.local"
NODE_FINALIZER = "stateful-datastores.test/raft-node-process"
NODE_LISTENING = "stateful-datastores.test/raft-node-listening"


def _self_signed(directory):
    os.makedirs(directory, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=atomix-test",
                    "-keyout", os.path.join(directory, "tls.key"), "-out", os.path.join(directory, "tls.crt")],
                   check=True, capture_output=True)
    return directory


class V1Runtime(object):
    def __init__(self, admin_kubeconfig, namespace, cluster_name, workdir, api_port):
        self.bindir = build("v1")
        self.admin_kubeconfig, self.namespace, self.cluster_name = admin_kubeconfig, namespace, cluster_name
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.sealed = SealedNamespace(os.path.join(workdir, "netns"), api_port)
        self.api = admin_client(admin_kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.controllers = {}
        self.controller_runs = {}  # name -> (pod uid when started, popen arguments)
        self.nodes = {}  # pod name -> (uid, ip, process)
        self.announced = set()  # pods whose node listens and whose object says so
        self.errors = []
        self.seal_report = None
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        self.sealed.start()
        self.seal_report = self.sealed.seal()
        certs = _self_signed(os.path.join(self.workdir, "certs"))
        for name in CONTROLLERS:
            thread = threading.Thread(target=self._guard, args=(self._run_controller, name, certs), daemon=True)
            thread.start()
            self._threads.append(thread)
        thread = threading.Thread(target=self._guard, args=(self._follow_pods,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _guard(self, target, *args):
        try:
            target(*args)
        except Exception as error:  # reported through .errors and the test's assertion message
            self.errors.append("{}: {}".format(target.__name__, error))

    def _run_controller(self, name, certs):
        if not wait_for_service_account(self.api, self.namespace, name, self._stop):
            return
        directory = os.path.join(self.workdir, name)
        os.makedirs(directory, exist_ok=True)
        config_map = self._config_map(name + "-config")
        if config_map is None:
            return
        with open(os.path.join(directory, "logging.yaml"), "w", encoding="utf-8") as f:
            f.write(config_map.data["logging.yaml"])  # the role's own logging configuration
        kubeconfig = service_account_kubeconfig(self.api, self.admin_kubeconfig, self.namespace, name,
                                                os.path.join(directory, "kubeconfig"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": directory, "KUBECONFIG": kubeconfig,
               "CONTROLLER_NAME": name, "CONTROLLER_NAMESPACE": self.namespace, "CLUSTER_DOMAIN": CLUSTER_DOMAIN,
               "METRICS_BIND_ADDRESS": "127.0.0.1:{}".format(free_port()), "WEBHOOK_PORT": str(free_port())}
        if self._stop.is_set():
            return
        arguments = ([os.path.join(self.bindir, CONTROLLERS[name]), "--certs", certs], directory, env,
                     os.path.join(self.workdir, name + ".log"))
        self.controller_runs[name] = (self._controller_pod(name, self.core.list_namespaced_pod(self.namespace).items),
                                      arguments)
        self.controllers[name] = self.sealed.popen(*arguments)

    @staticmethod
    def _controller_pod(name, pods):
        """The UID of the newest live pod of the controller's Deployment (None before it has one)."""
        pods = [p for p in pods
                if p.metadata.name.startswith(name + "-") and not p.metadata.deletion_timestamp
                and any(o.kind == "ReplicaSet" and o.name.rsplit("-", 1)[0] == name
                        for o in p.metadata.owner_references or ())]
        return max(pods, key=lambda p: p.metadata.creation_timestamp).metadata.uid if pods else None

    def _restart_replaced_controllers(self, pods):
        for name, (uid, arguments) in list(self.controller_runs.items()):
            current = self._controller_pod(name, pods)
            if current and current != uid:
                self.controller_runs[name] = (current, arguments)
                if uid:  # the pod it stood for was replaced, not merely created after the process
                    _stop_process(self.controllers[name])
                    self.controllers[name] = self.sealed.popen(*arguments)

    def _config_map(self, name):
        """The ConfigMap once it exists (the role applies it after the ServiceAccount); None on stop."""
        while not self._stop.is_set():
            try:
                return self.core.read_namespaced_config_map(name, self.namespace)
            except client.exceptions.ApiException as error:
                if error.status != 404:
                    raise
            self._stop.wait(0.2)
        return None

    def _pods(self, every_pod=None):
        """The Raft pods, from `every_pod` of the namespace when the caller has listed them already."""
        if every_pod is None:
            selector = "raft.atomix.io/cluster={}".format(self.cluster_name)
            return self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        return [p for p in every_pod if (p.metadata.labels or {}).get("raft.atomix.io/cluster") == self.cluster_name]

    def _dns(self, pod):
        return "{}.{}-hs.{}.svc.{}".format(pod, self.cluster_name, self.namespace, CLUSTER_DOMAIN)

    def _set_finalizer(self, pod, present):
        key = "metadata" if present else "$deleteFromPrimitiveList/finalizers"
        body = {"metadata": {"finalizers": [NODE_FINALIZER]}} if present else {"metadata": {key: [NODE_FINALIZER]}}
        try:
            self.core.patch_namespaced_pod(pod.metadata.name, self.namespace, body)
        except client.exceptions.ApiException as error:
            if error.status != 404:
                raise

    def _follow_pods(self):
        # Like a kubelet, a pod being deleted keeps its object (NODE_FINALIZER) until its node process
        # has stopped, so that a replacement pod with the same name (and often the same IP) never
        # meets the old process.
        while not self._stop.wait(0.2):
            every_pod = self.core.list_namespaced_pod(self.namespace).items  # one list a round, controllers too
            pods = self._pods(every_pod)
            live = {p.metadata.name: (p.metadata.uid, p.status.pod_ip) for p in pods
                    if p.status.pod_ip and not p.metadata.deletion_timestamp}
            for name in [n for n in self.nodes if self.nodes[n][:2] != live.get(n)]:
                self._stop_node(name)
            for pod in pods:
                if pod.metadata.deletion_timestamp and NODE_FINALIZER in (pod.metadata.finalizers or []):
                    self._set_finalizer(pod, False)
            if live:
                self.sealed.set_hosts({ip: [self._dns(name)] for name, (_uid, ip) in live.items()})
            for pod in pods:
                name = pod.metadata.name
                if name in live and name not in self.nodes:
                    if NODE_FINALIZER not in (pod.metadata.finalizers or []):
                        self._set_finalizer(pod, True)
                    self._start_node(name, *live[name])
            for name in [n for n in self.nodes if n not in self.announced and self._listening(n)]:
                self._announce(name)
            self._restart_replaced_controllers(every_pod)

    def _listening(self, pod):
        _uid, ip, _process = self.nodes[pod]
        result = self.sealed.run("ss", "-Hltn", "src", "{}:{}".format(ip, API_PORT))
        return result.returncode == 0 and bool(result.stdout.strip())

    def _announce(self, pod):
        """A kubelet reports a Raft pod Ready only once its node listens, and that status change makes
        the raft controller reconcile the pod again (and open its Watch stream, which it does not
        retry by itself). KWOK reports Ready at once, so the harness makes that change itself: an
        annotation, written when the node process listens."""
        uid = self.nodes[pod][0]
        body = {"metadata": {"annotations": {NODE_LISTENING: uid}}}
        try:
            self.core.patch_namespaced_pod(pod, self.namespace, body)
        except client.exceptions.ApiException as error:
            if error.status != 404:
                raise
        self.announced.add(pod)

    def _release_pods(self):
        for pod in self._pods():
            if NODE_FINALIZER in (pod.metadata.finalizers or []):
                self._set_finalizer(pod, False)

    def _release_controller_finalizers(self):
        """Once the controllers are stopped, nothing would ever remove their finalizers (raft.atomix.io/...)
        from the Raft pods and RaftReplicas left behind, and the namespace could never be deleted: remove
        them, as whoever uninstalls a controller before its objects has to."""
        custom = client.CustomObjectsApi(self.api)
        held = [("pod", p.metadata.name, p.metadata.finalizers) for p in self._pods()]
        try:
            replicas = custom.list_namespaced_custom_object("raft.atomix.io", "v1beta3", self.namespace, "raftreplicas")
        except client.exceptions.ApiException as error:
            if error.status != 404:
                raise
            replicas = {"items": []}
        held += [("raftreplica", r["metadata"]["name"], r["metadata"].get("finalizers")) for r in replicas["items"]]
        for kind, name, finalizers in held:
            theirs = [f for f in finalizers or () if f.startswith("raft.atomix.io/")]
            if not theirs:
                continue
            try:
                if kind == "pod":  # a strategic merge patch: finalizers merge unless deleted by value
                    self.core.patch_namespaced_pod(
                        name, self.namespace, {"metadata": {"$deleteFromPrimitiveList/finalizers": theirs}})
                else:  # a JSON merge patch replaces the list
                    kept = [f for f in finalizers if f not in theirs]
                    custom.patch_namespaced_custom_object("raft.atomix.io", "v1beta3", self.namespace, "raftreplicas",
                                                          name, {"metadata": {"finalizers": kept or None}})
            except client.exceptions.ApiException as error:
                if error.status != 404:
                    raise

    def _start_node(self, pod, uid, ip):
        try:
            config_map = self.core.read_namespaced_config_map(self.cluster_name + "-raft-config", self.namespace)
        except client.exceptions.ApiException as error:
            if error.status == 404:
                return
            raise
        directory = os.path.join(self.workdir, "node-" + pod)
        os.makedirs(os.path.join(directory, "data"), exist_ok=True)
        config = yaml.safe_load(config_map.data["raft.yaml"]) or {}
        config.setdefault("node", {})["dataDir"] = os.path.join(directory, "data")
        with open(os.path.join(directory, "raft.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)
        with open(os.path.join(directory, "logging.yaml"), "w", encoding="utf-8") as f:
            f.write(config_map.data.get("logging.yaml", ""))
        process = self.sealed.popen(
            [os.path.join(self.bindir, NODE_BINARY), "--config", os.path.join(directory, "raft.yaml"),
             "--api-host", ip, "--api-port", str(API_PORT), "--raft-host", self._dns(pod), "--raft-port", str(RAFT_PORT)],
            directory, {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": directory},
            os.path.join(self.workdir, "node-{}.log".format(pod)))
        self.nodes[pod] = (uid, ip, process)

    def _stop_node(self, pod):
        _uid, _ip, process = self.nodes.pop(pod)
        self.announced.discard(pod)
        _stop_process(process)

    def exited(self):
        return [n for n, p in self.controllers.items() if p.poll() is not None]

    def logs(self, tail=30):
        out = {}
        for name in list(CONTROLLERS) + ["node-" + n for n in self.nodes]:
            path = os.path.join(self.workdir, name + ".log")
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().splitlines()
                    out[name] = "\n".join(lines if tail is None else lines[-tail:])
        return out

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for pod in list(self.nodes):
            self._stop_node(pod)
        for process in self.controllers.values():
            _stop_process(process)
        self._guard(self._release_pods)
        self._guard(self._release_controller_finalizers)
        self.sealed.stop()


def _stop_process(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
