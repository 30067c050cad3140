# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of the workloads: Deployment, StatefulSet, DaemonSet and Job.

Fail-fast decisions:

- For Jobs, pods that crash (``CrashLoopBackOff``, ``RunContainerError``) are *not* fatal: the
  Job's own backoffLimit decides, and the Job then reports ``Failed``. Pods that cannot start at
  all (image, configuration, scheduling) are.
- A Deployment whose ``Progressing`` condition is False with reason ``ProgressDeadlineExceeded``
  is failed. ``ReplicaFailure`` (pods could not be created) is waiting with reason
  ``FailedCreate``; it is often a race (a ServiceAccount applied in the same batch).
- A Job with a ``Failed`` or ``FailureTarget`` condition is failed with that condition's reason
  (``BackoffLimitExceeded``, ``DeadlineExceeded``, ``PodFailurePolicy``, ...).
"""

from typing import Iterable, List, Optional, Tuple

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pod_health import (
    owned_pods_verdict,
    pod_name,
    pod_ready,
)
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
    generation_pending,
    is_false,
    is_true,
    make_verdict,
    plural,
)


def _first(checks: Iterable[Tuple[bool, str]]) -> Optional[str]:
    for failing, reason in checks:
        if failing:
            return reason
    return None


def deployment_verdict(obj: dict, inputs: Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    want = as_int(spec.get("replicas"), 1)
    total = as_int(status.get("replicas"))
    updated = as_int(status.get("updatedReplicas"))
    ready = as_int(status.get("readyReplicas"))
    available = as_int(status.get("availableReplicas"))
    counts = (f"{updated}/{want} replicas updated, {ready}/{want} ready, {available}/{want} available")
    if total > updated:
        counts += f", {plural(total - updated, 'old replica')} pending termination"
    progressing = find_condition(obj, "Progressing")
    if is_false(progressing) and progressing.get("reason") == "ProgressDeadlineExceeded":
        text = progressing.get("message") or "rollout exceeded its progress deadline"
        return make_verdict(FAILED, "ProgressDeadlineExceeded", obj, f"{text} ({counts})")
    reason = _first([
        (updated < want, "ReplicasNotUpdated"),
        (total > updated, "OldReplicasPending"),
        (ready < want, "ReplicasNotReady"),
        (available < want or as_int(status.get("unavailableReplicas")) > 0, "ReplicasNotAvailable"),
    ])
    if reason is None:
        return make_verdict(READY, "Ready", obj, counts)
    if spec.get("paused"):
        return make_verdict(WAITING, "RolloutPaused", obj, f"rollout is paused ({counts})")
    replica_failure = find_condition(obj, "ReplicaFailure")
    if is_true(replica_failure):
        reason = "FailedCreate"
        counts += f"; {condition_text(replica_failure)}"
    return owned_pods_verdict(obj, inputs, reason, counts)


def _statefulset_rollout(spec: dict, status: dict, want: int) -> Optional[Tuple[str, str]]:
    strategy = dig(spec, "updateStrategy", "type", default="RollingUpdate")
    if strategy != "RollingUpdate":
        return None
    updated = as_int(status.get("updatedReplicas"))
    revision = status.get("updateRevision") or "?"
    partition = as_int(dig(spec, "updateStrategy", "rollingUpdate", "partition"))
    if partition > 0:
        target = max(want - partition, 0)
        if updated < target:
            return "ReplicasNotUpdated", (f"{updated}/{target} replicas from ordinal {partition} up "
                                          f"updated to revision {revision}")
        return None
    if status.get("currentRevision") != status.get("updateRevision") or updated < want:
        return "RevisionNotRolledOut", f"revision {revision} not yet rolled out ({updated}/{want} replicas updated)"
    return None


def statefulset_verdict(obj: dict, inputs: Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    want = as_int(spec.get("replicas"), 1)
    ready = as_int(status.get("readyReplicas"))
    total = as_int(status.get("replicas"))
    parts = [f"{ready}/{want} replicas ready"]
    reason = _first([(ready < want, "ReplicasNotReady"), (total > want, "OldReplicasPending")])
    if total > want:
        parts.append(f"{plural(total - want, 'replica')} above {want} pending removal")
    rollout = _statefulset_rollout(spec, status, want)
    if rollout:
        reason = reason or rollout[0]
        parts.append(rollout[1])
    if reason is None:
        return make_verdict(READY, "Ready", obj, ", ".join(parts))
    ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
    stuck = [pod_name(p) for p in old_revision_pods_not_ready(obj, inputs.pods)] if ordered else []
    if stuck:
        parts.append(_stuck_hint(obj, stuck))
    return owned_pods_verdict(obj, inputs, reason, ", ".join(parts))


def old_revision_pods_not_ready(obj: dict, pods: List[dict]) -> List[dict]:
    """A StatefulSet's pods of an older revision that are not Ready, once it observed its current generation.

    A rolling update replaces a pod only after the pods above it are Ready; with podManagementPolicy
    OrderedReady it never replaces a pod that is not Ready (kubernetes/kubernetes#67250): once a bad
    template has been fixed, the crashing pod of the bad revision stays until someone deletes it."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    update = status.get("updateRevision")
    if not update or generation_pending(obj) \
            or dig(spec, "updateStrategy", "type", default="RollingUpdate") != "RollingUpdate":
        return []
    return [p for p in pods if not pod_ready(p)
            and dig(p, "metadata", "labels", "controller-revision-hash") not in (None, update)]


def _stuck_hint(obj: dict, stuck: List[str]) -> str:
    namespace = dig(obj, "metadata", "namespace", default="default")
    names = " ".join(stuck)
    return (f"{plural(len(stuck), 'pod')} of an older revision not Ready ({names}): with podManagementPolicy "
            f"OrderedReady Kubernetes does not replace them even after the template is fixed; delete them so "
            f"that they are recreated from revision {dig(obj, 'status', 'updateRevision')}: "
            f"kubectl delete pod -n {namespace} {names}")


def daemonset_verdict(obj: dict, inputs: Inputs) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    pending = generation_pending(obj)
    if pending:
        return owned_pods_verdict(obj, inputs, "GenerationNotObserved", pending)
    desired = as_int(status.get("desiredNumberScheduled"))
    ready = as_int(status.get("numberReady"))
    updated = as_int(status.get("updatedNumberScheduled"))
    available = as_int(status.get("numberAvailable"))
    rolling = dig(spec, "updateStrategy", "type", default="RollingUpdate") == "RollingUpdate"
    detail = f"{ready}/{desired} scheduled pods ready, {updated}/{desired} updated, {available}/{desired} available"
    reason = _first([
        (rolling and updated < desired, "ReplicasNotUpdated"),
        (ready < desired, "ReplicasNotReady"),
        (available < desired or as_int(status.get("numberUnavailable")) > 0, "ReplicasNotAvailable"),
    ])
    if reason is None:
        return make_verdict(READY, "Ready", obj, detail)
    return owned_pods_verdict(obj, inputs, reason, detail)


def job_verdict(obj: dict, inputs: Inputs) -> Verdict:
    for ctype in ("Failed", "FailureTarget"):
        cond = find_condition(obj, ctype)
        if is_true(cond):
            text = cond.get("message") or "the Job failed"
            return make_verdict(FAILED, cond.get("reason") or "JobFailed", obj, text)
    for ctype in ("Complete", "SuccessCriteriaMet"):
        cond = find_condition(obj, ctype)
        if is_true(cond):
            return make_verdict(READY, "Complete", obj, cond.get("message") or "the Job completed")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    completions = spec.get("completions")
    succeeded = as_int(status.get("succeeded"))
    detail = f"{succeeded}/{completions} completions" if completions is not None else f"{succeeded} succeeded"
    detail += f", {as_int(status.get('active'))} active, {as_int(status.get('failed'))} failed"
    if spec.get("suspend"):
        return make_verdict(WAITING, "JobSuspended", obj, f"the Job is suspended ({detail})")
    return owned_pods_verdict(obj, inputs, "JobRunning", detail, crashes=False)
