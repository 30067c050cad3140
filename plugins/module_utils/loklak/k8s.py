# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak_verify's Kubernetes side: a ready pod of the Deployment, reached through port-forward."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.selectors import selector_string
from ansible_collections.stateful.datastores.plugins.module_utils.loklak.client import Client, LoklakError, marker_for, verify

DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"


def _ready(pod):
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ready_pod(kube, namespace, name, deadline):
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pods import PodSet

    what = "Deployment %s/%s" % (namespace, name)
    deployment = kube.get(DEPLOYMENT_PATH.format(namespace=namespace, name=name), missing_ok=True)
    if deployment is None:
        raise LoklakError("%s not found" % what)
    pods = PodSet(kube, namespace, selector_string(deployment["spec"]["selector"]))
    if not pods.wait(lambda found: any(_ready(pod) for pod in found.values()), deadline):
        raise LoklakError("%s has no ready pod after %.1fs" % (what, deadline.elapsed()))
    return sorted(n for n, pod in pods.pods.items() if _ready(pod))[0]


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
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward

    kube = kube_factory()
    pod = ready_pod(kube, params["namespace"], params["name"], deadline)
    forward = LocalForward(kube, params["namespace"], pod, params["port"])
    host, port = forward.__enter__()
    try:
        client = Client("http://%s:%d" % (host, port), params["request_timeout"])
        try:
            result = _verify(client, word, message_id, deadline, push, params)
        except (LoklakError, OSError) as error:
            reason = forward.failure() if forward.last_error else str(error)
            raise LoklakError("pod %s/%s port %d through port-forward: %s" % (
                params["namespace"], pod, params["port"], reason), getattr(error, "result", {}))
    finally:
        forward.__exit__(None, None, None)
    result.update(pod=pod, source="port-forward")
    return None, result


def _verify(client, word, message_id, deadline, push, params):
    result = verify(client, word, message_id, deadline, push=push, sleep=params["sleep"])
    result["changed"] = result["pushed"]
    return result
