# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the real nodes say about a failed run: each pod's containers, the newest events and the logs of
every container that restarted or is not ready, so that a failure on another machine can be read from
the test output alone."""
from tests.helpers.cluster import kubectl, kubectl_json


def _container_lines(pod):
    status = pod.get("status") or {}
    for cstatus in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = next(iter(cstatus.get("state") or {}), "?")
        detail = (cstatus.get("state") or {}).get(state) or {}
        last = (cstatus.get("lastState") or {}).get("terminated") or {}
        yield "  {} {} ready={} restarts={} {}{}".format(
            cstatus["name"], state, cstatus.get("ready"), cstatus.get("restartCount", 0),
            detail.get("reason", ""), " last exit {} {}".format(last.get("exitCode"), last.get("reason", ""))
            if last else "")


def _logs(namespace, pod, container, previous):
    args = ["logs", "-n", namespace, pod, "-c", container, "--tail", "25"] + (["--previous"] if previous else [])
    result = kubectl(*args, check=False, timeout=30)
    return (result.stdout or result.stderr).strip()


def describe(namespaces):
    lines = []
    for namespace in namespaces:
        for pod in kubectl_json("get", "pods", "-n", namespace)["items"]:
            name = pod["metadata"]["name"]
            lines.append("pod {}/{} on {} {}".format(namespace, name, pod["spec"].get("nodeName"),
                                                     (pod.get("status") or {}).get("phase")))
            lines.extend(_container_lines(pod))
            status = pod.get("status") or {}
            for cstatus in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
                if cstatus.get("restartCount"):
                    lines.append("  logs of {} before its restart:\n{}".format(
                        cstatus["name"], _logs(namespace, name, cstatus["name"], True)))
                if not cstatus.get("ready"):
                    current = _logs(namespace, name, cstatus["name"], False)
                    lines.append("  logs of {}:\n{}".format(cstatus["name"], current))
        events = sorted(kubectl_json("get", "events", "-n", namespace)["items"],
                        key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        for event in events[-20:]:
            lines.append("event {} {} {}: {}".format(namespace, event.get("reason"),
                                                     event["involvedObject"].get("name"), event.get("message")))
    return "\n".join(lines)


def explain(run, namespaces):
    """The assertion message of a failed run: the run's own failures, then what the nodes say."""
    return "{}\n--- on the real nodes ---\n{}".format(run, describe(namespaces))
