# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness verdicts for Kubernetes objects, computed from their JSON.

Everything here works on plain dicts shaped as the API server returns them (a GET, a LIST item or
a WATCH event's object), so it needs no Kubernetes client and no cluster. `evaluate()` is meant to
be called for every watch event of every object being waited on; it is cheap and has no state.

The states of a `Verdict` are in `verdict`; the fail-fast rules for pods and containers are in
`pod_health`, those of Deployments, StatefulSets, DaemonSets and Jobs in `workload_readiness`. Those
of the other kinds:

- A PersistentVolumeClaim in phase Pending fails when its newest provisioning event is
  ``ProvisioningFailed``. ``FailedBinding`` (no volume yet, no class) and
  ``WaitForFirstConsumer`` are waiting: a volume or a consumer pod may still come.
- Any object with ``metadata.deletionTimestamp`` is failed (reason ``Terminating``): it will not
  become ready while it is being deleted.
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
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pod_health import (
    live_pods,
    owned_pods_verdict,
    pod_verdict,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import (
    FAILED,
    READY,
    WAITING,
    EventView,
    Inputs,
    Verdict,
    condition_text,
    dig,
    event_view,
    find_condition,
    generation_pending,
    is_false,
    is_true,
    make_verdict,
    stale_condition,
    status_word,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.workload_readiness import (
    daemonset_verdict,
    deployment_verdict,
    job_verdict,
    statefulset_verdict,
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


_PVC_DECISIVE = ("ProvisioningFailed", "Provisioning", "ProvisioningSucceeded", "FailedBinding",
                 "WaitForFirstConsumer", "WaitForPodScheduled")


def _pvc(obj: dict, inputs: Inputs) -> Verdict:
    phase = dig(obj, "status", "phase", default="Pending")
    volume = dig(obj, "spec", "volumeName", default="")
    if phase == "Bound":
        return make_verdict(READY, "Bound", obj, f"bound to PersistentVolume {volume}")
    if phase == "Lost":
        return make_verdict(FAILED, "ClaimLost", obj, f"its PersistentVolume {volume or '?'} no longer exists")
    events = _events_about(obj, inputs.events)
    newest = _newest(events, _PVC_DECISIVE, prefer="ProvisioningFailed")
    if newest and newest.reason == "ProvisioningFailed":
        return make_verdict(FAILED, "ProvisioningFailed", obj, f"volume provisioning failed: {newest.message}")
    if newest and newest.reason in ("FailedBinding", "WaitForFirstConsumer"):
        return make_verdict(WAITING, newest.reason, obj, f"phase {phase}: {newest.message}")
    hint = newest or _newest(events, ("ExternalProvisioning",))
    storage_class = dig(obj, "spec", "storageClassName")
    detail = f"phase {phase}" + (f", storage class {storage_class}" if storage_class else "")
    if hint:
        detail += f": {hint.message}"
    return make_verdict(WAITING, "ClaimPending", obj, detail)


def _endpoint_key(endpoint: dict) -> Any:
    target = endpoint.get("targetRef") or {}
    return target.get("uid") or target.get("name") or tuple(endpoint.get("addresses") or ())


def _service_endpoints(obj: dict, slices: Iterable[dict]) -> Tuple[int, int]:
    name = dig(obj, "metadata", "name")
    namespace = dig(obj, "metadata", "namespace")
    ready, seen = set(), set()
    for eps in slices:
        if dig(eps, "metadata", "labels", "kubernetes.io/service-name") != name:
            continue
        if namespace and dig(eps, "metadata", "namespace", default=namespace) != namespace:
            continue
        for endpoint in eps.get("endpoints") or []:
            key = _endpoint_key(endpoint)
            seen.add(key)
            # an absent "ready" means unknown, which consumers are told to treat as ready
            if dig(endpoint, "conditions", "ready") is not False:
                ready.add(key)
    return len(ready), len(seen)


def _service(obj: dict, inputs: Inputs) -> Verdict:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return make_verdict(READY, "ExternalName", obj, f"ExternalName service for {spec.get('externalName')}")
    if not spec.get("selector"):
        return make_verdict(READY, "NoSelector", obj, "has no selector; its endpoints are managed outside the cluster")
    ready, total = _service_endpoints(obj, inputs.endpoint_slices)
    if ready:
        return make_verdict(READY, "Ready", obj, f"{ready}/{total} endpoints ready")
    selector = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
    detail = (f"no ready endpoints ({total} not ready)" if total
              else f"no endpoints: no pod matching {selector} is ready")
    return owned_pods_verdict(obj, inputs, "NoReadyEndpoints", detail)


def _crd(obj: dict, inputs: Inputs) -> Verdict:
    names = find_condition(obj, "NamesAccepted")
    if is_false(names):
        return make_verdict(FAILED, "NamesNotAccepted", obj, f"names not accepted: {condition_text(names)}")
    established = find_condition(obj, "Established")
    if is_true(established):
        return make_verdict(READY, "Established", obj, "established; its API is served")
    if established and established.get("reason") == "InvalidCABundle":
        return make_verdict(FAILED, "InvalidCABundle", obj, condition_text(established))
    text = condition_text(established) if established else "no Established condition yet"
    return make_verdict(WAITING, "NotEstablished", obj, f"not established yet ({text})")


def _namespace(obj: dict, inputs: Inputs) -> Verdict:
    phase = dig(obj, "status", "phase", default="")
    if phase == "Active":
        return make_verdict(READY, "Active", obj, "namespace is active")
    if phase == "Terminating":
        return make_verdict(FAILED, "Terminating", obj, "namespace is being deleted")
    return make_verdict(WAITING, "NamespaceNotActive", obj, f"phase {phase or 'unknown'}")


Predicate = Callable[[dict, Inputs], Verdict]

# kind -> (API group, predicate); the group guards against custom kinds with the same name
PREDICATES: Dict[str, Tuple[str, Predicate]] = {
    "Deployment": ("apps", deployment_verdict),
    "StatefulSet": ("apps", statefulset_verdict),
    "DaemonSet": ("apps", daemonset_verdict),
    "Job": ("batch", job_verdict),
    "Pod": ("", pod_verdict),
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
    status = status_word(want.get("status", "True"))
    reason = want.get("reason")
    wanted = f"{ctype}={status}" + (f" with reason {reason}" if reason else "")
    cond = find_condition(obj, ctype)
    if cond is None:
        return make_verdict(WAITING, "ConditionNotMet", obj, f"waiting for condition {wanted}; not reported yet")
    stale = stale_condition(obj, cond)
    if stale:
        return make_verdict(WAITING, "GenerationNotObserved", obj, stale)
    if status_word(cond.get("status")) == status and (not reason or cond.get("reason") == reason):
        return make_verdict(READY, "ConditionMet", obj, f"condition {wanted}")
    text = f"waiting for condition {wanted}; it is {cond.get('status')}"
    if condition_text(cond):
        text += f" ({condition_text(cond)})"
    return make_verdict(WAITING, "ConditionNotMet", obj, text)


def _field_verdict(obj: dict, want: dict) -> Verdict:
    path = want.get("path")
    if not path:
        raise ValueError("field needs a 'path'")
    found, value = lookup(obj, path)
    if "value" in want:
        if found and _same(value, want["value"]):
            return make_verdict(READY, "FieldMatched", obj, f"{path} is {value!r}")
        now = f"it is {value!r}" if found else "it is not set"
        return make_verdict(WAITING, "FieldNotMatched", obj, f"waiting for {path} to be {want['value']!r}; {now}")
    if found and value not in (None, "", [], {}):
        return make_verdict(READY, "FieldMatched", obj, f"{path} is set")
    return make_verdict(WAITING, "FieldNotMatched", obj, f"waiting for {path} to be set")


def _stalled(obj: dict) -> Optional[Verdict]:
    cond = find_condition(obj, "Stalled")
    if is_true(cond) and not stale_condition(obj, cond):
        return make_verdict(FAILED, "Stalled", obj, f"stalled: {condition_text(cond) or 'no reason given'}")
    return None


def _generic(obj: dict) -> Verdict:
    stalled = _stalled(obj)
    if stalled:
        return stalled
    ready = find_condition(obj, "Ready")
    if ready is None:
        return make_verdict(READY, "Exists", obj, "exists (no readiness rule for this kind and no Ready condition)")
    # custom controllers need not report observedGeneration; judge it only when they do
    reported = dig(obj, "status", "observedGeneration") is not None
    pending = stale_condition(obj, ready) or (generation_pending(obj) if reported else None)
    if pending:
        return make_verdict(WAITING, "GenerationNotObserved", obj, pending)
    if is_true(ready):
        return make_verdict(READY, "Ready", obj, "condition Ready is True")
    text = f"condition Ready is {ready.get('status')}"
    if condition_text(ready):
        text += f" ({condition_text(ready)})"
    return make_verdict(WAITING, "NotReady", obj, text)


def _explicit(obj: dict, condition: Optional[dict], field: Optional[dict],
              predicate: Optional[Predicate], inputs: Inputs) -> Verdict:
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
    if dig(obj, "metadata", "deletionTimestamp"):
        return make_verdict(FAILED, "Terminating", obj,
                            f"is being deleted (since {obj['metadata']['deletionTimestamp']})")
    inputs = Inputs(live_pods(pods, obj), list(endpoint_slices or []),
                    [event_view(e) for e in events or [] if isinstance(e, dict)])
    predicate = _predicate_for(obj)
    if condition or field:
        return _explicit(obj, condition, field, predicate, inputs)
    if predicate is not None:
        return predicate(obj, inputs)
    return _generic(obj)
