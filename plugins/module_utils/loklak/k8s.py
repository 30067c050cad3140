# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak_verify's Kubernetes side: a ready pod of the Deployment, reached through port-forward."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import members
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.loklak.client import Client, LoklakError, marker_for, verify


def ready_pod(kube, namespace, name, deadline):
    workload = members.Workload(kube, namespace, "Deployment", name, error=LoklakError)
    pods, ready = workload.wait(members.any_ready, deadline)
    if not ready:
        raise LoklakError("%s has no ready pod after %.1fs" % (workload.what, deadline.elapsed()))
    return members.names(pods.pods, members.is_ready)[0]


def run(params, check_mode=False, kube_factory=None):
    """(failure or None, result): find the marker through one loklak server, pushing it first when absent."""
    deadline = Deadline(params["timeout"])
    word, message_id = marker_for(params["namespace"], params["name"])
    if params.get("marker"):
        word = params["marker"]
    push = not check_mode
    if params.get("endpoint"):
        result = _verify(Client(params["endpoint"], params["request_timeout"]), word, message_id, deadline, push,
                         params)
        result.update(pod=None, source="endpoint")
        return None, result
    kube = kube_factory()
    pod = ready_pod(kube, params["namespace"], params["name"], deadline)
    with members.forwarded(kube, params["namespace"], [pod], params["port"]) as (member,):
        try:
            result = _verify(Client("http://%s:%d" % member.address, params["request_timeout"]), word, message_id,
                             deadline, push, params)
        except (LoklakError, OSError) as error:
            reason = member.forward.failure() if member.forward.last_error else str(error)
            raise LoklakError("pod %s/%s port %d through port-forward: %s" % (
                params["namespace"], pod, params["port"], reason), getattr(error, "result", {}))
    result.update(pod=pod, source="port-forward")
    return None, result


def _verify(client, word, message_id, deadline, push, params):
    result = verify(client, word, message_id, deadline, push=push, sleep=params["sleep"])
    result["changed"] = result["pushed"]
    return result
