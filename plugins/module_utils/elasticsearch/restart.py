# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""elasticsearch_rolling restart / update: one pod at a time, the elected master last.

The StatefulSet uses updateStrategy OnDelete, so Kubernetes itself restarts nothing. For each pod,
only while the cluster has the wanted status:
  1. prepare the node (node_preparation.py: the node shutdown API, or allocation of primaries only);
     then a flush;
  2. delete the pod and wait (watch) until its replacement is Ready (its readiness probe: the node
     joined a cluster with an elected master), at the StatefulSet's update revision for ``update``;
  3. wait until the cluster has every node again (server-side wait_for_nodes);
  4. undo step 1;
  5. wait until the cluster has the wanted status (server-side wait_for_status).
``update`` restarts only pods whose controller-revision-hash differs from the update revision (an
image or configuration change); ``restart`` restarts every pod (or those named).
"""

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch import node_preparation
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import ElasticsearchError
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import (
    REVISION_LABEL,
    describe_pods,
)
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.rolling import Rolling
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.members import is_ready, ordinal, statefulset_pods
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import collection_path, object_path
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watched import Watched


def _observed(sts):
    return (sts.get("status", {}).get("observedGeneration") or 0) >= sts["metadata"].get("generation", 0)


class RollingRestart(Rolling):
    preparation = None  # node_preparation.NodeShutdown or AllocationPrimaries, once the nodes are asked

    def execute(self):
        if self.params["action"] == "update":
            self.wait_sts_observed()
        wanted = statefulset_pods(self.sts)
        pods = self.running_pods(wanted)
        todo = self.plan(pods.pods, wanted)
        revision = self.sts.get("status", {}).get("updateRevision") if self.params["action"] == "update" else None
        if not todo:
            return self.result(restarted=[], planned=[])
        self.clients = self.connection.open(wanted)
        admin = self.admin()
        master = self.elected_master(admin)
        ordered = self.order(todo, master)
        self.choose_preparation(admin)
        if self.check_mode:
            return self.result(changed=True, planned=ordered, restarted=[], elected_master=master)
        self.resume_leftovers(wanted)
        restarted = []
        for pod in ordered:
            self.restart_one(pods, wanted, pod, revision)
            restarted.append(pod)
        return self.result(planned=ordered, restarted=restarted, elected_master=master)

    # ------------------------------------------------------------------ planning
    def wait_sts_observed(self):
        """The controller computes updateRevision for the spec it has observed: wait (watch) for it."""
        self.sts = self.kube.get(object_path("StatefulSet", self.namespace, self.name))
        if _observed(self.sts):
            return
        watched = Watched(self.kube, collection_path("StatefulSet", self.namespace),
                          {"fieldSelector": "metadata.name=" + self.name}, what="StatefulSet " + self.name)
        if not watched.wait(lambda found: self.name in found and _observed(found[self.name]), self.deadline):
            self.fail("the StatefulSet controller has not observed generation %s yet" %
                      watched.objects.get(self.name, self.sts)["metadata"].get("generation"))
        self.sts = watched.objects[self.name]

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

    def elected_master(self, admin):
        try:
            rows = admin.cat_nodes(columns=("name", "master"))
        except ElasticsearchError as error:
            self.fail("finding the elected master: %s" % error)
        return next((row.get("name") for row in rows if row.get("master") == "*"), None)

    def choose_preparation(self, admin):
        self.preparation = node_preparation.choose(admin, self.params["method"], self.params["reason"], self.step)
        if self.preparation is None:
            distribution, version = admin.version()
            self.fail("method node_shutdown needs Elasticsearch >= 7.15.2; the nodes run %s %s" % (
                distribution, ".".join(map(str, version))))
        self.method = self.preparation.name

    def node_ids(self, admin):
        try:
            return admin.node_ids()
        except ElasticsearchError as error:
            self.fail("listing the nodes: %s" % error)

    # ------------------------------------------------------------------ restarting
    def resume_leftovers(self, wanted):
        """Undo what an interrupted run left behind, once every node is back in the cluster."""
        admin = self.admin()
        self.wait_healthy(wanted, "before restarting, every node must be in the cluster", status=None)
        self.preparation.clear_leftovers(admin, lambda: self.node_ids(admin))

    def restart_one(self, pods, wanted, pod, revision):
        self.wait_healthy(wanted, "before restarting %s the cluster must be %s with %d nodes" % (
            pod, self.status, len(wanted)))
        admin = self.admin(avoid=(pod,))
        node_id = self.node_ids(admin).get(pod)
        if node_id is None:
            self.fail("no node named %s in the cluster (node.name must be the pod name)" % pod)
        try:
            self.preparation.prepare(admin, pod, node_id)
            shards = admin.flush(timeout=self.left())
            self.step("flush", pod, shards=shards)
        except ElasticsearchError as error:
            self.fail("preparing node %s for its restart: %s" % (pod, error))
        old = pods.list_once().pods[pod]
        self.kube.request("DELETE", object_path("Pod", self.namespace, pod),
                          body={"propagationPolicy": "Background", "preconditions": {"uid": old["metadata"]["uid"]}})
        self.step("delete_pod", pod, uid=old["metadata"]["uid"])
        new = self.wait_replaced(pods, pod, old["metadata"]["uid"], revision)
        self.step("pod_ready", pod, uid=new["metadata"]["uid"],
                  revision=new["metadata"].get("labels", {}).get(REVISION_LABEL))
        self.server_wait(admin, "waiting for node %s to rejoin" % pod, wait_for_nodes=str(len(wanted)))
        if pod not in self.node_ids(admin):
            self.fail("the cluster has %d nodes again, but none is named %s" % (len(wanted), pod))
        self.step("node_joined", pod)
        try:
            self.preparation.undo(admin, pod, node_id)
        except ElasticsearchError as error:
            self.fail("node %s is back, but undoing its preparation failed: %s" % (pod, error))
        health = self.server_wait(admin, "waiting for %s after restarting %s" % (self.status, pod),
                                  wait_for_status=self.status, wait_for_nodes=str(len(wanted)))
        self.step("cluster_" + self.status, pod, status=health.get("status"))

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
