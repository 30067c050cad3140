# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a pod's own status says: a problem waiting will not cure, why it is not ready yet, and a Pod's verdict.

Fail-fast decisions:

- Container waiting reasons that a retry by the kubelet does not cure: ``CrashLoopBackOff``,
  ``ImagePullBackOff``, ``InvalidImageName``, ``ErrImageNeverPull``, ``ImageInspectError``,
  ``SignatureValidationFailed``, ``CreateContainerConfigError``, ``CreateContainerError`` and
  ``RunContainerError``, in init containers as well as in containers. ``CreateContainerConfigError``
  usually names a missing Secret or ConfigMap; it is treated as fatal because the roles create
  those before the pods that use them.
- ``ErrImagePull`` is *not* fatal at first sight. A single pull failure is often a registry
  hiccup (timeouts, rate limits), and the kubelet retries it. It is fatal when the runtime's
  message says the image or the access to it does not exist (not found, manifest unknown, pull
  access denied, unauthorized, forbidden, invalid reference) or when the container has already
  restarted (the image pulled before, so this is a retry). Otherwise it is ``waiting`` with reason
  ``ErrImagePull``; a failing retry turns into ``ImagePullBackOff`` seconds later, which is fatal
  immediately.
- ``RegistryUnavailable`` is waiting: the kubelet retries it.
- A pod whose ``PodScheduled`` condition is False with reason ``Unschedulable`` is fatal, with the
  scheduler's message, except when every reason the scheduler gives is one that heals by itself:
  unbound *immediate* PersistentVolumeClaims (the provisioner has not bound them yet), a claim that
  does not exist yet, or an ephemeral volume whose claim is being created. A pod with a
  ``nominatedNodeName`` is being made room for by preemption and is waiting.
- A Pod in phase ``Failed`` is fatal when the Pod itself is waited on. Pods in a terminal phase
  that belong to a workload are ignored: their controller replaces them (and Deployments leave
  evicted pods behind for a long time).
- A Pod in phase ``Succeeded`` is ready (reason ``PodCompleted``) when its restartPolicy is Never
  or OnFailure: a run-to-completion pod can be no more ready than that. With restartPolicy Always
  it is failed: the kubelet will not start it again.
