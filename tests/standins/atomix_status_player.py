# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plays the Atomix 1.x raft controller's part in one namespace; kept only where the real one cannot run.

The real controllers of both generations are built and run by the tests (tests/servers/atomix):
cloud-v1beta2 on the host, v1 with real Raft nodes in a sealed network namespace, and on real nodes
(tests/realnodes). This stand-in remains only for tests/backends (the simulated `make demo`, the
molecule scenarios, site.yml's integration tests), which run no sealed namespace for Raft nodes.

For a RaftCluster <c> it creates ConfigMap <c>-raft-config, StatefulSet <c> (Parallel, serviceName
<c>-hs, selector raft.atomix.io/namespace + raft.atomix.io/cluster, claim template atomix-data when
spec.persistence.enabled), Service <c> and headless Service <c>-hs (api 5678, raft 5679), and sets
status.state Ready when the StatefulSet's ready replicas equal spec.replicas, else NotReady. For a
RaftStore <s>: RaftPartitions <s>-1..<s>-N (state Ready once the cluster is Ready), RaftReplicas
<s>-<n>-1..<s>-<n>-<replication factor> of each (Ready with it), DataStore <s>
(driver Raft), status.state Ready when every partition is Ready. Names, ports and labels follow
stores/raft/pkg/controller/raft/v1beta3 at stores/raft/v0.7.0.

Everything it creates carries an owner reference to the resource it came from, so the garbage
collector removes it with that resource. It creates what is missing and never changes what exists,
and writes only the status subresource of the custom resources. KWOK makes the pods ready.

    player = AtomixStatusPlayer(kubeconfig, namespace, "v1")
    player.start()
    ...
    player.stop()

From another process (for a demo on localkube), until SIGTERM or SIGINT::

    python tests/standins/atomix_status_player.py --kubeconfig KUBECONFIG --namespace atomix --generation v1
"""
import argparse
import json
import queue
import signal
import sys
import threading

from kubernetes import client, config

RAFT_GROUP, RAFT_VERSION = "raft.atomix.io", "v1beta3"
ATOMIX_GROUP, ATOMIX_VERSION = "atomix.io", "v3beta4"
API_PORT, RAFT_PORT = 5678, 5679
MAX_ERRORS = 20


class ApiError(Exception):
    def __init__(self, status, text):
        super().__init__("HTTP {}: {}".format(status, text[:300]))
        self.status = status


class Api(object):
    """JSON over the Kubernetes API with the kubernetes client's connection settings."""

    def __init__(self, kubeconfig):
        self.client = config.new_client_from_config(config_file=kubeconfig)

    def request(self, method, path, body=None, query=None, content_type="application/json", timeout=30):
        headers = {"Accept": "application/json", "Content-Type": content_type}
        response = self.client.call_api(
            path, method, query_params=list((query or {}).items()), header_params=headers,
            body=body, auth_settings=["BearerToken"], _preload_content=False,
            _return_http_data_only=True, _request_timeout=timeout)
        return json.loads(response.data or b"null")

    def call(self, method, path, body=None, query=None, content_type="application/json", missing_ok=False):
        try:
            return self.request(method, path, body=body, query=query, content_type=content_type)
        except client.exceptions.ApiException as error:
            if missing_ok and error.status in (404, 409):
                return None
            raise ApiError(error.status, error.body or error.reason or "")

    def watch(self, path, resource_version, timeout_seconds):
        """Yield the events of one watch request (ends after timeout_seconds)."""
        query = [("watch", "true"), ("timeoutSeconds", str(timeout_seconds)),
                 ("resourceVersion", resource_version), ("allowWatchBookmarks", "true")]
        response = self.client.call_api(
            path, "GET", query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
            _request_timeout=timeout_seconds + 10)
        buffered = b""
        try:
            for chunk in response.stream(4096):
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        finally:
            response.release_conn()


def _custom_path(group, version, namespace, plural, name=None, sub=None):
    path = "/apis/{}/{}/namespaces/{}/{}".format(group, version, namespace, plural)
    return path + ("/" + name if name else "") + ("/" + sub if sub else "")


def _core_path(api_version, namespace, plural, name=None):
    prefix = "/api/v1" if api_version == "v1" else "/apis/" + api_version
    return "{}/namespaces/{}/{}".format(prefix, namespace, plural) + ("/" + name if name else "")


def _owner(obj):
    return [{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
             "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": False}]


def _live(items):
    return [o for o in items if not o["metadata"].get("deletionTimestamp")]


class AtomixStatusPlayer(object):
    def __init__(self, kubeconfig, namespace, generation, watch_seconds=15):
        if generation != "v1":
            raise ValueError("the stand-in plays only the v1 controllers; cloud-v1beta2 runs the real ones "
                             "(tests/servers/atomix/controllers.py)")
        self.api = Api(kubeconfig)
        self.namespace = namespace
        self.generation = generation
        self.watch_seconds = watch_seconds
        self.errors = []  # the last MAX_ERRORS problems, for a test's failure message
        self.created = []
        self._stopping = threading.Event()
        self._kicks = queue.Queue()
        self._threads = []

    # -- life cycle ---------------------------------------------------------------------------

    def start(self):
        ns = self.namespace
        watched = [_custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftclusters"),
                   _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftstores"),
                   _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftpartitions")]
        watched.append(_core_path("apps/v1", ns, "statefulsets"))
        for path in watched:
            thread = threading.Thread(target=self._watch_loop, args=(path,), daemon=True)
            thread.start()
            self._threads.append(thread)
        worker = threading.Thread(target=self._work_loop, daemon=True)
        worker.start()
        self._threads.append(worker)
        return self

    def stop(self, timeout=None):
        self._stopping.set()
        self._kicks.put(None)
        for thread in self._threads:
            thread.join(timeout if timeout is not None else self.watch_seconds + 15)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _watch_loop(self, path):
        while not self._stopping.is_set():
            try:
                listing = self.api.call("GET", path)
                self._kicks.put(path)
                version = listing["metadata"]["resourceVersion"]
                for event in self.api.watch(path, version, self.watch_seconds):
                    if self._stopping.is_set():
                        return
                    if event.get("type") == "ERROR":
                        break
                    if event.get("type") != "BOOKMARK":
                        self._kicks.put(path)
            except ApiError as error:
                if error.status != 404:  # 404: the CRD is not installed (yet); try again shortly
                    self._error("watch {}: {}".format(path, error))
                self._stopping.wait(0.5)
            except Exception as error:  # connection dropped: start the watch again
                if not self._stopping.is_set():
                    self._error("watch {}: {!r}".format(path, error))
                self._stopping.wait(0.5)

    def _work_loop(self):
        while not self._stopping.is_set():
            kick = self._kicks.get()
            if kick is None:
                return
            while not self._kicks.empty():  # one reconcile for a burst of events
                if self._kicks.get_nowait() is None:
                    return
            try:
                self.reconcile()
            except ApiError as error:
                if error.status not in (404, 409):
                    self._error("reconcile: {}".format(error))
                self._stopping.wait(0.3)
                self._kicks.put("retry")  # a kind or an object appeared or changed under us: look again
            except Exception as error:
                self._error("reconcile: {!r}".format(error))
                self._stopping.wait(0.3)

    # -- helpers --------------------------------------------------------------------------------

    def _error(self, text):
        self.errors = (self.errors + [text])[-MAX_ERRORS:]

    def _list(self, path):
        return _live(self.api.call("GET", path)["items"])

    def _ensure(self, path, body):
        """Create the object unless it exists; returns the live object."""
        name = body["metadata"]["name"]
        existing = self.api.call("GET", path + "/" + name, missing_ok=True)
        if existing is not None:
            return existing
        created = self.api.call("POST", path, body=body, missing_ok=True)
        if created is None:  # created concurrently
            return self.api.call("GET", path + "/" + name)
        self.created.append("{} {}".format(body["kind"], name))
        return created

    def _set_status(self, path, obj, status):
        current = obj.get("status") or {}
        if all(current.get(k) == v for k, v in status.items()):
            return
        self.api.call("PATCH", path + "/" + obj["metadata"]["name"] + "/status", body={"status": status},
                      content_type="application/merge-patch+json", missing_ok=True)

    def _statefulset(self, name, owner, labels, selector, replicas, image, claim=None, service_name=None):
        container = {
            "name": "atomix-raft-node" if self.generation == "v1" else "raft",
            "image": image or "atomix/raft-node:v0.7.0",
            "ports": [{"name": "api", "containerPort": API_PORT}, {"name": "raft", "containerPort": RAFT_PORT}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
            "volumeMounts": [{"name": "atomix-data", "mountPath": "/var/lib/atomix"}],
        }
        spec = {
            "replicas": replicas,
            "serviceName": service_name or name,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": dict(labels, **selector)}, "spec": {"containers": [container]}},
        }
        if claim:
            spec["volumeClaimTemplates"] = [{"metadata": {"name": "atomix-data"}, "spec": claim}]
        else:
            spec["template"]["spec"]["volumes"] = [{"name": "atomix-data", "emptyDir": {}}]
        body = {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": name, "namespace": self.namespace, "labels": dict(labels, **selector),
                             "ownerReferences": owner},
                "spec": spec}
        return self._ensure(_core_path("apps/v1", self.namespace, "statefulsets"), body)

    def _service(self, name, owner, labels, selector, ports, headless=False):
        spec = {"selector": selector, "ports": ports}
        if headless:
            spec.update({"clusterIP": "None", "publishNotReadyAddresses": True})
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "ownerReferences": owner},
                "spec": spec}
        return self._ensure(_core_path("v1", self.namespace, "services"), body)

    @staticmethod
    def _ready(statefulset, replicas):
        status = statefulset.get("status") or {}
        return replicas > 0 and status.get("readyReplicas", 0) == replicas and status.get("replicas", 0) == replicas

    # -- reconcile ------------------------------------------------------------------------------

    def reconcile(self):
        self._reconcile_v1()

    def _reconcile_v1(self):
        ns = self.namespace
        cluster_path = _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftclusters")
        store_path = _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftstores")
        part_path = _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftpartitions")
        replica_path = _custom_path(RAFT_GROUP, RAFT_VERSION, ns, "raftreplicas")
        datastore_path = _custom_path(ATOMIX_GROUP, ATOMIX_VERSION, ns, "datastores")
        cluster_ready = {}
        clusters = {}
        for cluster in self._list(cluster_path):
            name = cluster["metadata"]["name"]
            spec = cluster.get("spec") or {}
            replicas = int(spec.get("replicas", 1))
            owner = _owner(cluster)
            labels = dict(cluster["metadata"].get("labels") or {})
            selector = {"raft.atomix.io/namespace": ns, "raft.atomix.io/cluster": name}
            self._ensure(_core_path("v1", ns, "configmaps"), {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name + "-raft-config", "namespace": ns, "labels": labels, "ownerReferences": owner},
                "data": {"raft.yaml": "node:\n  rtt: 10ms\n", "logging.yaml": "rootLevel: info\n"}})
            persistence = spec.get("persistence") or {}
            claim = None
            if persistence.get("enabled"):
                claim = {"accessModes": persistence.get("accessModes") or ["ReadWriteOnce"]}
                if persistence.get("storageClass"):
                    claim["storageClassName"] = persistence["storageClass"]
                if persistence.get("size"):
                    claim["resources"] = {"requests": {"storage": str(persistence["size"])}}
            ports = [{"name": "api", "port": API_PORT}, {"name": "protocol", "port": RAFT_PORT}]
            self._service(name, owner, labels, selector, ports)
            self._service(name + "-hs", owner, labels, selector, ports, headless=True)
            statefulset = self._statefulset(name, owner, labels, selector, replicas, spec.get("image"),
                                            claim=claim, service_name=name + "-hs")
            ready = self._ready(statefulset, replicas)
            cluster_ready[name] = ready
            clusters[name] = cluster
            self._set_status(cluster_path, cluster, {"state": "Ready" if ready else "NotReady"})
        for store in self._list(store_path):
            name = store["metadata"]["name"]
            spec = store.get("spec") or {}
            cluster_name = (spec.get("cluster") or {}).get("name")
            if cluster_name not in clusters:
                self._set_status(store_path, store, {"state": "NotReady"})
                continue
            cluster_replicas = int((clusters[cluster_name].get("spec") or {}).get("replicas", 1))
            factor = spec.get("replicationFactor")
            factor = int(factor) if factor and int(factor) <= cluster_replicas else cluster_replicas
            owner = _owner(store)
            labels = dict(store["metadata"].get("labels") or {})
            all_ready = True
            for partition in range(1, int(spec.get("partitions", 1)) + 1):
                obj = self._ensure(part_path, {
                    "apiVersion": "{}/{}".format(RAFT_GROUP, RAFT_VERSION), "kind": "RaftPartition",
                    "metadata": {"name": "{}-{}".format(name, partition), "namespace": ns, "ownerReferences": owner,
                                 "labels": dict(labels, **{"raft.atomix.io/store": name,
                                                           "raft.atomix.io/partition-id": str(partition)})},
                    "spec": {"replicas": factor, "partitionID": partition, "groupID": partition}})
                ready = cluster_ready[cluster_name]
                all_ready = all_ready and ready
                status = {"state": "Ready" if ready else "Initializing", "members": factor if ready else 0}
                self._set_status(part_path, obj, status)
                for member in range(1, factor + 1):
                    replica = self._ensure(replica_path, {
                        "apiVersion": "{}/{}".format(RAFT_GROUP, RAFT_VERSION), "kind": "RaftReplica",
                        "metadata": {"name": "{}-{}".format(obj["metadata"]["name"], member), "namespace": ns,
                                     "ownerReferences": _owner(obj), "labels": obj["metadata"].get("labels") or {}},
                        "spec": {"partitionID": partition, "memberID": member}})
                    self._set_status(replica_path, replica, {"state": "Ready" if ready else "NotReady"})
            self._ensure(datastore_path, {
                "apiVersion": "{}/{}".format(ATOMIX_GROUP, ATOMIX_VERSION), "kind": "DataStore",
                "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner},
                "spec": {"driver": {"name": "atomix.io/raft", "apiVersion": "v1"}, "config": {}}})
            self._set_status(store_path, store, {"state": "Ready" if all_ready else "NotReady",
                                                 "replicationFactor": factor})


def main(argv=None):
    parser = argparse.ArgumentParser(description="Play the Atomix controllers' part in one namespace.")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--generation", choices=["v1"], default="v1")
    args = parser.parse_args(argv)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    player = AtomixStatusPlayer(args.kubeconfig, args.namespace, args.generation).start()
    print(json.dumps({"namespace": args.namespace, "generation": args.generation}), flush=True)
    done.wait()
    player.stop(timeout=5)
    for line in player.errors:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
