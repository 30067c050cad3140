# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""elasticsearch_rolling: its options, and what a run of any of its actions shares.

The actions: restart / update (restart.py, a node prepared as node_preparation.py says) and scale_down
(scale_down.py). All admin calls go to a node that is not being restarted or removed, through
port-forward. Every step is recorded (``steps``) in order. One deadline for the whole run.
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
    Connection,
    EsK8sError,
    describe_pods,
    validate_connection,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.members import members_running, ordinal

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
    """One run of the module; ``steps`` records what was done, in order. A subclass does one action (``execute``)."""

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

    def run(self):
        try:
            return self.execute()
        finally:
            self.connection.close()

    def execute(self):
        raise NotImplementedError

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
    def running_pods(self, wanted):
        """The StatefulSet's pods (k8s PodSet), once every wanted pod runs."""
        pods = self.connection.pod_set()
        if not pods.wait(members_running(wanted), self.deadline):
            self.fail("not every pod runs: %s" % describe_pods(pods.pods.values()))
        return pods

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


def for_action(action):
    """The Rolling subclass that does ``action``."""
    if action == "scale_down":
        from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.scale_down import ScaleDown
        return ScaleDown
    from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.restart import RollingRestart
    return RollingRestart


def run(params, check_mode=False, kube_factory=None):
    """Everything elasticsearch_rolling does: returns the result, or raises RollingError/EsK8sError."""
    if params["wait_for_status"] not in HEALTH_STATUSES:
        raise EsK8sError("wait_for_status must be green or yellow")
    return for_action(params["action"])(params, check_mode, kube_factory).run()