"""

import re
from typing import Iterable, List, Optional, Tuple

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import (
    FAILED,
    READY,
    WAITING,
    Inputs,
    Verdict,
    as_int,
    condition_text,
    dig,
    find_condition,
    is_false,
    is_true,
    make_verdict,
    plural,
)

FATAL_WAITING_REASONS = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "ImageInspectError", "SignatureValidationFailed", "CreateContainerConfigError",
    "CreateContainerError", "RunContainerError",
})
CRASH_REASONS = frozenset({"CrashLoopBackOff", "RunContainerError"})
_PERMANENT_PULL_ERRORS = (
    "notfound", "not found", "manifest unknown", "pull access denied", "repository does not exist",
    "unauthorized", "authorization failed", "forbidden", "denied", "invalid reference format",
)
_TRANSIENT_SCHEDULING = (
    re.compile(r"unbound immediate persistentvolumeclaims", re.I),
    re.compile(r"waiting for ephemeral volume controller", re.I),
    re.compile(r'persistentvolumeclaim ".*" not found', re.I),
)
_SCHEDULER_REASONS = re.compile(r"nodes are available:\s*(.*?)\.(?:\s|$)")


def _container_statuses(pod: dict) -> List[Tuple[str, dict]]:
    status = pod.get("status") or {}
    return ([("init container", s) for s in status.get("initContainerStatuses") or []]
            + [("container", s) for s in status.get("containerStatuses") or []])


def _pull_error_is_final(cstatus: dict, message: str) -> bool:
    lowered = message.lower()
    return as_int(cstatus.get("restartCount")) > 0 or any(m in lowered for m in _PERMANENT_PULL_ERRORS)


def _last_exit(cstatus: dict) -> str:
    last = dig(cstatus, "lastState", "terminated")
    if not last:
        return ""
    text = f"last exit code {last.get('exitCode')}"
    if last.get("reason"):
        text += f" ({last['reason']})"
    return text


def _describe_container_problem(label: str, cstatus: dict, reason: str) -> str:
    name = cstatus.get("name", "?")
    facts = []
    restarts = as_int(cstatus.get("restartCount"))
    if restarts:
        facts.append(f"restarted {plural(restarts, 'time')}")
    if _last_exit(cstatus):
        facts.append(_last_exit(cstatus))
    text = f"{label} {name} is in {reason}"
    if facts:
        text += f" ({', '.join(facts)})"
    message = dig(cstatus, "state", "waiting", "message", default="")
    if reason == "CrashLoopBackOff":
        message = dig(cstatus, "lastState", "terminated", "message", default="")
    return f"{text}: {message.strip()}" if message.strip() else text


def _container_problem(pod: dict, crashes: bool) -> Optional[Tuple[str, str]]:
    for label, cstatus in _container_statuses(pod):
        waiting = dig(cstatus, "state", "waiting")
        if not waiting:
            continue
        reason = waiting.get("reason") or ""
        if reason == "ErrImagePull":
            if not _pull_error_is_final(cstatus, waiting.get("message") or ""):
                continue
        elif reason not in FATAL_WAITING_REASONS:
            continue
        if reason in CRASH_REASONS and not crashes:
            continue
        return reason, _describe_container_problem(label, cstatus, reason)
    return None


def _scheduling_is_transient(message: str) -> bool:
    match = _SCHEDULER_REASONS.search(message)
    if not match:
        return False
    reasons = [r.strip() for r in match.group(1).split(", ") if r.strip()]
    return bool(reasons) and all(any(p.search(r) for p in _TRANSIENT_SCHEDULING) for r in reasons)


def _scheduling_problem(pod: dict) -> Optional[Tuple[str, str]]:
    cond = find_condition(pod, "PodScheduled")
    if not is_false(cond) or cond.get("reason") != "Unschedulable":
        return None
    message = (cond.get("message") or "").strip()
    if dig(pod, "status", "nominatedNodeName") or _scheduling_is_transient(message):
        return None
    return "Unschedulable", f"cannot be scheduled: {message}" if message else "cannot be scheduled"


def pod_problem(pod: dict, crashes: bool = True) -> Optional[Tuple[str, str]]:
    """A state of a live pod that waiting will not cure, as (reason, description)."""
    return _scheduling_problem(pod) or _container_problem(pod, crashes)


def _container_progress(label: str, cstatus: dict) -> Optional[Tuple[str, str]]:
    name = cstatus.get("name")
    state = cstatus.get("state") or {}
    waiting, running, done = state.get("waiting"), state.get("running"), state.get("terminated")
    if waiting:
        text = f"{label} {name} waiting: {waiting.get('reason', 'Unknown')}"
        if waiting.get("message"):
            text += f" ({waiting['message']})"
        return ("ErrImagePull" if waiting.get("reason") == "ErrImagePull" else "PodPending"), text
    if running is not None and label == "init container" and not cstatus.get("ready"):
        return "PodPending", f"{label} {name} still running"
    if running is not None and not cstatus.get("ready"):
        return "ContainersNotReady", f"{label} {name} running but not ready"
    if done and (label == "container" or as_int(done.get("exitCode")) != 0):
        return "ContainersNotReady", (f"{label} {name} terminated with exit code {done.get('exitCode')}"
                                      + (f" ({done['reason']})" if done.get("reason") else ""))
    return None


def pod_progress(pod: dict) -> Tuple[str, str]:
    """Why a live pod is not ready yet, as (reason, description), for waiting verdicts."""
    status = pod.get("status") or {}
    scheduled = find_condition(pod, "PodScheduled")
    if not dig(pod, "spec", "nodeName") and not is_true(scheduled):
        text = "not scheduled yet"
        if scheduled and (scheduled.get("message") or scheduled.get("reason")):
            text += f" ({condition_text(scheduled)})"
        return "PodNotScheduled", text
    for label, cstatus in _container_statuses(pod):
        hint = _container_progress(label, cstatus)
        if hint:
            return hint
    ready = find_condition(pod, "Ready")
    if ready and not is_true(ready):
        return "PodNotReady", f"phase {status.get('phase', 'Unknown')}, not ready ({condition_text(ready)})"
    return "PodPending", f"phase {status.get('phase', 'Unknown')}"


def pod_name(pod: dict) -> str:
    return dig(pod, "metadata", "name", default="?")


def live_pods(pods: Optional[Iterable[dict]], obj: dict) -> List[dict]:
    """Pods that still count: not being deleted, not terminal, in the object's namespace."""
    namespace = dig(obj, "metadata", "namespace")
    live = [p for p in pods or [] if isinstance(p, dict)
            and not dig(p, "metadata", "deletionTimestamp")
            and dig(p, "status", "phase") not in ("Succeeded", "Failed")
            and (not namespace or dig(p, "metadata", "namespace", default=namespace) == namespace)]
    return sorted(live, key=pod_name)


