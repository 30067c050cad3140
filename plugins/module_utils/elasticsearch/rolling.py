# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe day-2 operations on an Elasticsearch StatefulSet: one pod at a time, voting exclusions.

restart / update (the StatefulSet uses updateStrategy OnDelete, so Kubernetes itself restarts nothing):
for each pod, elected master last, only while the cluster has the wanted status:
  1. prepare the node: the node shutdown API (type restart; Elasticsearch >= 7.15.2), or
     cluster.routing.allocation.enable=primaries; then a flush;
  2. delete the pod and wait (watch) until its replacement is Ready (its readiness probe: the node
     joined a cluster with an elected master), at the StatefulSet's update revision for ``update``;
  3. wait until the cluster has every node again (server-side wait_for_nodes);
  4. undo step 1 (delete the shutdown record, or put allocation back to what it was);
  5. wait until the cluster has the wanted status (server-side wait_for_status).
``update`` restarts only pods whose controller-revision-hash differs from the update revision (an
image or configuration change); ``restart`` restarts every pod (or those named).

scale_down to N replicas: exclude the nodes of pods N.. from the voting configuration, move their
shards away (cluster.routing.allocation.exclude._name) and wait until none is left on them, scale the
StatefulSet, wait until the pods are gone and the nodes left the cluster, clear the voting
exclusions and the allocation exclude, wait for the wanted status. PersistentVolumeClaims are kept.

