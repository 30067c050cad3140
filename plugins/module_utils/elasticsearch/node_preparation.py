# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a node is prepared for its restart, as ECK does: the node shutdown API, or allocation of primaries only.

Each preparation records what it does through ``step`` (Rolling.step) and raises ElasticsearchError.
"""


def choose(admin, method, reason, step):
    """The preparation for ``method`` (auto: the node shutdown API where the nodes have it); None where they lack it."""
    if method != "allocation" and admin.supports_node_shutdown():
        return NodeShutdown(reason, step)
    return None if method == "node_shutdown" else AllocationPrimaries(step)


class NodeShutdown(object):
    """A shutdown record of type restart (Elasticsearch >= 7.15.2): the cluster waits for the node to come back."""

    name = "node_shutdown"

    def __init__(self, reason, step):
        self.reason, self.step = reason, step

    def clear_leftovers(self, admin, node_ids):
        """Delete the restart records an interrupted run left for nodes in the cluster (node_ids(): name -> id)."""
        ids = node_ids()
        for record in admin.node_shutdown_status():
            if record.get("type", "").lower() == "restart" and record.get("node_id") in ids.values():
                admin.delete_node_shutdown(record["node_id"])
                self.step("delete_node_shutdown", node_id=record["node_id"],
                          note="left by an interrupted restart; the node is back")

    def prepare(self, admin, pod, node_id):
        admin.put_node_shutdown(node_id, self.reason, "restart")
        self.step("node_shutdown", pod, node_id=node_id, type="restart")

    def undo(self, admin, pod, node_id):
        admin.delete_node_shutdown(node_id)
        self.step("delete_node_shutdown", pod, node_id=node_id)


class AllocationPrimaries(object):
    """cluster.routing.allocation.enable=primaries while the node is away, then what it was before."""

    name = "allocation"

    def __init__(self, step):
        self.step = step
        self.previous = None

    def clear_leftovers(self, admin, node_ids):
        if admin.allocation() == "primaries":
            admin.set_allocation(None)
            self.step("reset_allocation", previous="primaries",
                      note="left at primaries by an interrupted restart; every node is back")

    def prepare(self, admin, pod, node_id):
        self.previous = admin.allocation()
        admin.set_allocation("primaries")
        self.step("allocation_primaries", pod, previous=self.previous)

    def undo(self, admin, pod, node_id):
        admin.set_allocation(self.previous)
        self.step("allocation_restored", pod, value=self.previous)
