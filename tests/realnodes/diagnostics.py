# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the real nodes say about a failed run: each pod's containers, the logs of those the modules'
own diagnostics would show (module_utils/diagnostics.failing_containers, the last run's too when one
restarted) and the newest events, so that a failure on another machine can be read from the test
output alone."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.diagnostics import (
    failing_containers,
    log_tail,
    recent_events,
)
from tests.helpers.cluster import kubectl, kubectl_json


def _statuses(pod):
    status = pod.get("status") or {}
    return (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])


def _container_lines(pod):
    for cstatus in _statuses(pod):
        state = next(iter(cstatus.get("state") or {}), "?")
        detail = (cstatus.get("state") or {}).get(state) or {}
        last = (cstatus.get("lastState") or {}).get("terminated") or {}
        yield "  {} {} ready={} restarts={} {}{}".format(
            cstatus["name"], state, cstatus.get("ready"), cstatus.get("restartCount", 0),
            detail.get("reason", ""), " last exit {} {}".format(last.get("exitCode"), last.get("reason", ""))
            if last else "")


def _logs(namespace, pod, container, previous):
    args = ["logs", "-n", namespace, pod, "-c", container] + (["--previous"] if previous else [])
    result = kubectl(*args, check=False, timeout=30)
    return "\n".join("    | " + line for line in log_tail(result.stdout or result.stderr, 25)[0])


def describe(namespaces):
    lines = []
    for namespace in namespaces:
        for pod in kubectl_json("get", "pods", "-n", namespace)["items"]:
            name = pod["metadata"]["name"]
            lines.append("pod {}/{} on {} {}".format(namespace, name, pod["spec"].get("nodeName"),
                                                     (pod.get("status") or {}).get("phase")))
            lines.extend(_container_lines(pod))
            restarted = {c["name"] for c in _statuses(pod) if c.get("restartCount")}
            for container, reason in failing_containers(pod):
                current = _logs(namespace, name, container, False)
                lines.append("  logs of {} ({}):\n{}".format(container, reason, current))
                if container in restarted:
                    lines.append("  its last run:\n{}".format(_logs(namespace, name, container, True)))
        events = kubectl_json("get", "events", "-n", namespace)["items"]
        lines.extend("event {} {} {}: {}".format(namespace, view.reason, view.name, view.message)
                     for view in recent_events(events, 20))
    return "\n".join(lines)


def explain(run, namespaces):
    """The assertion message of a failed run: the run's own failures, then what the nodes say."""
    return "{}\n--- on the real nodes ---\n{}".format(run, describe(namespaces))