All admin calls go to a node that is not being restarted or removed, through port-forward. Every
step is recorded (``steps``) in order. One deadline for the whole run.
"""

import time

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
    HEALTH_STATUSES,
    ClusterHealthError,
    ElasticsearchError,
    check_health,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import (
    CONNECTION_SPEC,
    POD_PATH,
    REVISION_LABEL,
    STATEFULSET_PATH,
    Connection,
    EsK8sError,
    describe_pods,
    is_ready,
    members_running,
    ordinal,
    statefulset_pods,
    validate_connection,
)

EXCLUDE_SETTING = "cluster.routing.allocation.exclude._name"
ALLOCATION_SETTING = "cluster.routing.allocation.enable"

ROLLING_SPEC = {k: v for k, v in CONNECTION_SPEC.items() if k != "endpoints"}
ROLLING_SPEC.update({
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "required": True},
    "action": {"type": "str", "required": True, "choices": ["restart", "update", "scale_down"]},
    "pods": {"type": "list", "elements": "str"},
    "replicas": {"type": "int"},
    "wait_for_status": {"type": "str", "default": "green", "choices": ["green", "yellow"]},
    "method": {"type": "str", "default": "auto", "choices": ["auto", "node_shutdown", "allocation"]},
    "reason": {"type": "str", "default": "stateful.datastores rolling restart"},
})


def validate(params):
    problems = validate_connection(params)
    if params["action"] == "scale_down":
        if params.get("replicas") is None:
            problems.append("replicas (the number of pods to keep) is required with action scale_down")
        elif params["replicas"] < 1:
            problems.append("replicas must be at least 1, got %d" % params["replicas"])
    elif params.get("replicas") is not None:
        problems.append("replicas only applies to action scale_down")
    if params.get("pods") and params["action"] != "restart":
        problems.append("pods only applies to action restart")
    return problems


class RollingError(EsK8sError):
    pass


class Rolling:
    """One run of the module; ``steps`` records what was done, in order."""

    def __init__(self, params, check_mode, kube_factory, clock=time.monotonic, connection=None):
        self.params = params
        self.check_mode = check_mode
        self.deadline = Deadline(params["timeout"], clock)
        self.connection = connection or Connection(params, kube_factory)
        self.kube = self.connection.kube
        self.sts = self.connection.sts
        self.namespace, self.name = params["namespace"], params["name"]
        self.status = params["wait_for_status"]
        self.steps = []
        self.clients = {}
        self.method = None

    # ------------------------------------------------------------------ bookkeeping
    def step(self, action, pod=None, **details):
        entry = {"action": action, "pod": pod, "at": self.deadline.elapsed()}
        entry.update(details)
        self.steps.append(entry)
        return entry

    def result(self, **extra):
        result = {"changed": any(s["action"] in ("delete_pod", "scale") for s in self.steps),
                  "action": self.params["action"], "steps": self.steps, "method": self.method,
                  "statefulset": {"name": self.name, "namespace": self.namespace,
                                  "replicas": self.sts.get("spec", {}).get("replicas"),
                                  "update_revision": self.sts.get("status", {}).get("updateRevision")},
                  "elapsed": self.deadline.elapsed()}
        result.update(extra)
        return result

    def fail(self, message, **extra):
        raise RollingError("StatefulSet %s/%s, %s: %s" % (self.namespace, self.name, self.params["action"], message),
                           self.result(**extra))

    def left(self):
        left = self.deadline.remaining()
        if left <= 0:
            self.fail("the deadline of %ds passed" % self.params["timeout"])
        return left

    # ------------------------------------------------------------------ cluster
    def admin(self, avoid=()):
        """The client of the lowest-ordinal pod not in ``avoid`` (the one pod when there is only one)."""
        for pod in sorted(self.clients, key=ordinal):
            if pod not in avoid:
                return self.clients[pod]
        return self.clients[sorted(self.clients, key=ordinal)[0]]

    def wait_healthy(self, pods, what, status="wanted"):
        """check_health over the given pods' clients: one cluster of len(pods) nodes with the status."""
        wanted = self.status if status == "wanted" else status
        try:
            health = check_health([self.clients[p] for p in pods], len(pods), wanted, deadline=self.deadline,
                                  request_timeout=self.params["request_timeout"])
        except ClusterHealthError as error:
            self.fail("%s: %s" % (what, error), health=error.result)
        return health

    def node_ids(self, admin):
        try:
            return admin.node_ids()
        except ElasticsearchError as error:
            self.fail("listing the nodes: %s" % error)

    def elected_master(self, admin):
        try:
            rows = admin.cat_nodes(columns=("name", "master"))
        except ElasticsearchError as error:
            self.fail("finding the elected master: %s" % error)
        return next((row.get("name") for row in rows if row.get("master") == "*"), None)

    def choose_method(self, admin):
        wanted = self.params["method"]
        if wanted == "allocation":
            return "allocation"
        supported = admin.supports_node_shutdown()
        if wanted == "node_shutdown" and not supported:
            distribution, version = admin.version()
            self.fail("method node_shutdown needs Elasticsearch >= 7.15.2; the nodes run %s %s" % (
                distribution, ".".join(map(str, version))))
        return "node_shutdown" if supported else "allocation"

    def server_wait(self, admin, what, **params):
        """GET /_cluster/health with server-side waiting for the time left; fails naming ``what`` on timeout."""
        left = self.left()
        query = dict(params)
        query["timeout"] = query["master_timeout"] = "%dms" % max(1, int((left - min(2.0, left * 0.1)) * 1000))
        try:
            body = admin.get("/_cluster/health", query, timeout=left + 5, expect=(200, 408))
        except ElasticsearchError as error:
            self.fail("%s: %s" % (what, error))
        if body.get("timed_out"):
            self.fail("%s: not reached within the deadline (cluster %s, %s nodes, %s relocating, %s unassigned "
                      "shards)" % (what, body.get("status"), body.get("number_of_nodes"),
                                   body.get("relocating_shards"), body.get("unassigned_shards")), health=body)
        return body

    # ------------------------------------------------------------------ kubernetes
    def refresh_sts(self):
        self.sts = self.kube.get(STATEFULSET_PATH.format(namespace=self.namespace, name=self.name))
        return self.sts

    def wait_sts_observed(self):
        """The controller computes updateRevision for the spec it has observed: wait (watch) for it."""
        from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watch import list_and_watch
        import threading

        def observed(sts):
            return (sts.get("status", {}).get("observedGeneration") or 0) >= sts["metadata"].get("generation", 0)

        if observed(self.refresh_sts()):
            return self.sts
        seen = threading.Condition()
        state = {"sts": self.sts}
        stop = threading.Event()

        def on_event(kind, obj):
            with seen:
                items = obj if kind == "SYNC" else [obj] if kind in ("ADDED", "MODIFIED") else []
                for item in items:
                    if item.get("metadata", {}).get("name") == self.name:
                        state["sts"] = item
                seen.notify_all()

        path = "/apis/apps/v1/namespaces/%s/statefulsets" % self.namespace
        threading.Thread(target=list_and_watch, daemon=True,
                         args=(self.kube, path, {"fieldSelector": "metadata.name=" + self.name}, on_event,
                               stop.is_set)).start()
        try:
            with seen:
                while not observed(state["sts"]):
                    left = self.deadline.remaining()
                    if left <= 0:
                        self.fail("the StatefulSet controller has not observed generation %s yet" %
                                  state["sts"]["metadata"].get("generation"))
                    seen.wait(timeout=left)
        finally:
            stop.set()
        self.sts = state["sts"]
        return self.sts

    def delete_pod(self, pod, uid):
        body = {"propagationPolicy": "Background", "preconditions": {"uid": uid}}
        self.kube.request("DELETE", POD_PATH.format(namespace=self.namespace, name=pod), body=body)

    def wait_replaced(self, pods, pod, old_uid, revision=None):
        def replaced(current):
            new = current.get(pod)
            if new is None or new["metadata"].get("uid") == old_uid or not is_ready(new):
                return False
            return revision is None or new["metadata"].get("labels", {}).get(REVISION_LABEL) == revision

        if not pods.wait(replaced, self.deadline):
            self.fail("pod %s was deleted but no replacement became Ready%s in time; pods: %s" % (
                pod, " at revision %s" % revision if revision else "", describe_pods(pods.pods.values())))
        return pods.pods[pod]

    # ------------------------------------------------------------------ restart / update
    def plan(self, pods, wanted):
        action = self.params["action"]
        if action == "update":
            revision = self.sts.get("status", {}).get("updateRevision")
            return [p for p in wanted if pods[p]["metadata"].get("labels", {}).get(REVISION_LABEL) != revision]
        chosen = self.params.get("pods") or wanted
        unknown = [p for p in chosen if p not in wanted]
        if unknown:
            self.fail("pods %s are not pods of the StatefulSet (%s)" % (", ".join(unknown), ", ".join(wanted)))
        return list(chosen)

    def order(self, todo, master):
        """Highest ordinal first, as a StatefulSet rolls; the elected master last (one election, not several)."""
        ordered = sorted(todo, key=ordinal, reverse=True)
        if master in ordered:
            ordered.remove(master)
            ordered.append(master)
        return ordered

    def run_restarts(self):
        if self.params["action"] == "update":
            self.wait_sts_observed()
        wanted = statefulset_pods(self.sts)
        pods = self.connection.pod_set()
        if not pods.wait(members_running(wanted), self.deadline):
            self.fail("not every pod runs: %s" % describe_pods(pods.pods.values()))
        todo = self.plan(pods.pods, wanted)
        revision = self.sts.get("status", {}).get("updateRevision") if self.params["action"] == "update" else None
        if not todo:
            return self.result(restarted=[], planned=[])
        self.clients = self.connection.open(wanted)
        admin = self.admin()
        master = self.elected_master(admin)
        ordered = self.order(todo, master)
        self.method = self.choose_method(admin)
        if self.check_mode:
            return self.result(changed=True, planned=ordered, restarted=[], elected_master=master)
        self.resume_leftovers(wanted)
        restarted = []
        for pod in ordered:
            self.restart_one(pods, wanted, pod, revision)
            restarted.append(pod)
        return self.result(planned=ordered, restarted=restarted, elected_master=master)

    def resume_leftovers(self, wanted):
        """Undo what an interrupted run left behind, once every node is back in the cluster."""
        admin = self.admin()
        self.wait_healthy(wanted, "before restarting, every node must be in the cluster", status=None)
        if self.method == "allocation":
            if admin.allocation() == "primaries":
                admin.set_allocation(None)
                self.step("reset_allocation", previous="primaries",
                          note="left at primaries by an interrupted restart; every node is back")
        else:
            ids = self.node_ids(admin)
            for record in admin.node_shutdown_status():
                if record.get("type", "").lower() == "restart" and record.get("node_id") in ids.values():
                    admin.delete_node_shutdown(record["node_id"])
                    self.step("delete_node_shutdown", node_id=record["node_id"],
                              note="left by an interrupted restart; the node is back")

    def restart_one(self, pods, wanted, pod, revision):
        self.wait_healthy(wanted, "before restarting %s the cluster must be %s with %d nodes" % (
            pod, self.status, len(wanted)))
        admin = self.admin(avoid=(pod,))
        node_id = self.node_ids(admin).get(pod)
        if node_id is None:
            self.fail("no node named %s in the cluster (node.name must be the pod name)" % pod)
        previous = None
        try:
            if self.method == "node_shutdown":
                admin.put_node_shutdown(node_id, self.params["reason"], "restart")
                self.step("node_shutdown", pod, node_id=node_id, type="restart")
            else:
                previous = admin.allocation()
                admin.set_allocation("primaries")
                self.step("allocation_primaries", pod, previous=previous)
            shards = admin.flush(timeout=self.left())
            self.step("flush", pod, shards=shards)
        except ElasticsearchError as error:
            self.fail("preparing node %s for its restart: %s" % (pod, error))
        old = pods.list_once().pods[pod]
        self.delete_pod(pod, old["metadata"]["uid"])
        self.step("delete_pod", pod, uid=old["metadata"]["uid"])
        new = self.wait_replaced(pods, pod, old["metadata"]["uid"], revision)
        self.step("pod_ready", pod, uid=new["metadata"]["uid"],
                  revision=new["metadata"].get("labels", {}).get(REVISION_LABEL))
        self.server_wait(admin, "waiting for node %s to rejoin" % pod, wait_for_nodes=str(len(wanted)))
        if pod not in self.node_ids(admin):
            self.fail("the cluster has %d nodes again, but none is named %s" % (len(wanted), pod))
        self.step("node_joined", pod)
        try:
            if self.method == "node_shutdown":
                admin.delete_node_shutdown(node_id)
                self.step("delete_node_shutdown", pod, node_id=node_id)
            else:
                admin.set_allocation(previous)
                self.step("allocation_restored", pod, value=previous)
        except ElasticsearchError as error:
            self.fail("node %s is back, but undoing its preparation failed: %s" % (pod, error))
        health = self.server_wait(admin, "waiting for %s after restarting %s" % (self.status, pod),
                                  wait_for_status=self.status, wait_for_nodes=str(len(wanted)))
        self.step("cluster_" + self.status, pod, status=health.get("status"))

    # ------------------------------------------------------------------ scale down
    def run_scale_down(self):
        current = statefulset_pods(self.sts)
        target = self.params["replicas"]
        if target >= len(current):
            return self.result(removed=[], kept_pvcs=[])
        keep, removed = current[:target], current[target:]
        kept_pvcs = ["%s-%s" % (t["metadata"]["name"], pod) for pod in removed
                     for t in self.sts.get("spec", {}).get("volumeClaimTemplates") or []]
        pods = self.connection.pod_set()
        if not pods.wait(members_running(current), self.deadline):
            self.fail("not every pod runs: %s" % describe_pods(pods.pods.values()))
        if self.check_mode:
            return self.result(changed=True, removed=removed, kept_pvcs=kept_pvcs)
        self.clients = self.connection.open(current)
        admin = self.admin(avoid=removed)
        self.wait_healthy(current, "before scaling down the cluster must be %s with %d nodes" % (
            self.status, len(current)))
        try:
            exclusions = admin.exclude_voting(removed, timeout=min(60.0, self.left()))
            self.step("voting_exclusions", nodes=removed, changed=exclusions["changed"])
            settings = admin.cluster_settings()
            previous = settings.get("persistent", {}).get(EXCLUDE_SETTING)
            admin.put_cluster_settings(persistent={EXCLUDE_SETTING: ",".join(removed)})
            self.step("allocation_exclude", nodes=removed, previous=previous)
        except ElasticsearchError as error:
            self.fail("excluding %s: %s" % (", ".join(removed), error))
        self.wait_drained(admin, removed)
        self.kube.request("PATCH", STATEFULSET_PATH.format(namespace=self.namespace, name=self.name) + "/scale",
                          {"fieldManager": "stateful.datastores"}, body={"spec": {"replicas": target}},
                          content_type="application/merge-patch+json")
        self.step("scale", replicas=target, previous=len(current))
        if not pods.wait(lambda now: not any(p in now for p in removed), self.deadline):
            self.fail("scaled to %d, but pods %s are still there: %s" % (
                target, ", ".join(removed), describe_pods(pods.pods.values())))
        self.step("pods_gone", pods=removed)
        self.server_wait(admin, "waiting for nodes %s to leave the cluster" % ", ".join(removed),
                         wait_for_nodes=str(target))
        self.step("nodes_left", nodes=removed)
        try:
            cleared = admin.clear_voting_exclusions(wait_for_removal=True, timeout=self.left())
            self.step("voting_exclusions_cleared", previous=[e.get("node_name") for e in cleared["previous"]])
            admin.put_cluster_settings(persistent={EXCLUDE_SETTING: previous})
            self.step("allocation_exclude_restored", value=previous)
        except ElasticsearchError as error:
            self.fail("the nodes left, but clearing the exclusions failed: %s" % error)
        health = self.server_wait(admin, "waiting for %s after scaling down" % self.status,
                                  wait_for_status=self.status, wait_for_nodes=str(target))
        self.step("cluster_" + self.status, status=health.get("status"))
        return self.result(removed=removed, kept_pvcs=kept_pvcs)

    def wait_drained(self, admin, removed):
        """Until no shard copy is on the removed nodes; the server waits for relocations meanwhile."""
        while True:
            # languid: the reroute that the exclude triggered has run, so "nothing relocating" is not too early.
            self.server_wait(admin, "moving shards off %s" % ", ".join(removed), wait_for_events="languid",
                             wait_for_no_relocating_shards="true", wait_for_no_initializing_shards="true")
            try:
                rows = admin.get("/_cat/shards", {"format": "json", "h": "index,shard,prirep,state,node"}) or []
            except ElasticsearchError as error:
                self.fail("listing shards: %s" % error)
            left = [r for r in rows if r.get("node") in removed]
            if not left:
                self.step("shards_moved", nodes=removed)
                return
            stuck = [r for r in left if r.get("state") == "STARTED"]
            if stuck and not any(r.get("state") in ("RELOCATING", "INITIALIZING") for r in rows):
                explanation = ""
                try:
                    first = stuck[0]
                    body = admin.request("POST", "/_cluster/allocation/explain", body={
                        "index": first["index"], "shard": int(first["shard"]), "primary": first["prirep"] == "p"})[1]
                    explanation = "; %s" % (body.get("explanation") or body.get("move_explanation")
                                            or body.get("allocate_explanation") or "")
                except ElasticsearchError:
                    pass
                self.fail("%d shard copies cannot move off %s (for example [%s][%s] %s)%s; the nodes were not "
                          "removed, the voting exclusions and the allocation exclude stay until you clear them or "
                          "give the cluster room" % (len(stuck), ", ".join(removed), first["index"], first["shard"],
                                                     "primary" if first["prirep"] == "p" else "replica", explanation))

    # ------------------------------------------------------------------ entry
    def run(self):
        try:
            if self.params["action"] == "scale_down":
                return self.run_scale_down()
            return self.run_restarts()
        finally:
            self.connection.close()


def run(params, check_mode=False, kube_factory=None):
    """Everything elasticsearch_rolling does: returns the result, or raises RollingError/EsK8sError."""
    if params["wait_for_status"] not in HEALTH_STATUSES:
        raise EsK8sError("wait_for_status must be green or yellow")
    return Rolling(params, check_mode, kube_factory).run()