def pod_ready(pod: dict) -> bool:
    return dig(pod, "status", "phase") == "Running" and is_true(find_condition(pod, "Ready"))


def owned_pods_verdict(obj: dict, inputs: Inputs, reason: str, detail: str,
                       crashes: bool = True) -> Verdict:
    """Failed when one of the object's pods cannot recover; otherwise waiting with a hint."""
    problems = [(p, pod_problem(p, crashes)) for p in inputs.pods]
    problems = [(p, found) for p, found in problems if found]
    if problems:
        pod, (why, text) = problems[0]
        more = f" (and {plural(len(problems) - 1, 'more pod')})" if len(problems) > 1 else ""
        return make_verdict(FAILED, why, obj, f"pod {pod_name(pod)}: {text}{more}; {detail}", pod_name(pod))
    waiting = [p for p in inputs.pods if not pod_ready(p)]
    if waiting:
        _why, text = pod_progress(waiting[0])
        detail += f"; pod {pod_name(waiting[0])}: {text}"
        return make_verdict(WAITING, reason, obj, detail, pod_name(waiting[0]))
    return make_verdict(WAITING, reason, obj, detail)


def _terminal_pod_detail(pod: dict) -> str:
    status = pod.get("status") or {}
    facts = []
    for label, cstatus in _container_statuses(pod):
        done = dig(cstatus, "state", "terminated")
        if done and as_int(done.get("exitCode")) != 0:
            facts.append(f"{label} {cstatus.get('name')} exited with code {done.get('exitCode')}"
                         + (f" ({done['reason']})" if done.get("reason") else ""))
    head = status.get("reason") or ""
    if status.get("message"):
        head = f"{head}: {status['message'].strip()}" if head else status["message"].strip()
    return "; ".join([head] + facts if head else facts)


def pod_verdict(obj: dict, inputs: Inputs) -> Verdict:
    status = obj.get("status") or {}
    phase = status.get("phase")
    name = pod_name(obj)
    if phase == "Failed":
        detail = _terminal_pod_detail(obj)
        return make_verdict(FAILED, "PodFailed", obj, "pod failed" + (f": {detail}" if detail else ""), name)
    if phase == "Succeeded":
        if dig(obj, "spec", "restartPolicy", default="Always") == "Always":
            return make_verdict(FAILED, "PodCompleted", obj,
                                "pod completed and will not run again (restartPolicy Always)", name)
        return make_verdict(READY, "PodCompleted", obj, "pod ran to completion")
    problem = pod_problem(obj)
    if problem:
        return make_verdict(FAILED, problem[0], obj, problem[1], name)
    if pod_ready(obj):
        return make_verdict(READY, "Ready", obj, "pod is running and ready")
    reason, detail = pod_progress(obj)
    return make_verdict(WAITING, reason, obj, detail, name)
