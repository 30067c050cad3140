# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness verdicts for Kubernetes objects, computed from their JSON.

Everything here works on plain dicts shaped as the API server returns them (a GET, a LIST item or
a WATCH event's object), so it needs no Kubernetes client and no cluster. `evaluate()` is meant to
be called for every watch event of every object being waited on; it is cheap and has no state.

A `Verdict` is one of three states:

- ``ready``: the object is what was asked for.
- ``waiting``: not yet, and waiting may still help.
- ``failed``: waiting will not help; stop now and report. These are the fail-fast states.

Fail-fast decisions (what is "failed" rather than "waiting"):

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
- For Jobs, pods that crash (``CrashLoopBackOff``, ``RunContainerError``) are *not* fatal: the
  Job's own backoffLimit decides, and the Job then reports ``Failed``. Pods that cannot start at
  all (image, configuration, scheduling) are.
- A PersistentVolumeClaim in phase Pending fails when its newest provisioning event is
  ``ProvisioningFailed``. ``FailedBinding`` (no volume yet, no class) and
  ``WaitForFirstConsumer`` are waiting: a volume or a consumer pod may still come.
- Any object with ``metadata.deletionTimestamp`` is failed (reason ``Terminating``): it will not
  become ready while it is being deleted.
- A Deployment whose ``Progressing`` condition is False with reason ``ProgressDeadlineExceeded``
  is failed. ``ReplicaFailure`` (pods could not be created) is waiting with reason
  ``FailedCreate``; it is often a race (a ServiceAccount applied in the same batch).
- A Job with a ``Failed`` or ``FailureTarget`` condition is failed with that condition's reason
  (``BackoffLimitExceeded``, ``DeadlineExceeded``, ``PodFailurePolicy``, ...).
- A CustomResourceDefinition with ``NamesAccepted`` False, or ``Established`` False with reason
  ``InvalidCABundle``, is failed.
- Any object with a ``Stalled`` condition True (the kstatus convention) is failed.

Reason vocabulary. Ready: ``Ready``, ``Complete``, ``PodCompleted``, ``Bound``, ``Established``,
``Active``, ``ExternalName``, ``NoSelector``, ``ConditionMet``, ``FieldMatched``, ``Exists``.
Waiting: ``GenerationNotObserved``, ``ReplicasNotUpdated``, ``OldReplicasPending``,
``ReplicasNotReady``, ``ReplicasNotAvailable``, ``RevisionNotRolledOut``, ``RolloutPaused``,
``FailedCreate``, ``JobRunning``, ``JobSuspended``, ``PodPending``, ``PodNotScheduled``,
``ContainersNotReady``, ``PodNotReady``, ``ErrImagePull``, ``ClaimPending``, ``WaitForFirstConsumer``,
``FailedBinding``, ``NoReadyEndpoints``, ``NotEstablished``, ``NamespaceNotActive``,
``ConditionNotMet``, ``FieldNotMatched``, ``NotReady``. Failed: the container reasons above,
``Unschedulable``, ``PodFailed``, ``PodCompleted``, ``ProgressDeadlineExceeded``, a Job's failure
condition reason (``JobFailed`` when it has none), ``ProvisioningFailed``, ``ClaimLost``,
``NamesNotAccepted``, ``InvalidCABundle``, ``Terminating``, ``Stalled``.
"""

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

READY = "ready"
WAITING = "waiting"
FAILED = "failed"


class Verdict(NamedTuple):
    """The state of one object.

    ``message`` always starts with ``ref`` ("Kind namespace/name: ..."). ``pod`` names the pod
    (same namespace) whose state decided the verdict, when one did, so that its events and logs
    can be fetched.
    """

    state: str
    reason: str
    message: str
    ref: str = ""
    pod: Optional[str] = None

    @property
    def ready(self) -> bool:
        return self.state == READY

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    @property
    def detail(self) -> str:
        """The message without the leading object reference."""
        prefix = self.ref + ": "
        return self.message[len(prefix):] if self.ref and self.message.startswith(prefix) else self.message


class EventView(NamedTuple):
    """A core/v1 or events.k8s.io/v1 Event reduced to what a reader needs."""

    when: Optional[datetime]
    type: str
    reason: str
    message: str
    count: int
    kind: str
    namespace: str
    name: str

    @property
    def regarding(self) -> str:
        return _ref(self.kind, self.namespace, self.name)


class _Inputs(NamedTuple):
    pods: List[dict]
    endpoint_slices: List[dict]
    events: List[EventView]


# --- small accessors ------------------------------------------------------------------------


def _dig(obj: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ref(kind: str, namespace: Optional[str], name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def object_ref(obj: dict) -> str:
    """Return "Kind namespace/name", or "Kind name" for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or (meta.get("generateName", "") + "<unnamed>")
    return _ref(obj.get("kind") or "Object", meta.get("namespace"), name)


def _verdict(state: str, reason: str, obj: dict, detail: str, pod: Optional[str] = None) -> Verdict:
    ref = object_ref(obj)
    return Verdict(state, reason, f"{ref}: {detail}", ref, pod)


def _status_word(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value).strip().capitalize()


def _condition(obj: dict, ctype: str) -> Optional[dict]:
    for cond in _dig(obj, "status", "conditions", default=[]):
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def _is_true(cond: Optional[dict]) -> bool:
    return cond is not None and _status_word(cond.get("status")) == "True"


def _is_false(cond: Optional[dict]) -> bool:
    return cond is not None and _status_word(cond.get("status")) == "False"


def _cond_text(cond: dict) -> str:
    reason, message = cond.get("reason"), cond.get("message")
    if reason and message:
        return f"{reason}: {message}"
    return reason or message or ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def generation_pending(obj: dict) -> Optional[str]:
    generation = _int(_dig(obj, "metadata", "generation"))
    observed = _int(_dig(obj, "status", "observedGeneration"))
    if generation and observed < generation:
        return f"generation {generation} not yet observed by its controller (observed {observed})"
    return None


def _stale_condition(obj: dict, cond: dict) -> Optional[str]:
    generation = _int(_dig(obj, "metadata", "generation"))
    observed = _int(cond.get("observedGeneration"))
    if generation and observed and observed < generation:
        return (f"condition {cond.get('type')} describes generation {observed}, "
                f"not the current generation {generation}")
    return None


# --- time and events ------------------------------------------------------------------------

_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(text: Any) -> Optional[datetime]:
    """Parse a metav1.Time or MicroTime string ("2024-05-01T10:00:00Z", "...00.123456Z")."""
    if not isinstance(text, str):
        return None
    match = _TIME.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    when = datetime(year, month, day, hour, minute, second, micros, tzinfo=timezone.utc)
    offset = match.group(8)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        when -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return when


def event_view(event: dict) -> EventView:
    """Normalise a core/v1 Event or an events.k8s.io/v1 Event."""
    about = event.get("regarding") or event.get("involvedObject") or {}
    series = event.get("series") or {}
    when = None
    for text in (series.get("lastObservedTime"), event.get("lastTimestamp"),
                 event.get("deprecatedLastTimestamp"), event.get("eventTime"),
                 event.get("firstTimestamp"), event.get("deprecatedFirstTimestamp"),
                 _dig(event, "metadata", "creationTimestamp")):
        when = parse_time(text)
        if when:
            break
    count = _int(series.get("count")) or _int(event.get("count")) or _int(event.get("deprecatedCount")) or 1
    return EventView(
        when=when,
        type=event.get("type") or "",
        reason=event.get("reason") or "",
        message=(event.get("message") or event.get("note") or "").strip(),
        count=count,
        kind=about.get("kind") or "",
        namespace=about.get("namespace") or "",
        name=about.get("name") or "",
    )


def _events_about(obj: dict, events: Iterable[EventView]) -> List[EventView]:
    meta = obj.get("metadata") or {}
    kind, name, namespace = obj.get("kind"), meta.get("name"), meta.get("namespace")

    def about(view: EventView) -> bool:
        return ((not view.kind or not kind or view.kind == kind)
                and (not view.name or view.name == name)
                and (not view.namespace or not namespace or view.namespace == namespace))

    return [view for view in events if about(view)]


def _newest(views: Iterable[EventView], reasons: Iterable[str], prefer: str = "") -> Optional[EventView]:
    wanted = set(reasons)
    floor = datetime.min.replace(tzinfo=timezone.utc)
    candidates = [v for v in views if v.reason in wanted]
    if not candidates:
        return None
    return max(candidates, key=lambda v: (v.when or floor, v.reason == prefer))


# --- pods -----------------------------------------------------------------------------------

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
    return _int(cstatus.get("restartCount")) > 0 or any(m in lowered for m in _PERMANENT_PULL_ERRORS)


def _last_exit(cstatus: dict) -> str:
    last = _dig(cstatus, "lastState", "terminated")
    if not last:
        return ""
    text = f"last exit code {last.get('exitCode')}"
    if last.get("reason"):
        text += f" ({last['reason']})"
    return text


def _describe_container_problem(label: str, cstatus: dict, reason: str) -> str:
    name = cstatus.get("name", "?")
    facts = []
    restarts = _int(cstatus.get("restartCount"))
    if restarts:
        facts.append(f"restarted {_plural(restarts, 'time')}")
    if _last_exit(cstatus):
        facts.append(_last_exit(cstatus))
    text = f"{label} {name} is in {reason}"
    if facts:
        text += f" ({', '.join(facts)})"
    message = _dig(cstatus, "state", "waiting", "message", default="")
    if reason == "CrashLoopBackOff":
        message = _dig(cstatus, "lastState", "terminated", "message", default="")
    return f"{text}: {message.strip()}" if message.strip() else text


def _container_problem(pod: dict, crashes: bool) -> Optional[Tuple[str, str]]:
    for label, cstatus in _container_statuses(pod):
        waiting = _dig(cstatus, "state", "waiting")
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
    cond = _condition(pod, "PodScheduled")
    if not _is_false(cond) or cond.get("reason") != "Unschedulable":
        return None
    message = (cond.get("message") or "").strip()
    if _dig(pod, "status", "nominatedNodeName") or _scheduling_is_transient(message):
        return None
    return "Unschedulable", f"cannot be scheduled: {message}" if message else "cannot be scheduled"


def _pod_problem(pod: dict, crashes: bool = True) -> Optional[Tuple[str, str]]:
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
    if done and (label == "container" or _int(done.get("exitCode")) != 0):
        return "ContainersNotReady", (f"{label} {name} terminated with exit code {done.get('exitCode')}"
                                      + (f" ({done['reason']})" if done.get("reason") else ""))
    return None


def _pod_progress(pod: dict) -> Tuple[str, str]:
    """Why a live pod is not ready yet, as (reason, description), for waiting verdicts."""
    status = pod.get("status") or {}
    scheduled = _condition(pod, "PodScheduled")
    if not _dig(pod, "spec", "nodeName") and not _is_true(scheduled):
        text = "not scheduled yet"
        if scheduled and (scheduled.get("message") or scheduled.get("reason")):
            text += f" ({_cond_text(scheduled)})"
        return "PodNotScheduled", text
    for label, cstatus in _container_statuses(pod):
        hint = _container_progress(label, cstatus)
        if hint:
            return hint
    ready = _condition(pod, "Ready")
    if ready and not _is_true(ready):
        return "PodNotReady", f"phase {status.get('phase', 'Unknown')}, not ready ({_cond_text(ready)})"
    return "PodPending", f"phase {status.get('phase', 'Unknown')}"


def _pod_name(pod: dict) -> str:
    return _dig(pod, "metadata", "name", default="?")


def _live_pods(pods: Optional[Iterable[dict]], obj: dict) -> List[dict]:
    """Pods that still count: not being deleted, not terminal, in the object's namespace."""
    namespace = _dig(obj, "metadata", "namespace")
    live = [p for p in pods or [] if isinstance(p, dict)
            and not _dig(p, "metadata", "deletionTimestamp")
            and _dig(p, "status", "phase") not in ("Succeeded", "Failed")
            and (not namespace or _dig(p, "metadata", "namespace", default=namespace) == namespace)]
    return sorted(live, key=_pod_name)


def _pod_ready(pod: dict) -> bool:
    return _dig(pod, "status", "phase") == "Running" and _is_true(_condition(pod, "Ready"))


def _owned_pods_verdict(obj: dict, inputs: _Inputs, reason: str, detail: str,
                        crashes: bool = True) -> Verdict:
    """Failed when one of the object's pods cannot recover; otherwise waiting with a hint."""
    problems = [(p, _pod_problem(p, crashes)) for p in inputs.pods]
    problems = [(p, found) for p, found in problems if found]
    if problems:
        pod, (why, text) = problems[0]
        more = f" (and {_plural(len(problems) - 1, 'more pod')})" if len(problems) > 1 else ""
        return _verdict(FAILED, why, obj, f"pod {_pod_name(pod)}: {text}{more}; {detail}", _pod_name(pod))
    waiting = [p for p in inputs.pods if not _pod_ready(p)]
    if waiting:
        _why, text = _pod_progress(waiting[0])
        detail += f"; pod {_pod_name(waiting[0])}: {text}"
        return _verdict(WAITING, reason, obj, detail, _pod_name(waiting[0]))
    return _verdict(WAITING, reason, obj, detail)


# --- per-kind predicates --------------------------------------------------------------------


def _first(checks: Iterable[Tuple[bool, str]]) -> Optional[str]:
    for failing, reason in checks:
        if failing:
            return reason
    return None


def _deployment(obj: dict, inputs: _Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return _owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    want = _int(spec.get("replicas"), 1)
    total = _int(status.get("replicas"))
    updated = _int(status.get("updatedReplicas"))
    ready = _int(status.get("readyReplicas"))
    available = _int(status.get("availableReplicas"))
    counts = (f"{updated}/{want} replicas updated, {ready}/{want} ready, {available}/{want} available")
    if total > updated:
        counts += f", {_plural(total - updated, 'old replica')} pending termination"
    progressing = _condition(obj, "Progressing")
    if _is_false(progressing) and progressing.get("reason") == "ProgressDeadlineExceeded":
        text = progressing.get("message") or "rollout exceeded its progress deadline"
        return _verdict(FAILED, "ProgressDeadlineExceeded", obj, f"{text} ({counts})")
    reason = _first([
        (updated < want, "ReplicasNotUpdated"),
        (total > updated, "OldReplicasPending"),
        (ready < want, "ReplicasNotReady"),
        (available < want or _int(status.get("unavailableReplicas")) > 0, "ReplicasNotAvailable"),
    ])
    if reason is None:
        return _verdict(READY, "Ready", obj, counts)
    if spec.get("paused"):
        return _verdict(WAITING, "RolloutPaused", obj, f"rollout is paused ({counts})")
    replica_failure = _condition(obj, "ReplicaFailure")
    if _is_true(replica_failure):
        reason = "FailedCreate"
        counts += f"; {_cond_text(replica_failure)}"
    return _owned_pods_verdict(obj, inputs, reason, counts)


def _statefulset_rollout(spec: dict, status: dict, want: int) -> Optional[Tuple[str, str]]:
    strategy = _dig(spec, "updateStrategy", "type", default="RollingUpdate")
    if strategy != "RollingUpdate":
        return None
    updated = _int(status.get("updatedReplicas"))
    revision = status.get("updateRevision") or "?"
    partition = _int(_dig(spec, "updateStrategy", "rollingUpdate", "partition"))
    if partition > 0:
        target = max(want - partition, 0)
        if updated < target:
            return "ReplicasNotUpdated", (f"{updated}/{target} replicas from ordinal {partition} up "
                                          f"updated to revision {revision}")
        return None
    if status.get("currentRevision") != status.get("updateRevision") or updated < want:
        return "RevisionNotRolledOut", f"revision {revision} not yet rolled out ({updated}/{want} replicas updated)"
    return None


def _statefulset(obj: dict, inputs: _Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return _owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    want = _int(spec.get("replicas"), 1)
    ready = _int(status.get("readyReplicas"))
    total = _int(status.get("replicas"))
    parts = [f"{ready}/{want} replicas ready"]
    reason = _first([(ready < want, "ReplicasNotReady"), (total > want, "OldReplicasPending")])
    if total > want:
        parts.append(f"{_plural(total - want, 'replica')} above {want} pending removal")
    rollout = _statefulset_rollout(spec, status, want)
    if rollout:
        reason = reason or rollout[0]
        parts.append(rollout[1])
    if reason is None:
        return _verdict(READY, "Ready", obj, ", ".join(parts))
    ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
    stuck = [_pod_name(p) for p in old_revision_pods_not_ready(obj, inputs.pods)] if ordered else []
    if stuck:
        parts.append(_stuck_hint(obj, stuck))
    return _owned_pods_verdict(obj, inputs, reason, ", ".join(parts))


def old_revision_pods_not_ready(obj: dict, pods: List[dict]) -> List[dict]:
    """A StatefulSet's pods of an older revision that are not Ready, once it observed its current generation.

    A rolling update replaces a pod only after the pods above it are Ready; with podManagementPolicy
    OrderedReady it never replaces a pod that is not Ready (kubernetes/kubernetes#67250): once a bad
    template has been fixed, the crashing pod of the bad revision stays until someone deletes it."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    update = status.get("updateRevision")
    if not update or generation_pending(obj) \
            or _dig(spec, "updateStrategy", "type", default="RollingUpdate") != "RollingUpdate":
        return []
    return [p for p in pods if not _pod_ready(p)
            and _dig(p, "metadata", "labels", "controller-revision-hash") not in (None, update)]


def _stuck_hint(obj: dict, stuck: List[str]) -> str:
    namespace = _dig(obj, "metadata", "namespace", default="default")
    names = " ".join(stuck)
    return (f"{_plural(len(stuck), 'pod')} of an older revision not Ready ({names}): with podManagementPolicy "
            f"OrderedReady Kubernetes does not replace them even after the template is fixed; delete them so "
            f"that they are recreated from revision {_dig(obj, 'status', 'updateRevision')}: "
            f"kubectl delete pod -n {namespace} {names}")


def _daemonset(obj: dict, inputs: _Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return _owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    desired = _int(status.get("desiredNumberScheduled"))
    ready = _int(status.get("numberReady"))
    updated = _int(status.get("updatedNumberScheduled"))
    available = _int(status.get("numberAvailable"))
    rolling = _dig(spec, "updateStrategy", "type", default="RollingUpdate") == "RollingUpdate"
    detail = f"{ready}/{desired} scheduled pods ready, {updated}/{desired} updated, {available}/{desired} available"
    reason = _first([
        (rolling and updated < desired, "ReplicasNotUpdated"),
        (ready < desired, "ReplicasNotReady"),
        (available < desired or _int(status.get("numberUnavailable")) > 0, "ReplicasNotAvailable"),
    ])
    if reason is None:
        return _verdict(READY, "Ready", obj, detail)
    return _owned_pods_verdict(obj, inputs, reason, detail)


def _job(obj: dict, inputs: _Inputs) -> Verdict:
    for ctype in ("Failed", "FailureTarget"):
        cond = _condition(obj, ctype)
        if _is_true(cond):
            text = cond.get("message") or "the Job failed"
            return _verdict(FAILED, cond.get("reason") or "JobFailed", obj, text)
    for ctype in ("Complete", "SuccessCriteriaMet"):
        cond = _condition(obj, ctype)
        if _is_true(cond):
            return _verdict(READY, "Complete", obj, cond.get("message") or "the Job completed")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    completions = spec.get("completions")
    succeeded = _int(status.get("succeeded"))
    detail = f"{succeeded}/{completions} completions" if completions is not None else f"{succeeded} succeeded"
    detail += f", {_int(status.get('active'))} active, {_int(status.get('failed'))} failed"
    if spec.get("suspend"):
        return _verdict(WAITING, "JobSuspended", obj, f"the Job is suspended ({detail})")
    return _owned_pods_verdict(obj, inputs, "JobRunning", detail, crashes=False)


def _terminal_pod_detail(pod: dict) -> str:
    status = pod.get("status") or {}
    facts = []
    for label, cstatus in _container_statuses(pod):
        done = _dig(cstatus, "state", "terminated")
        if done and _int(done.get("exitCode")) != 0:
            facts.append(f"{label} {cstatus.get('name')} exited with code {done.get('exitCode')}"
                         + (f" ({done['reason']})" if done.get("reason") else ""))
    head = status.get("reason") or ""
    if status.get("message"):
        head = f"{head}: {status['message'].strip()}" if head else status["message"].strip()
    return "; ".join([head] + facts if head else facts)


def _pod(obj: dict, inputs: _Inputs) -> Verdict:
    status = obj.get("status") or {}
    phase = status.get("phase")
    name = _pod_name(obj)
    if phase == "Failed":
        detail = _terminal_pod_detail(obj)
        return _verdict(FAILED, "PodFailed", obj, "pod failed" + (f": {detail}" if detail else ""), name)
    if phase == "Succeeded":
        if _dig(obj, "spec", "restartPolicy", default="Always") == "Always":
            return _verdict(FAILED, "PodCompleted", obj,
                            "pod completed and will not run again (restartPolicy Always)", name)
        return _verdict(READY, "PodCompleted", obj, "pod ran to completion")
    problem = _pod_problem(obj)
    if problem:
        return _verdict(FAILED, problem[0], obj, problem[1], name)
    if _pod_ready(obj):
        return _verdict(READY, "Ready", obj, "pod is running and ready")
    reason, detail = _pod_progress(obj)
    return _verdict(WAITING, reason, obj, detail, name)


_PVC_DECISIVE = ("ProvisioningFailed", "Provisioning", "ProvisioningSucceeded", "FailedBinding",
                 "WaitForFirstConsumer", "WaitForPodScheduled")


def _pvc(obj: dict, inputs: _Inputs) -> Verdict:
    phase = _dig(obj, "status", "phase", default="Pending")
    volume = _dig(obj, "spec", "volumeName", default="")
    if phase == "Bound":
        return _verdict(READY, "Bound", obj, f"bound to PersistentVolume {volume}")
    if phase == "Lost":
        return _verdict(FAILED, "ClaimLost", obj, f"its PersistentVolume {volume or '?'} no longer exists")
    events = _events_about(obj, inputs.events)
    newest = _newest(events, _PVC_DECISIVE, prefer="ProvisioningFailed")
    if newest and newest.reason == "ProvisioningFailed":
        return _verdict(FAILED, "ProvisioningFailed", obj, f"volume provisioning failed: {newest.message}")
    if newest and newest.reason in ("FailedBinding", "WaitForFirstConsumer"):
        return _verdict(WAITING, newest.reason, obj, f"phase {phase}: {newest.message}")
    hint = newest or _newest(events, ("ExternalProvisioning",))
    storage_class = _dig(obj, "spec", "storageClassName")
    detail = f"phase {phase}" + (f", storage class {storage_class}" if storage_class else "")
    if hint:
        detail += f": {hint.message}"
    return _verdict(WAITING, "ClaimPending", obj, detail)


def _endpoint_key(endpoint: dict) -> Any:
    target = endpoint.get("targetRef") or {}
    return target.get("uid") or target.get("name") or tuple(endpoint.get("addresses") or ())


def _service_endpoints(obj: dict, slices: Iterable[dict]) -> Tuple[int, int]:
    name = _dig(obj, "metadata", "name")
    namespace = _dig(obj, "metadata", "namespace")
    ready, seen = set(), set()
    for eps in slices:
        if _dig(eps, "metadata", "labels", "kubernetes.io/service-name") != name:
            continue
        if namespace and _dig(eps, "metadata", "namespace", default=namespace) != namespace:
            continue
        for endpoint in eps.get("endpoints") or []:
            key = _endpoint_key(endpoint)
            seen.add(key)
            # an absent "ready" means unknown, which consumers are told to treat as ready
            if _dig(endpoint, "conditions", "ready") is not False:
                ready.add(key)
    return len(ready), len(seen)


def _service(obj: dict, inputs: _Inputs) -> Verdict:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return _verdict(READY, "ExternalName", obj, f"ExternalName service for {spec.get('externalName')}")
    if not spec.get("selector"):
        return _verdict(READY, "NoSelector", obj, "has no selector; its endpoints are managed outside the cluster")
    ready, total = _service_endpoints(obj, inputs.endpoint_slices)
    if ready:
        return _verdict(READY, "Ready", obj, f"{ready}/{total} endpoints ready")
    selector = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
    detail = (f"no ready endpoints ({total} not ready)" if total
              else f"no endpoints: no pod matching {selector} is ready")
    return _owned_pods_verdict(obj, inputs, "NoReadyEndpoints", detail)


def _crd(obj: dict, inputs: _Inputs) -> Verdict:
    names = _condition(obj, "NamesAccepted")
    if _is_false(names):
        return _verdict(FAILED, "NamesNotAccepted", obj, f"names not accepted: {_cond_text(names)}")
    established = _condition(obj, "Established")
    if _is_true(established):
        return _verdict(READY, "Established", obj, "established; its API is served")
    if established and established.get("reason") == "InvalidCABundle":
        return _verdict(FAILED, "InvalidCABundle", obj, _cond_text(established))
    text = _cond_text(established) if established else "no Established condition yet"
    return _verdict(WAITING, "NotEstablished", obj, f"not established yet ({text})")


def _namespace(obj: dict, inputs: _Inputs) -> Verdict:
    phase = _dig(obj, "status", "phase", default="")
    if phase == "Active":
        return _verdict(READY, "Active", obj, "namespace is active")
    if phase == "Terminating":
        return _verdict(FAILED, "Terminating", obj, "namespace is being deleted")
    return _verdict(WAITING, "NamespaceNotActive", obj, f"phase {phase or 'unknown'}")


Predicate = Callable[[dict, _Inputs], Verdict]

# kind -> (API group, predicate); the group guards against custom kinds with the same name
PREDICATES: Dict[str, Tuple[str, Predicate]] = {
    "Deployment": ("apps", _deployment),
    "StatefulSet": ("apps", _statefulset),
    "DaemonSet": ("apps", _daemonset),
    "Job": ("batch", _job),
    "Pod": ("", _pod),
    "PersistentVolumeClaim": ("", _pvc),
    "Service": ("", _service),
    "CustomResourceDefinition": ("apiextensions.k8s.io", _crd),
    "Namespace": ("", _namespace),
}


def _predicate_for(obj: dict) -> Optional[Predicate]:
    entry = PREDICATES.get(obj.get("kind") or "")
    if entry is None:
        return None
    group, predicate = entry
    api_version = obj.get("apiVersion")
    if api_version is None:
        return predicate
    obj_group = api_version.rpartition("/")[0]
    return predicate if obj_group == group else None


# --- explicit conditions and fields, and the generic fallback ------------------------------

_PATH_TOKEN = re.compile(r"\[(-?\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]|([^.\[\]]+)")


def _path_tokens(path: str) -> List[Any]:
    tokens: List[Any] = []
    for index, dquoted, squoted, plain in _PATH_TOKEN.findall(path):
        if index:
            tokens.append(int(index))
        else:
            tokens.append(dquoted or squoted or plain)
    return tokens


def lookup(obj: Any, path: str) -> Tuple[bool, Any]:
    """Follow a dotted path ("status.members[0].state", "status.members.0.state",
    'metadata.labels["app.kubernetes.io/name"]'); returns (found, value)."""
    current = obj
    for token in _path_tokens(path):
        if isinstance(current, list):
            try:
                current = current[int(token)]
            except (ValueError, IndexError):
                return False, None
        elif isinstance(current, dict) and str(token) in current:
            current = current[str(token)]
        else:
            return False, None
    return True, current


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return not isinstance(actual, (dict, list)) and str(actual) == str(expected)


def _condition_verdict(obj: dict, want: dict) -> Verdict:
    ctype = want.get("type")
    if not ctype:
        raise ValueError("condition needs a 'type'")
    status = _status_word(want.get("status", "True"))
    reason = want.get("reason")
    wanted = f"{ctype}={status}" + (f" with reason {reason}" if reason else "")
    cond = _condition(obj, ctype)
    if cond is None:
        return _verdict(WAITING, "ConditionNotMet", obj, f"waiting for condition {wanted}; not reported yet")
    stale = _stale_condition(obj, cond)
    if stale:
        return _verdict(WAITING, "GenerationNotObserved", obj, stale)
    if _status_word(cond.get("status")) == status and (not reason or cond.get("reason") == reason):
        return _verdict(READY, "ConditionMet", obj, f"condition {wanted}")
    text = f"waiting for condition {wanted}; it is {cond.get('status')}"
    if _cond_text(cond):
        text += f" ({_cond_text(cond)})"
    return _verdict(WAITING, "ConditionNotMet", obj, text)


def _field_verdict(obj: dict, want: dict) -> Verdict:
    path = want.get("path")
    if not path:
        raise ValueError("field needs a 'path'")
    found, value = lookup(obj, path)
    if "value" in want:
        if found and _same(value, want["value"]):
            return _verdict(READY, "FieldMatched", obj, f"{path} is {value!r}")
        now = f"it is {value!r}" if found else "it is not set"
        return _verdict(WAITING, "FieldNotMatched", obj, f"waiting for {path} to be {want['value']!r}; {now}")
    if found and value not in (None, "", [], {}):
        return _verdict(READY, "FieldMatched", obj, f"{path} is set")
    return _verdict(WAITING, "FieldNotMatched", obj, f"waiting for {path} to be set")


def _stalled(obj: dict) -> Optional[Verdict]:
    cond = _condition(obj, "Stalled")
    if _is_true(cond) and not _stale_condition(obj, cond):
        return _verdict(FAILED, "Stalled", obj, f"stalled: {_cond_text(cond) or 'no reason given'}")
    return None


def _generic(obj: dict) -> Verdict:
    stalled = _stalled(obj)
    if stalled:
        return stalled
    ready = _condition(obj, "Ready")
    if ready is None:
        return _verdict(READY, "Exists", obj, "exists (no readiness rule for this kind and no Ready condition)")
    # custom controllers need not report observedGeneration; judge it only when they do
    reported = _dig(obj, "status", "observedGeneration") is not None
    pending = _stale_condition(obj, ready) or (generation_pending(obj) if reported else None)
    if pending:
        return _verdict(WAITING, "GenerationNotObserved", obj, pending)
    if _is_true(ready):
        return _verdict(READY, "Ready", obj, "condition Ready is True")
    text = f"condition Ready is {ready.get('status')}"
    if _cond_text(ready):
        text += f" ({_cond_text(ready)})"
    return _verdict(WAITING, "NotReady", obj, text)


def _explicit(obj: dict, condition: Optional[dict], field: Optional[dict],
              predicate: Optional[Predicate], inputs: _Inputs) -> Verdict:
    checks = []
    if condition:
        checks.append(_condition_verdict(obj, condition))
    if field:
        checks.append(_field_verdict(obj, field))
    unmet = [v for v in checks if not v.ready]
    if not unmet:
        return checks[0]
    failure = predicate(obj, inputs) if predicate else _stalled(obj)
    if failure is not None and failure.failed:
        return failure
    return unmet[0]


def evaluate(obj: dict, pods: Optional[Iterable[dict]] = None, condition: Optional[dict] = None,
             field: Optional[dict] = None, endpoint_slices: Optional[Iterable[dict]] = None,
             events: Optional[Iterable[dict]] = None) -> Verdict:
    """Judge one object.

    obj: the object as the API returns it.
    pods: the pods the object owns or selects (workloads, Jobs, Services), used to fail fast and
        to say which pod is behind a wait. Pods being deleted or in a terminal phase are ignored.
    condition: {"type": ..., "status": "True", "reason": optional}; wait for that condition
        instead of the kind's own rule. The kind's fail-fast rules still apply.
    field: {"path": "status.state", "value": "Ready"}; wait until the field has that value (or,
        without "value", until it is set). Given with condition, both must hold.
    endpoint_slices: EndpointSlices of the namespace (or of the Service) for Services; slices
        of other Services are ignored.
    events: Events (core/v1 or events.k8s.io/v1) about the object, used for
        PersistentVolumeClaims.
    """
    if _dig(obj, "metadata", "deletionTimestamp"):
        return _verdict(FAILED, "Terminating", obj,
                        f"is being deleted (since {obj['metadata']['deletionTimestamp']})")
    inputs = _Inputs(_live_pods(pods, obj), list(endpoint_slices or []),
                     [event_view(e) for e in events or [] if isinstance(e, dict)])
    predicate = _predicate_for(obj)
    if condition or field:
        return _explicit(obj, condition, field, predicate, inputs)
    if predicate is not None:
        return predicate(obj, inputs)
    return _generic(obj)
