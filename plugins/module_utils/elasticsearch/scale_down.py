# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""elasticsearch_rolling scale_down to N replicas: the nodes leave the cluster before their pods go.

Exclude the nodes of pods N.. from the voting configuration, move their shards away
(cluster.routing.allocation.exclude._name) and wait until none is left on them, scale the StatefulSet,
wait until the pods are gone and the nodes left the cluster, clear the voting exclusions and the
allocation exclude, wait for the wanted status. PersistentVolumeClaims are kept.
"""

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import ElasticsearchError
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import describe_pods
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.rolling import Rolling
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.members import statefulset_pods
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import object_path

EXCLUDE_SETTING = "cluster.routing.allocation.exclude._name"


class ScaleDown(Rolling):
    def execute(self):
        current = statefulset_pods(self.sts)
        target = self.params["replicas"]
        if target >= len(current):
            return self.result(removed=[], kept_pvcs=[])
        removed = current[target:]
        kept_pvcs = ["%s-%s" % (t["metadata"]["name"], pod) for pod in removed
                     for t in self.sts.get("spec", {}).get("volumeClaimTemplates") or []]
        pods = self.running_pods(current)
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
        self.kube.request("PATCH", object_path("StatefulSet", self.namespace, self.name) + "/scale",
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
                self.fail_stuck(admin, removed, stuck)

    def fail_stuck(self, admin, removed, stuck):
        first = stuck[0]
        explanation = ""
        try:
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
