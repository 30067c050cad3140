# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for many objects at once: one watch per collection, one deadline for all, fail fast.

Every object named by a target is judged by `readiness.evaluate` each time anything it depends
on changes (the object, the pods its selector picks, a Service's EndpointSlices, a claim's
events). The wait ends when all are ready, when one has failed in a way waiting cannot heal, or
at the deadline; the last two come with events and log tails.
"""
import threading

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import diagnostics, readiness, workload_readiness
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pod_health import pod_ready
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import ResourceCatalog, builtin
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.selectors import matches
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import generation_pending
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watched import Watched, wait_until

PODS = builtin("Pod")
SLICES = builtin("EndpointSlice")
EVENTS = builtin("Event")
WORKLOADS_WITH_PODS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")
LOG_LINES = 20

# The argument spec of one object to wait for (wait_ready's objects, k8s_apply's wait_for).
WAIT_OBJECT_SPEC = {
    "kind": {"type": "str", "required": True},
    "api_version": {"type": "str"},
    "name": {"type": "str"},
    "namespace": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str"},
    "condition": {"type": "dict", "options": {
        "type": {"type": "str", "required": True},
        "status": {"type": "str", "default": "True"},
        "reason": {"type": "str"},
    }},
    "field": {"type": "dict", "options": {
        "path": {"type": "str", "required": True},
        "value": {"type": "raw", "required": True},
    }},
    "replace_stuck_pods": {"type": "bool", "default": False},
}


class WaitError(DatastoresError):
    """``result`` holds the summary of every object waited for."""


class Target(object):
    """One entry of the module's `objects`: a name or a label selector within a kind."""

    def __init__(self, spec, resource, namespace):
        self.spec = spec
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.name = spec.get("name")
        self.selector = ",".join(spec.get("label_selectors") or [])
        self.ready_after = None
        self.verdict = None
        self.replaced = {}  # uid -> pod name

    @property
    def query(self):
        query = {}
        if self.name:
            query["fieldSelector"] = "metadata.name=" + self.name
        if self.selector:
            query["labelSelector"] = self.selector
        return query

    @property
    def group_key(self):
        return (self.resource.collection_path(self.namespace), tuple(sorted(self.query.items())))

    def describe(self):
        where = "{}/".format(self.namespace) if self.namespace else ""
        return "{} {}{}".format(self.resource.kind, where, self.name or "[{}]".format(self.selector or "all"))

    def result(self):
        verdict = self.verdict
        return {
            "kind": self.resource.kind, "api_version": self.resource.api_version, "namespace": self.namespace,
            "name": self.name, "label_selectors": self.spec.get("label_selectors") or [],
            "state": verdict.state if verdict else "waiting", "reason": verdict.reason if verdict else "NotObserved",
            "message": verdict.message if verdict else "not observed yet",
            "ready_after": None if self.ready_after is None else round(self.ready_after, 3),
            "replaced_pods": sorted(self.replaced.values()),
        }


