# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The members of a workload: its pods found and waited for, their state in words, a port-forward to each."""
import collections
import contextlib
import re

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pods import PodSet
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import object_path
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.selectors import selector_string

ORDINAL = re.compile(r"^(.*)-(\d+)$")

# One pod to talk to: its name, the local (host, port) that reaches it, and the LocalForward behind that.
Member = collections.namedtuple("Member", "name address forward")


# ---------------------------------------------------------------------- pods: state, order, words
def is_terminating(pod):
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


def is_running(pod):
    return not is_terminating(pod) and pod.get("status", {}).get("phase") == "Running"


def is_ready(pod):
    return is_running(pod) and any(c.get("type") == "Ready" and c.get("status") == "True"
                                   for c in pod.get("status", {}).get("conditions") or [])


def is_active(pod):
    """A pod that counts as a member: not being deleted and not finished."""
    return not is_terminating(pod) and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def ordinal(name):
    """The StatefulSet ordinal that ends a pod name (es-10: 10), -1 for other names."""
    match = ORDINAL.match(name)
    return int(match.group(2)) if match else -1


def pod_sort_key(name):
    """StatefulSet ordinals in numeric order (x-2 before x-10), other names alphabetically."""
    match = ORDINAL.match(name)
    return (match.group(1), int(match.group(2)), "") if match else (name, -1, name)


def statefulset_pods(sts):
    """The pod names a StatefulSet wants: <name>-0 .. <name>-(replicas-1)."""
    replicas = sts.get("spec", {}).get("replicas")
    return ["%s-%d" % (sts["metadata"]["name"], i) for i in range(1 if replicas is None else int(replicas))]


def names(pods, predicate=is_running):
    """The names of the pods ({name: pod}) that satisfy predicate, in ordinal order."""
    return sorted((name for name, pod in pods.items() if predicate(pod)), key=pod_sort_key)


def describe_pods(pods, readiness=False):
    """'<pod> <phase or Terminating>, ...' in ordinal order ('none' for none), each followed by the reasons of its
    False conditions in parentheses, or with readiness by ', not Ready' when it runs but is not Ready."""
    words = []
    for pod in sorted(pods, key=lambda p: pod_sort_key(p["metadata"]["name"])):
        status = pod.get("status", {})
        state = "Terminating" if is_terminating(pod) else status.get("phase", "Unknown")
        if readiness:
            state += ", not Ready" if state == "Running" and not is_ready(pod) else ""
        else:
            reasons = [c["reason"] for c in status.get("conditions") or [] if c.get("status") == "False"
                       and c.get("reason")]
            state += " (%s)" % ", ".join(reasons) if reasons else ""
        words.append("%s %s" % (pod["metadata"]["name"], state))
    return ", ".join(words) or "none"


# ---------------------------------------------------------------------- predicates to wait for
def members_running(wanted):
    """Every wanted pod runs and is not terminating (ready or not: an unready member is asked too)."""
    return lambda pods: all(name in pods and is_running(pods[name]) for name in wanted)


def settled(expected):
    """Exactly `expected` pods count as members, and every one of them runs (none is starting)."""
    def check(pods):
        active = [pod for pod in pods.values() if is_active(pod)]
        return len(active) == expected and all(is_running(pod) for pod in active)
    return check


def any_ready(pods):
    return any(is_ready(pod) for pod in pods.values())


# ---------------------------------------------------------------------- which pods
class Workload(object):
    """The pods of a StatefulSet or Deployment, or those that label selectors find.

    what names them in messages; obj is the workload (None for selectors); replicas is how many it asks
    for (None for selectors). `error` is the exception class for a workload that is missing or selects nothing.
    """

    def __init__(self, kube, namespace, kind=None, name=None, label_selectors=None, error=KubeError):
        self.kube, self.namespace, self.kind, self.name = kube, namespace, kind, name
        self.obj = self.replicas = None
        if label_selectors:
            self.selector = ",".join(label_selectors)
            self.what = "pods [%s] in %s" % (self.selector, namespace)
            return
        self.what = "%s %s/%s" % (kind, namespace, name)
        self.obj = kube.get(object_path(kind, namespace, name), missing_ok=True)
        if self.obj is None:
            raise error("%s not found" % self.what)
        spec = self.obj.get("spec") or {}
        self.selector = selector_string(spec.get("selector") or {})
        if not self.selector:
            raise error("%s has no label selector to find its pods by" % self.what)
        self.replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])

    def pods(self):
        return PodSet(self.kube, self.namespace, self.selector)

    def wait(self, predicate, deadline, check_mode=False):
        """(PodSet, whether predicate(pods) holds): by the deadline, or in check mode right now."""
        pods = self.pods()
        if check_mode:
            return pods, bool(predicate(pods.list_once().pods))
        return pods, pods.wait(predicate, deadline)


# ---------------------------------------------------------------------- reaching them
@contextlib.contextmanager
def forwarded(kube, namespace, pods, port):
    """Yield a Member per pod, each reached at a local listener tunnelled to `port` of the pod; closed on exit."""
    with contextlib.ExitStack() as stack:
        members = []
        for pod in pods:
            forward = LocalForward(kube, namespace, pod, port)
            members.append(Member(pod, stack.enter_context(forward), forward))
        yield members