class Waiter(object):
    def __init__(self, kube, specs, default_namespace=None, timeout=300, fail_fast=True, check_mode=False,
                 describe_error=str):
        self.kube = kube
        self.describe_error = describe_error
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.check_mode = check_mode
        catalog = ResourceCatalog(kube)
        self.targets = []
        for index, spec in enumerate(specs):
            resource = catalog.lookup(spec["kind"], spec.get("api_version"))
            namespace = spec.get("namespace") or default_namespace
            if resource.namespaced and not namespace:
                raise ValueError("objects[{index}] ({kind}): a namespaced kind needs objects[{index}].namespace or namespace"
                                 .format(index=index, kind=spec["kind"]))
            self.targets.append(Target(spec, resource, namespace))
        self.collections = {}
        self._changed = threading.Condition()
        self.outcome = None

    def _collection(self, resource, namespace, query=()):
        key = (resource.collection_path(namespace), tuple(sorted(dict(query).items())))
        if key not in self.collections:
            self.collections[key] = Watched(self.kube, key[0], dict(key[1]), resource=resource,
                                            changed=self._changed)
        return self.collections[key]

    def _plan(self):
        for target in self.targets:
            self._collection(target.resource, target.namespace, target.query)
            if target.resource.kind in WORKLOADS_WITH_PODS:
                self._collection(PODS, target.namespace)
            elif target.resource.kind == "Service":
                self._collection(SLICES, target.namespace)
            elif target.resource.kind == "PersistentVolumeClaim":
                self._collection(EVENTS, target.namespace,
                                 {"fieldSelector": "involvedObject.kind=PersistentVolumeClaim"})

    def run(self):
        deadline = Deadline(self.timeout)
        self._plan()
        decided = wait_until(list(self.collections.values()), lambda: self._decide(deadline), deadline)
        return self._finish(self.outcome if decided else "timeout", deadline)

    def _decide(self, deadline):
        """Once every collection was listed: judge every target; True when the wait is over."""
        if not all(c.synced or c.error for c in self.collections.values()):
            return False
        self._judge(deadline.elapsed())
        self.outcome = self._outcome() or ("check" if self.check_mode else None)
        return self.outcome is not None

    def _judge(self, elapsed):
        for target in self.targets:
            if target.spec.get("replace_stuck_pods") and not self.check_mode:
                self._replace_stuck_pods(target)
            target.verdict = self._verdict(target)
            if target.verdict.state == "ready" and target.ready_after is None:
                target.ready_after = elapsed

    def _verdict(self, target):
        collection = self.collections[target.group_key]
        if collection.error is not None:
            return readiness.Verdict("failed", "Forbidden" if collection.error.status == 403 else "ApiError",
                                     "{}: {}".format(target.describe(), self.describe_error(collection.error)))
        objects = list(collection.objects.values())
        if not objects:
            return readiness.Verdict("waiting", "NotFound", "{} does not exist yet".format(target.describe()))
        verdicts = [self._evaluate(target, obj) for obj in objects]
        for state in ("failed", "waiting"):
            for verdict in verdicts:
                if verdict.state == state:
                    return verdict
        return verdicts[0]

    def _replace_stuck_pods(self, target):
        """Delete a StatefulSet's not-Ready pods of an older revision rather than wait for the rolling update."""
        if target.resource.kind != "StatefulSet":
            return
        for obj in self.collections[target.group_key].objects.values():
            for pod in workload_readiness.old_revision_pods_not_ready(obj, self._pods_of(obj)):
                metadata = pod["metadata"]
                if metadata["uid"] in target.replaced:
                    continue
                try:
                    self.kube.delete(PODS.object_path(metadata["name"], metadata["namespace"]), uid=metadata["uid"])
                except KubeError as error:
                    if error.status != 409:  # 409: the name already belongs to a newer pod
                        raise
                target.replaced[metadata["uid"]] = metadata["name"]

    def _pods_of(self, obj):
        selector = obj.get("spec", {}).get("selector") or {}
        pods = self._collection(PODS, obj.get("metadata", {}).get("namespace")).objects.values()
        return [p for p in pods if matches(selector, p.get("metadata", {}).get("labels"))]

    def _evaluate(self, target, obj):
        namespace = obj.get("metadata", {}).get("namespace")
        extra = {}
        if target.resource.kind in WORKLOADS_WITH_PODS:
            extra["pods"] = self._pods_of(obj)
            if target.spec.get("replace_stuck_pods"):
                # Pods being replaced are not failures; before the new template is observed, none can be told apart.
                extra["pods"] = [p for p in extra["pods"] if p["metadata"].get("uid") not in target.replaced
                                 and (pod_ready(p) or not generation_pending(obj))]
        elif target.resource.kind == "Service":
            name = obj["metadata"]["name"]
            slices = self._collection(SLICES, namespace).objects.values()
            extra["endpoint_slices"] = [s for s in slices
                                        if s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == name]
        elif target.resource.kind == "PersistentVolumeClaim":
            events = self._collection(EVENTS, namespace,
                                      {"fieldSelector": "involvedObject.kind=PersistentVolumeClaim"}).objects.values()
            extra["events"] = [e for e in events if e.get("involvedObject", {}).get("name") == obj["metadata"]["name"]]
        return readiness.evaluate(obj, condition=target.spec.get("condition"), field=target.spec.get("field"),
                                  **extra)

    def _outcome(self):
        states = [t.verdict.state for t in self.targets]
        if self.fail_fast and "failed" in states:
            return "failed"
        if all(state == "ready" for state in states):
            return "ready"
        return None

    def _finish(self, outcome, deadline):
        results = [t.result() for t in self.targets]
        summary = {"ready": outcome == "ready", "elapsed": deadline.elapsed(), "objects": results}
        if outcome in ("ready", "check"):
            return summary
        pending = [t for t in self.targets if t.verdict is None or t.verdict.state != "ready"]
        if outcome == "failed":
            pending = [t for t in pending if t.verdict and t.verdict.state == "failed"]
            head = "failed"
        else:
            head = "not ready after {}s".format(self.timeout)
        explanations = [self._explain(t) for t in pending]
        raise WaitError("{}: {}".format(head, "\n\n".join(explanations)), summary)

    def _explain(self, target):
        unreachable = self.collections[target.group_key].unreachable
        if target.verdict is None and unreachable is not None:
            return "{}: never observed: {}".format(target.describe(), self.describe_error(unreachable))
        verdict = target.verdict or readiness.Verdict("waiting", "NotObserved",
                                                      "{}: not observed yet".format(target.describe()))
        objects = list(self.collections[target.group_key].objects.values())
        pods = [p for p in self._related_pods(target, objects) if not pod_ready(p)]
        names = [o["metadata"]["name"] for o in objects] + [p["metadata"]["name"] for p in pods]
        return diagnostics.explain(verdict, self._events(target.namespace, names), self._logs(pods))

    def _related_pods(self, target, objects):
        if target.resource.kind == "Pod":
            return objects
        if target.resource.kind not in WORKLOADS_WITH_PODS:
            return []
        pods = self._collection(PODS, target.namespace).objects.values()
        return [p for p in pods for o in objects
                if matches(o.get("spec", {}).get("selector"), p.get("metadata", {}).get("labels"))]

    def _events(self, namespace, names):
        events = []
        for name in names if namespace else []:
            try:
                listing = self.kube.request("GET", EVENTS.collection_path(namespace),
                                            {"fieldSelector": "involvedObject.name=" + name}, retry=False)
            except Exception:  # diagnostics are best effort; the failure itself is already known
                continue
            events.extend(listing.get("items", []))
        return events

    def _logs(self, pods):
        logs = {}
        for pod in pods:
            for container, _reason in diagnostics.failing_containers(pod):
                path = PODS.object_path(pod["metadata"]["name"], pod["metadata"]["namespace"]) + "/log"
                try:
                    response = self.kube.request("GET", path, {"container": container, "tailLines": str(LOG_LINES)},
                                                 stream=True, timeout=5, retry=False)
                    logs["{}/{}".format(pod["metadata"]["name"], container)] = response.data.decode("utf-8", "replace")
                except Exception:  # a log that cannot be read must not hide the failure itself
                    continue
        return logs
