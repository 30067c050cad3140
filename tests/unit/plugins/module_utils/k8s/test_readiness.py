# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness predicates on objects shaped as the API server returns them.

Controller-written statuses in the fixtures were captured from kube-controller-manager,
kube-scheduler and kube-apiserver 1.34; kubelet-written pod statuses follow the kubelet's format.
"""

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import (
    FAILED,
    READY,
    WAITING,
    Verdict,
    evaluate,
    event_view,
    lookup,
    object_ref,
    parse_time,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "readiness"


def load(name):
    with open(FIXTURES / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)


def set_waiting(pod, reason, message=None, restarts=None):
    status = pod["status"]["containerStatuses"][0]
    status["state"] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    if restarts is not None:
        status["restartCount"] = restarts
    return pod


def set_unschedulable(pod, message, reason="Unschedulable"):
    pod["status"]["conditions"][0].update(reason=reason, message=message)
    return pod


def custom_resource(conditions=None, generation=1, observed=None, **status):
    obj = {
        "apiVersion": "atomix.io/v2beta1",
        "kind": "RaftProtocol",
        "metadata": {"name": "raft", "namespace": "db", "generation": generation},
        "spec": {"replicas": 3},
    }
    if conditions is not None or status or observed is not None:
        obj["status"] = dict(status)
        if conditions is not None:
            obj["status"]["conditions"] = conditions
        if observed is not None:
            obj["status"]["observedGeneration"] = observed
    return obj


def cond(ctype, status, reason=None, message=None, observed=None):
    found = {"type": ctype, "status": status, "lastTransitionTime": "2026-11-22T00:20:00Z"}
    if reason:
        found["reason"] = reason
    if message:
        found["message"] = message
    if observed is not None:
        found["observedGeneration"] = observed
    return found


# --- every fixture, judged on its own ---------------------------------------------------------

SINGLE = [
    ("statefulset_ready", READY, "Ready", "StatefulSet db/antidote-dc1: 3/3 replicas ready"),
    ("statefulset_rolling", WAITING, "ReplicasNotReady",
     "StatefulSet db/antidote-dc1: 2/3 replicas ready, revision antidote-dc1-b989b7f55 not yet rolled out "
     "(1/3 replicas updated)"),
    ("statefulset_ondelete", READY, "Ready", "StatefulSet db/antidote-dc2: 2/2 replicas ready"),
    ("statefulset_partitioned", READY, "Ready", "StatefulSet db/antidote-dc3: 3/3 replicas ready"),
    ("deployment_ready", READY, "Ready", "Deployment db/loklak: 2/2 replicas updated, 2/2 ready, 2/2 available"),
    ("deployment_rolling", WAITING, "ReplicasNotUpdated",
     "Deployment db/kibana: 1/2 replicas updated, 2/2 ready, 2/2 available, 2 old replicas pending termination"),
    ("deployment_progress_deadline", FAILED, "ProgressDeadlineExceeded",
     'Deployment db/kibana: ReplicaSet "kibana-5cc666d5ff" has timed out progressing.'),
    ("daemonset_ready", READY, "Ready", "DaemonSet db/node-agent: 3/3 scheduled pods ready"),
    ("daemonset_rolling", WAITING, "ReplicasNotUpdated", "DaemonSet db/node-agent: 2/3 scheduled pods ready, 1/3 updated"),
    ("daemonset_not_ready", WAITING, "ReplicasNotReady", "DaemonSet db/log-shipper: 0/3 scheduled pods ready"),
    ("job_complete", READY, "Complete", "Job db/create-dc: Reached expected number of succeeded pods"),
    ("job_running", WAITING, "JobRunning", "Job db/connect-dcs: 0/1 completions, 1 active, 0 failed"),
    ("job_backoff_limit", FAILED, "BackoffLimitExceeded", "Job db/connect-dcs: Job has reached the specified backoff limit"),
    ("job_deadline", FAILED, "DeadlineExceeded", "Job db/es-setup: Job was active longer than specified deadline"),
    ("pod_ready", READY, "Ready", "Pod db/antidote-dc1-0: pod is running and ready"),
    ("pod_not_ready", WAITING, "ContainersNotReady", "Pod db/antidote-dc1-2: container antidote running but not ready"),
    ("pod_container_creating", WAITING, "PodPending", "container antidote waiting: ContainerCreating"),
    ("pod_crashloop", FAILED, "CrashLoopBackOff",
     "Pod db/antidote-dc1-2: container antidote is in CrashLoopBackOff (restarted 4 times, last exit code 1 (Error))"),
    ("pod_crashloop_oomkilled", FAILED, "CrashLoopBackOff", "last exit code 137 (OOMKilled)"),
    ("pod_init_crashloop", FAILED, "CrashLoopBackOff", "init container wait-for-peers is in CrashLoopBackOff"),
    ("pod_image_pull_backoff", FAILED, "ImagePullBackOff", 'Back-off pulling image "antidotedb/antidote:0.9.9"'),
    ("pod_err_image_pull_not_found", FAILED, "ErrImagePull", "docker.io/antidotedb/antidote:0.9.9: not found"),
    ("pod_err_image_pull_unauthorized", FAILED, "ErrImagePull", "pull access denied"),
    ("pod_err_image_pull_transient", WAITING, "ErrImagePull", "TLS handshake timeout"),
    ("pod_invalid_image_name", FAILED, "InvalidImageName", "must be lowercase"),
    ("pod_create_container_config_error", FAILED, "CreateContainerConfigError",
     'container antidote is in CreateContainerConfigError: secret "antidote-credentials" not found'),
    ("pod_create_container_error", FAILED, "CreateContainerError", "read-only file system"),
    ("pod_run_container_error", FAILED, "RunContainerError", "no such file or directory"),
    ("pod_unschedulable", FAILED, "Unschedulable",
     "Pod db/es-master-0: cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu. "),
    ("pod_unbound_immediate_pvc", WAITING, "PodNotScheduled", "pod has unbound immediate PersistentVolumeClaims"),
    ("pod_evicted", FAILED, "PodFailed", "Pod db/antidote-dc1-1: pod failed: Evicted: The node was low on resource: memory."),
    ("pod_succeeded", READY, "PodCompleted", "Pod db/create-dc-v6fsc: pod ran to completion"),
    ("pvc_bound", READY, "Bound", "PersistentVolumeClaim db/data-atomix-0: bound to PersistentVolume pv-atomix-0"),
    ("pvc_provisioning_failed", WAITING, "ClaimPending", "phase Pending, storage class fast-ssd"),
    ("crd_established", READY, "Established", "CustomResourceDefinition raftprotocols.atomix.io: established"),
    ("crd_names_conflict", FAILED, "NamesNotAccepted",
     'CustomResourceDefinition raftclusters.atomix.io: names not accepted: KindConflict: "RaftProtocol" is already in use'),
    ("namespace_active", READY, "Active", "Namespace db: namespace is active"),
    ("namespace_terminating", FAILED, "Terminating", "Namespace db: is being deleted"),
    ("service_external_name", READY, "ExternalName", "Service db/external-es: ExternalName service for es.example.org"),
    ("service_no_selector", READY, "NoSelector", "Service db/legacy-db: has no selector"),
    ("service_headless", WAITING, "NoReadyEndpoints", "no endpoints: no pod matching"),
]


@pytest.mark.parametrize("name, state, reason, text", SINGLE, ids=[case[0] for case in SINGLE])
def test_fixture_verdict(name, state, reason, text):
    obj = load(name)
    verdict = evaluate(obj)
    assert (verdict.state, verdict.reason) == (state, reason), verdict.message
    assert text in verdict.message
    assert verdict.message.startswith(object_ref(obj) + ": ")
    assert verdict.ref == object_ref(obj)


FATAL_PODS = [
    ("pod_crashloop", "CrashLoopBackOff"),
    ("pod_crashloop_oomkilled", "CrashLoopBackOff"),
    ("pod_init_crashloop", "CrashLoopBackOff"),
    ("pod_image_pull_backoff", "ImagePullBackOff"),
    ("pod_err_image_pull_not_found", "ErrImagePull"),
    ("pod_err_image_pull_unauthorized", "ErrImagePull"),
    ("pod_invalid_image_name", "InvalidImageName"),
    ("pod_create_container_config_error", "CreateContainerConfigError"),
    ("pod_create_container_error", "CreateContainerError"),
    ("pod_run_container_error", "RunContainerError"),
]
NOT_STARTING_PODS = [case for case in FATAL_PODS if case[1] not in ("CrashLoopBackOff", "RunContainerError")]


# --- object_ref and Verdict -------------------------------------------------------------------


def test_object_ref_namespaced_and_cluster_scoped():
    assert object_ref(load("statefulset_ready")) == "StatefulSet db/antidote-dc1"
    assert object_ref(load("crd_established")) == "CustomResourceDefinition raftprotocols.atomix.io"
    assert object_ref(load("namespace_active")) == "Namespace db"


def test_object_ref_without_name_or_kind():
    assert object_ref({"kind": "Pod", "metadata": {"generateName": "web-", "namespace": "db"}}) == "Pod db/web-<unnamed>"
    assert object_ref({}) == "Object <unnamed>"


def test_verdict_fields_and_helpers():
    verdict = evaluate(load("pod_crashloop"))
    assert verdict._fields == ("state", "reason", "message", "ref", "pod")
    assert verdict.failed and not verdict.ready
    assert verdict.pod == "antidote-dc1-2"
    assert verdict.detail.startswith("container antidote is in CrashLoopBackOff")
    assert evaluate(load("pod_ready")).ready
    assert Verdict(READY, "Ready", "no prefix").detail == "no prefix"


def test_terminating_object_is_failed():
    obj = load("statefulset_ready")
    obj["metadata"]["deletionTimestamp"] = "2026-11-22T00:30:00Z"
    verdict = evaluate(obj)
    assert (verdict.state, verdict.reason) == (FAILED, "Terminating")
    assert "being deleted" in verdict.message


# --- StatefulSet --------------------------------------------------------------------------------


def test_statefulset_all_ready_but_revision_not_rolled_out():
    sts = load("statefulset_rolling")
    sts["status"].update(readyReplicas=3, availableReplicas=3)
    verdict = evaluate(sts)
    assert (verdict.state, verdict.reason) == (WAITING, "RevisionNotRolledOut")
    assert "revision antidote-dc1-b989b7f55 not yet rolled out (1/3 replicas updated)" in verdict.message


def test_statefulset_rollout_done_when_revisions_match():
    sts = load("statefulset_rolling")
    sts["status"].update(readyReplicas=3, updatedReplicas=3, currentRevision=sts["status"]["updateRevision"])
    assert evaluate(sts).ready


def test_statefulset_ondelete_counts_only():
    sts = load("statefulset_ondelete")
    assert sts["status"]["currentRevision"] != sts["status"]["updateRevision"]
    assert "updatedReplicas" not in sts["status"]
    assert evaluate(sts).ready
    sts["status"]["readyReplicas"] = 1
    verdict = evaluate(sts)
    assert (verdict.state, verdict.reason) == (WAITING, "ReplicasNotReady")
    assert "revision" not in verdict.message


def test_statefulset_partition_not_yet_updated():
    sts = load("statefulset_partitioned")
    del sts["status"]["updatedReplicas"]
    verdict = evaluate(sts)
    assert (verdict.state, verdict.reason) == (WAITING, "ReplicasNotUpdated")
    assert "0/1 replicas from ordinal 2 up updated to revision antidote-dc3-66ccbb68b6" in verdict.message


def test_statefulset_generation_not_observed():
    sts = load("statefulset_ready")
    sts["metadata"]["generation"] = 2
    verdict = evaluate(sts)
    assert (verdict.state, verdict.reason) == (WAITING, "GenerationNotObserved")
    assert "generation 2 not yet observed by its controller (observed 1)" in verdict.message


def test_statefulset_without_status_is_waiting():
    sts = load("statefulset_ready")
    del sts["status"]
    assert evaluate(sts).reason == "GenerationNotObserved"


def test_statefulset_scale_down_pending():
    sts = load("statefulset_ready")
    sts["spec"]["replicas"] = 2
    verdict = evaluate(sts)
    assert (verdict.state, verdict.reason) == (WAITING, "OldReplicasPending")
    assert "1 replica above 2 pending removal" in verdict.message


def test_statefulset_scaled_to_zero_is_ready():
    sts = load("statefulset_ready")
    sts["spec"]["replicas"] = 0
    sts["status"] = {"observedGeneration": 1, "replicas": 0, "availableReplicas": 0,
                     "currentRevision": "antidote-dc1-76f758958f", "updateRevision": "antidote-dc1-76f758958f"}
    assert evaluate(sts).ready


def test_statefulset_waiting_names_the_pod_that_is_not_ready():
    verdict = evaluate(load("statefulset_rolling"), pods=load("statefulset_rolling_pods"))
    assert (verdict.state, verdict.reason) == (WAITING, "ReplicasNotReady")
    assert verdict.message.endswith("; pod antidote-dc1-2: container antidote running but not ready")
    assert verdict.pod == "antidote-dc1-2"


@pytest.mark.parametrize("name, reason", FATAL_PODS, ids=[case[0] for case in FATAL_PODS])
def test_statefulset_fails_fast_on_its_pods(name, reason):
    pods = load("statefulset_rolling_pods")[:2] + [load(name)]
    verdict = evaluate(load("statefulset_rolling"), pods=pods)
    assert (verdict.state, verdict.reason) == (FAILED, reason)
    assert verdict.message.startswith("StatefulSet db/antidote-dc1: pod antidote-dc1-2: ")
    assert "2/3 replicas ready" in verdict.message
    assert verdict.pod == "antidote-dc1-2"


def test_statefulset_fails_fast_on_unschedulable_pod():
    pod = set_unschedulable(load("pod_unschedulable"), load("pod_unschedulable")["status"]["conditions"][0]["message"])
    verdict = evaluate(load("statefulset_rolling"), pods=[pod])
    assert (verdict.state, verdict.reason) == (FAILED, "Unschedulable")
    assert "pod es-master-0: cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu." in verdict.message


def test_workload_reports_how_many_pods_fail():
    second = load("pod_crashloop")
    second["metadata"]["name"] = "antidote-dc1-1"
    verdict = evaluate(load("statefulset_rolling"), pods=[load("pod_crashloop"), second])
    assert verdict.pod == "antidote-dc1-1"
    assert "(and 1 more pod)" in verdict.message


def test_ready_workload_ignores_pod_problems():
    assert evaluate(load("statefulset_ready"), pods=[load("pod_crashloop")]).ready


def test_workload_ignores_terminal_deleted_and_foreign_pods():
    deleting = load("pod_crashloop")
    deleting["metadata"]["deletionTimestamp"] = "2026-11-22T00:30:00Z"
    foreign = load("pod_image_pull_backoff")
    foreign["metadata"]["namespace"] = "other"
    pods = [load("pod_evicted"), deleting, foreign, load("pod_ready")]
    verdict = evaluate(load("statefulset_rolling"), pods=pods)
    assert (verdict.state, verdict.reason) == (WAITING, "ReplicasNotReady")
    assert verdict.pod is None


def test_workload_waits_on_transient_image_pull_error():
    verdict = evaluate(load("statefulset_rolling"), pods=[load("pod_err_image_pull_transient")])
    assert verdict.state == WAITING
    assert "pod antidote-dc1-2: container antidote waiting: ErrImagePull" in verdict.message


def test_workload_waits_on_pod_with_unbound_immediate_claim():
    verdict = evaluate(load("statefulset_rolling"), pods=[load("pod_unbound_immediate_pvc")])
    assert verdict.state == WAITING
    assert "pod hazelcast-0: not scheduled yet (Unschedulable: 0/3 nodes are available" in verdict.message


# --- Deployment ---------------------------------------------------------------------------------


def test_deployment_progress_deadline_reports_counts():
    verdict = evaluate(load("deployment_progress_deadline"))
    assert verdict.message.endswith("(1/2 replicas updated, 2/2 ready, 2/2 available, "
                                    "2 old replicas pending termination)")


def test_deployment_progress_deadline_wins_over_pods():
    verdict = evaluate(load("deployment_progress_deadline"), pods=[load("pod_not_ready")])
    assert verdict.reason == "ProgressDeadlineExceeded"


@pytest.mark.parametrize("name, reason", FATAL_PODS, ids=[case[0] for case in FATAL_PODS])
def test_deployment_fails_fast_on_its_pods(name, reason):
    verdict = evaluate(load("deployment_rolling"), pods=[load("pod_ready"), load(name)])
    assert (verdict.state, verdict.reason) == (FAILED, reason)
    assert verdict.message.startswith("Deployment db/kibana: pod antidote-dc1-2: ")


def test_deployment_old_replicas_pending_termination():
    dep = load("deployment_ready")
    dep["status"]["replicas"] = 3
    verdict = evaluate(dep)
    assert (verdict.state, verdict.reason) == (WAITING, "OldReplicasPending")
    assert "1 old replica pending termination" in verdict.message


def test_deployment_ready_and_available_counts():
    dep = load("deployment_ready")
    dep["status"].update(readyReplicas=1, availableReplicas=1, unavailableReplicas=1)
    assert evaluate(dep).reason == "ReplicasNotReady"
    dep["status"].update(readyReplicas=2)
    assert evaluate(dep).reason == "ReplicasNotAvailable"
    dep["status"].update(availableReplicas=2)
    assert evaluate(dep).reason == "ReplicasNotAvailable"
    del dep["status"]["unavailableReplicas"]
    assert evaluate(dep).ready


def test_deployment_generation_not_observed():
    dep = load("deployment_ready")
    dep["metadata"]["generation"] = 2
    assert evaluate(dep).reason == "GenerationNotObserved"


def test_deployment_paused_rollout():
    dep = load("deployment_rolling")
    dep["spec"]["paused"] = True
    verdict = evaluate(dep)
    assert (verdict.state, verdict.reason) == (WAITING, "RolloutPaused")


def test_deployment_replica_failure_is_waiting():
    dep = load("deployment_rolling")
    dep["status"]["conditions"].append(cond(
        "ReplicaFailure", "True", "FailedCreate",
        'pods "kibana-5cc666d5ff-" is forbidden: error looking up service account db/kibana: '
        'serviceaccount "kibana" not found'))
    verdict = evaluate(dep)
    assert (verdict.state, verdict.reason) == (WAITING, "FailedCreate")
    assert 'serviceaccount "kibana" not found' in verdict.message


def test_deployment_scaled_to_zero_is_ready():
    dep = load("deployment_ready")
    dep["spec"]["replicas"] = 0
    for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        del dep["status"][key]
    assert evaluate(dep).ready


# --- DaemonSet ----------------------------------------------------------------------------------


def test_daemonset_not_ready_names_a_pod():
    verdict = evaluate(load("daemonset_not_ready"), pods=[load("pod_not_ready")])
    assert verdict.state == WAITING
    assert "pod antidote-dc1-2: container antidote running but not ready" in verdict.message


@pytest.mark.parametrize("name, reason", FATAL_PODS, ids=[case[0] for case in FATAL_PODS])
def test_daemonset_fails_fast_on_its_pods(name, reason):
    verdict = evaluate(load("daemonset_not_ready"), pods=[load(name)])
    assert (verdict.state, verdict.reason) == (FAILED, reason)


def test_daemonset_ondelete_ignores_updated_count():
    ds = load("daemonset_rolling")
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    ds["status"].update(numberReady=3, numberAvailable=3)
    del ds["status"]["numberUnavailable"]
    assert evaluate(ds).ready


def test_daemonset_unavailable_and_generation():
    ds = load("daemonset_ready")
    ds["status"]["numberUnavailable"] = 1
    assert evaluate(ds).reason == "ReplicasNotAvailable"
    ds["metadata"]["generation"] = 5
    assert evaluate(ds).reason == "GenerationNotObserved"


def test_daemonset_with_no_matching_nodes_is_ready():
    ds = load("daemonset_ready")
    ds["status"] = {"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0,
                    "numberReady": 0, "observedGeneration": 1}
    assert evaluate(ds).ready


# --- Job ----------------------------------------------------------------------------------------


def test_job_success_criteria_met_is_ready_before_complete():
    job = load("job_complete")
    job["status"]["conditions"] = job["status"]["conditions"][:1]
    assert job["status"]["conditions"][0]["type"] == "SuccessCriteriaMet"
    assert evaluate(job).ready


def test_job_failure_target_is_failed_before_failed():
    job = load("job_backoff_limit")
    job["status"]["conditions"] = job["status"]["conditions"][:1]
    assert job["status"]["conditions"][0]["type"] == "FailureTarget"
    verdict = evaluate(job)
    assert (verdict.state, verdict.reason) == (FAILED, "BackoffLimitExceeded")


def test_job_failed_without_reason():
    job = load("job_running")
    job["status"]["conditions"] = [cond("Failed", "True")]
    verdict = evaluate(job)
    assert (verdict.state, verdict.reason) == (FAILED, "JobFailed")


def test_job_suspended():
    job = load("job_running")
    job["spec"]["suspend"] = True
    assert evaluate(job).reason == "JobSuspended"


def test_job_without_completions_counts_successes():
    job = load("job_running")
    job["spec"].pop("completions", None)
    job["spec"]["completions"] = None
    assert "0 succeeded, 1 active, 0 failed" in evaluate(job).message


def test_job_crashing_pods_are_left_to_the_backoff_limit():
    pods = [load("pod_crashloop"), load("pod_run_container_error")]
    verdict = evaluate(load("job_running"), pods=pods)
    assert (verdict.state, verdict.reason) == (WAITING, "JobRunning")


@pytest.mark.parametrize("name, reason", NOT_STARTING_PODS, ids=[case[0] for case in NOT_STARTING_PODS])
def test_job_fails_fast_on_pods_that_cannot_start(name, reason):
    verdict = evaluate(load("job_running"), pods=[load(name)])
    assert (verdict.state, verdict.reason) == (FAILED, reason)
    assert verdict.message.startswith("Job db/connect-dcs: pod antidote-dc1-2: ")


def test_job_fails_fast_on_unschedulable_pod():
    verdict = evaluate(load("job_running"), pods=[load("pod_unschedulable")])
    assert verdict.reason == "Unschedulable"


# --- Pod ----------------------------------------------------------------------------------------


def test_pod_succeeded_with_restart_policy_always_is_failed():
    pod = load("pod_succeeded")
    pod["spec"]["restartPolicy"] = "Always"
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (FAILED, "PodCompleted")


def test_pod_failed_without_reason_lists_exit_codes():
    pod = load("pod_evicted")
    del pod["status"]["reason"]
    del pod["status"]["message"]
    assert evaluate(pod).message.endswith("pod failed: container antidote exited with code 137 (Error)")


def test_pod_being_deleted_is_failed():
    pod = load("pod_ready")
    pod["metadata"]["deletionTimestamp"] = "2026-11-22T00:30:00Z"
    assert evaluate(pod).reason == "Terminating"


def test_err_image_pull_after_a_restart_is_fatal():
    pod = load("pod_err_image_pull_transient")
    assert evaluate(pod).state == WAITING
    pod["status"]["containerStatuses"][0]["restartCount"] = 2
    assert (evaluate(pod).state, evaluate(pod).reason) == (FAILED, "ErrImagePull")


@pytest.mark.parametrize("reason", ["ErrImageNeverPull", "ImageInspectError", "SignatureValidationFailed"])
def test_other_fatal_image_states(reason):
    verdict = evaluate(set_waiting(load("pod_container_creating"), reason, "image problem"))
    assert (verdict.state, verdict.reason) == (FAILED, reason)


@pytest.mark.parametrize("reason", ["RegistryUnavailable", "ContainerCreating", "PodInitializing"])
def test_transient_waiting_states(reason):
    verdict = evaluate(set_waiting(load("pod_container_creating"), reason))
    assert verdict.state == WAITING
    assert f"container antidote waiting: {reason}" in verdict.message


def test_unschedulable_with_nomination_is_waiting():
    pod = load("pod_unschedulable")
    pod["status"]["nominatedNodeName"] = "localkube-node-1"
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodNotScheduled")
    assert "Insufficient cpu" in verdict.message


@pytest.mark.parametrize("message, state", [
    ('0/3 nodes are available: persistentvolumeclaim "data-hazelcast-0" not found. '
     "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.", WAITING),
    ('0/3 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim '
     '"hazelcast-0-scratch". preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
     WAITING),
    ("0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient memory. preemption: "
     "0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found "
     "for incoming pod.", FAILED),
    ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: "
     "0/3 nodes are available: 3 Preemption is not helpful for scheduling.", FAILED),
    ("0/0 nodes are available: .", FAILED),
    ("no nodes available to schedule pods", FAILED),
])
def test_unschedulable_messages(message, state):
    assert evaluate(set_unschedulable(load("pod_unschedulable"), message)).state == state


def test_scheduling_gated_pod_is_waiting():
    pod = set_unschedulable(load("pod_unschedulable"), "Scheduling is blocked due to non-empty scheduling gates",
                            reason="SchedulingGated")
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodNotScheduled")
    assert "SchedulingGated" in verdict.message


def test_pod_without_conditions_is_waiting_for_the_scheduler():
    pod = load("pod_unschedulable")
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodNotScheduled")
    assert verdict.message.endswith("not scheduled yet")


def test_pod_with_running_init_container():
    pod = load("pod_init_crashloop")
    pod["status"]["initContainerStatuses"][0]["state"] = {"running": {"startedAt": "2026-11-22T00:16:41Z"}}
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodPending")
    assert "init container wait-for-peers still running" in verdict.message


def test_pod_with_terminated_container_waits_for_restart():
    pod = load("pod_crashloop")
    status = pod["status"]["containerStatuses"][0]
    status["state"] = status["lastState"]
    assert evaluate(pod).message.endswith("container antidote terminated with exit code 1 (Error)")


def test_pod_waiting_for_a_readiness_gate():
    pod = load("pod_ready")
    pod["spec"]["readinessGates"] = [{"conditionType": "antidote.syncfree.github.io/dc-joined"}]
    pod["status"]["conditions"][2].update(
        status="False", reason="ReadinessGatesNotReady",
        message='corresponding condition of pod readiness gate "antidote.syncfree.github.io/dc-joined" does not exist.')
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodNotReady")
    assert "phase Running, not ready (ReadinessGatesNotReady: corresponding condition" in verdict.message


def test_scheduled_pod_without_container_statuses_yet():
    pod = load("pod_ready")
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable",
                     "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                     "lastTransitionTime": "2026-11-22T00:14:07Z"}]}
    verdict = evaluate(pod)
    assert (verdict.state, verdict.reason) == (WAITING, "PodPending")
    assert verdict.message.endswith(": phase Pending")


# --- PersistentVolumeClaim --------------------------------------------------------------------


@pytest.mark.parametrize("events", ["events_core_v1", "events_events_k8s_io_v1"])
@pytest.mark.parametrize("name, state, reason, text", [
    ("pvc_provisioning_failed", FAILED, "ProvisioningFailed",
     'volume provisioning failed: storageclass.storage.k8s.io "fast-ssd" not found'),
    ("pvc_wait_for_first_consumer", WAITING, "WaitForFirstConsumer",
     "waiting for first consumer to be created before binding"),
    ("pvc_no_class", WAITING, "FailedBinding", "no persistent volumes available for this claim"),
    ("pvc_bound", READY, "Bound", "bound to PersistentVolume pv-atomix-0"),
])
def test_pvc_with_events(events, name, state, reason, text):
    verdict = evaluate(load(name), events=load(events))
    assert (verdict.state, verdict.reason) == (state, reason)
    assert text in verdict.message


def test_pvc_ignores_events_about_other_claims():
    events = [e for e in load("events_core_v1") if e["involvedObject"]["name"] != "data-hazelcast-0"]
    assert evaluate(load("pvc_provisioning_failed"), events=events).reason == "ClaimPending"


def pvc_event(reason, when, message="", etype="Normal"):
    return {"apiVersion": "v1", "kind": "Event", "type": etype, "reason": reason, "message": message,
            "count": 1, "firstTimestamp": when, "lastTimestamp": when, "eventTime": None,
            "involvedObject": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "db",
                               "name": "data-hazelcast-0"}}


def test_pvc_retry_after_failure_is_waiting():
    events = [
        pvc_event("ProvisioningFailed", "2026-11-22T00:14:25Z", "rpc error: code = DeadlineExceeded", "Warning"),
        pvc_event("Provisioning", "2026-11-22T00:14:40Z",
                  'External provisioner is provisioning volume for claim "db/data-hazelcast-0"'),
        pvc_event("ExternalProvisioning", "2026-11-22T00:14:41Z", "Waiting for a volume to be created"),
    ]
    verdict = evaluate(load("pvc_provisioning_failed"), events=events)
    assert (verdict.state, verdict.reason) == (WAITING, "ClaimPending")
    assert "External provisioner is provisioning volume" in verdict.message


def test_pvc_failure_after_external_provisioning_hint_is_failed():
    events = [
        pvc_event("ExternalProvisioning", "2026-11-22T00:14:41Z", "Waiting for a volume to be created"),
        pvc_event("ProvisioningFailed", "2026-11-22T00:14:30Z", "rpc error: code = ResourceExhausted", "Warning"),
    ]
    assert evaluate(load("pvc_provisioning_failed"), events=events).reason == "ProvisioningFailed"


def test_pvc_external_provisioning_hint():
    events = [pvc_event("ExternalProvisioning", "2026-11-22T00:14:41Z", "Waiting for a volume to be created")]
    assert evaluate(load("pvc_provisioning_failed"), events=events).message.endswith(
        ": Waiting for a volume to be created")


def test_pvc_lost():
    pvc = load("pvc_bound")
    pvc["status"] = {"phase": "Lost"}
    verdict = evaluate(pvc)
    assert (verdict.state, verdict.reason) == (FAILED, "ClaimLost")
    assert "pv-atomix-0" in verdict.message


# --- Service ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, text", [
    ("service_headless", "3/3 endpoints ready"),
    ("service_cluster_ip", "2/2 endpoints ready"),
])
def test_service_ready_with_endpoint_slices(name, text):
    verdict = evaluate(load(name), endpoint_slices=load("endpointslices"))
    assert (verdict.state, verdict.reason) == (READY, "Ready")
    assert text in verdict.message


def unready(slices):
    for eps in slices:
        for endpoint in eps["endpoints"]:
            endpoint["conditions"] = {"ready": False, "serving": False, "terminating": False}
    return slices


def test_service_with_only_unready_endpoints():
    verdict = evaluate(load("service_cluster_ip"), endpoint_slices=unready(load("endpointslices")))
    assert (verdict.state, verdict.reason) == (WAITING, "NoReadyEndpoints")
    assert "no ready endpoints (2 not ready)" in verdict.message


def test_service_endpoint_with_unknown_readiness_counts_as_ready():
    slices = unready(load("endpointslices"))
    del slices[0]["endpoints"][0]["conditions"]["ready"]
    assert evaluate(load("service_headless"), endpoint_slices=slices).message.endswith("1/3 endpoints ready")


def test_service_ignores_other_services_slices():
    slices = [s for s in load("endpointslices") if s["metadata"]["labels"]["kubernetes.io/service-name"] != "loklak"]
    verdict = evaluate(load("service_cluster_ip"), endpoint_slices=slices)
    assert verdict.message.endswith("no endpoints: no pod matching app.kubernetes.io/name=loklak is ready")


def test_service_ignores_slices_in_other_namespaces():
    slices = load("endpointslices")
    for eps in slices:
        eps["metadata"]["namespace"] = "other"
    assert evaluate(load("service_headless"), endpoint_slices=slices).reason == "NoReadyEndpoints"


def test_service_fails_fast_on_selected_pods():
    verdict = evaluate(load("service_headless"), endpoint_slices=[], pods=[load("pod_image_pull_backoff")])
    assert (verdict.state, verdict.reason) == (FAILED, "ImagePullBackOff")


def test_service_slice_with_null_endpoints():
    slices = load("endpointslices")
    for eps in slices:
        eps["endpoints"] = None
    assert evaluate(load("service_headless"), endpoint_slices=slices).reason == "NoReadyEndpoints"


# --- CustomResourceDefinition and Namespace -----------------------------------------------------


def test_crd_installing_is_waiting():
    crd = load("crd_established")
    crd["status"]["conditions"][1].update(status="False", reason="Installing",
                                          message="the initial names have been accepted")
    verdict = evaluate(crd)
    assert (verdict.state, verdict.reason) == (WAITING, "NotEstablished")
    assert "Installing: the initial names have been accepted" in verdict.message


def test_crd_invalid_ca_bundle_is_failed():
    crd = load("crd_established")
    crd["status"]["conditions"][1].update(status="False", reason="InvalidCABundle",
                                          message="The conversion webhook CABundle is invalid")
    assert evaluate(crd).reason == "InvalidCABundle"
    assert evaluate(crd).failed


def test_crd_without_status():
    crd = load("crd_established")
    del crd["status"]
    assert evaluate(crd).message.endswith("not established yet (no Established condition yet)")


def test_namespace_without_phase():
    ns = load("namespace_active")
    del ns["status"]
    assert (evaluate(ns).state, evaluate(ns).reason) == (WAITING, "NamespaceNotActive")


def test_namespace_terminating_without_deletion_timestamp():
    ns = load("namespace_terminating")
    del ns["metadata"]["deletionTimestamp"]
    assert evaluate(ns).reason == "Terminating"


# --- other kinds: Ready condition, Stalled, existence -----------------------------------------


def test_custom_object_without_conditions_exists():
    verdict = evaluate(custom_resource())
    assert (verdict.state, verdict.reason) == (READY, "Exists")


def test_custom_object_ready_condition():
    assert evaluate(custom_resource([cond("Ready", "True", "RaftReady")], observed=1)).ready
    verdict = evaluate(custom_resource([cond("Ready", "False", "ReplicasNotReady", "1/3 replicas ready")]))
    assert (verdict.state, verdict.reason) == (WAITING, "NotReady")
    assert verdict.message == ("RaftProtocol db/raft: condition Ready is False "
                               "(ReplicasNotReady: 1/3 replicas ready)")


def test_custom_object_ready_condition_of_an_older_generation():
    stale = custom_resource([cond("Ready", "True", observed=1)], generation=2)
    assert evaluate(stale).reason == "GenerationNotObserved"
    old_status = custom_resource([cond("Ready", "True")], generation=2, observed=1)
    assert evaluate(old_status).reason == "GenerationNotObserved"


def test_custom_object_stalled():
    verdict = evaluate(custom_resource([cond("Ready", "False"), cond("Stalled", "True", "InvalidSpec",
                                                                     "groups must be odd")]))
    assert (verdict.state, verdict.reason) == (FAILED, "Stalled")
    assert "InvalidSpec: groups must be odd" in verdict.message


def test_kind_in_another_group_uses_generic_rules():
    job = load("job_running")
    job["apiVersion"] = "batch.volcano.sh/v1alpha1"
    assert evaluate(job).reason == "Exists"


def test_list_items_without_kind_metadata_still_dispatch():
    job = load("job_running")
    del job["apiVersion"]
    assert evaluate(job).reason == "JobRunning"


# --- explicit condition and field ---------------------------------------------------------------


@pytest.mark.parametrize("want, state", [
    ({"type": "Synced"}, READY),
    ({"type": "Synced", "status": "True"}, READY),
    ({"type": "Synced", "status": True}, READY),
    ({"type": "Synced", "status": "true", "reason": "ReconcileSuccess"}, READY),
    ({"type": "Synced", "status": "True", "reason": "Other"}, WAITING),
    ({"type": "Synced", "status": "False"}, WAITING),
    ({"type": "Missing"}, WAITING),
])
def test_explicit_condition(want, state):
    obj = custom_resource([cond("Synced", "True", "ReconcileSuccess")])
    verdict = evaluate(obj, condition=want)
    assert verdict.state == state
    assert verdict.reason == ("ConditionMet" if state == READY else "ConditionNotMet")


def test_explicit_condition_messages():
    obj = custom_resource([cond("Synced", "False", "ReconcileError", "cannot reach members")])
    assert evaluate(obj, condition={"type": "Synced"}).message == (
        "RaftProtocol db/raft: waiting for condition Synced=True; it is False "
        "(ReconcileError: cannot reach members)")
    assert evaluate(obj, condition={"type": "Leader"}).message == (
        "RaftProtocol db/raft: waiting for condition Leader=True; not reported yet")


def test_explicit_condition_of_an_older_generation():
    obj = custom_resource([cond("Synced", "True", observed=1)], generation=2)
    assert evaluate(obj, condition={"type": "Synced"}).reason == "GenerationNotObserved"


def test_explicit_condition_replaces_the_kind_rule():
    verdict = evaluate(load("deployment_rolling"), condition={"type": "Available"})
    assert (verdict.state, verdict.reason) == (READY, "ConditionMet")


def test_kind_failure_wins_over_an_unmet_explicit_condition():
    verdict = evaluate(load("deployment_progress_deadline"), condition={"type": "Progressing"})
    assert verdict.reason == "ProgressDeadlineExceeded"
    verdict = evaluate(load("job_running"), condition={"type": "Complete"}, pods=[load("pod_image_pull_backoff")])
    assert verdict.reason == "ImagePullBackOff"
    stalled = custom_resource([cond("Stalled", "True", "InvalidSpec")])
    assert evaluate(stalled, condition={"type": "Synced"}).reason == "Stalled"


def test_explicit_condition_can_wait_for_failure():
    verdict = evaluate(load("job_backoff_limit"), condition={"type": "Failed", "status": "True"})
    assert verdict.ready


@pytest.mark.parametrize("path, value, state", [
    ("status.state", "Ready", READY),
    ("status.state", "Degraded", WAITING),
    ("status.members[1].role", "follower", READY),
    ("status.members.0.role", "leader", READY),
    ("status.members[5].role", "leader", WAITING),
    ("status.members.x.role", "leader", WAITING),
    ('metadata.labels["app.kubernetes.io/name"]', "atomix", READY),
    ("metadata.labels['app.kubernetes.io/name']", "atomix", READY),
    ("status.readyMembers", "3", READY),
    ("status.readyMembers", 3, READY),
    ("status.leaderElected", "true", READY),
    ("status.leaderElected", True, READY),
    ("status.leaderElected", False, WAITING),
    ("status.nothing", "x", WAITING),
])
def test_explicit_field(path, value, state):
    obj = custom_resource(state="Ready", readyMembers=3, leaderElected=True,
                          members=[{"name": "raft-0", "role": "leader"}, {"name": "raft-1", "role": "follower"}])
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": "atomix"}
    verdict = evaluate(obj, field={"path": path, "value": value})
    assert verdict.state == state
    assert verdict.reason == ("FieldMatched" if state == READY else "FieldNotMatched")


def test_explicit_field_presence_and_messages():
    obj = custom_resource(state="Ready", leader="")
    assert evaluate(obj, field={"path": "status.state"}).ready
    assert evaluate(obj, field={"path": "status.leader"}).message == (
        "RaftProtocol db/raft: waiting for status.leader to be set")
    assert evaluate(obj, field={"path": "status.state", "value": "Degraded"}).message == (
        "RaftProtocol db/raft: waiting for status.state to be 'Degraded'; it is 'Ready'")
    assert evaluate(obj, field={"path": "status.phase", "value": "Running"}).message.endswith("it is not set")


def test_explicit_condition_and_field_must_both_hold():
    obj = custom_resource([cond("Synced", "True")], state="Provisioning")
    verdict = evaluate(obj, condition={"type": "Synced"}, field={"path": "status.state", "value": "Ready"})
    assert verdict.reason == "FieldNotMatched"
    obj["status"]["state"] = "Ready"
    assert evaluate(obj, condition={"type": "Synced"}, field={"path": "status.state", "value": "Ready"}).ready


@pytest.mark.parametrize("kwargs", [{"condition": {"status": "True"}}, {"field": {"value": "Ready"}}])
def test_explicit_arguments_are_validated(kwargs):
    with pytest.raises(ValueError):
        evaluate(custom_resource(), **kwargs)


def test_lookup():
    obj = {"a": {"b": [{"c": 1}, {"c": None}]}}
    assert lookup(obj, "a.b[0].c") == (True, 1)
    assert lookup(obj, "a.b.1.c") == (True, None)
    assert lookup(obj, "a.b[-1].c") == (True, None)
    assert lookup(obj, "a.x") == (False, None)
    assert lookup(obj, "a.b[0].c.d") == (False, None)


# --- times and events ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-11-22T00:14:25Z", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    ("2026-11-22T00:13:51.057414Z", datetime(2026, 11, 22, 0, 13, 51, 57414, tzinfo=timezone.utc)),
    ("2026-11-22T02:14:25+02:00", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    ("2026-11-21T22:44:25-01:30", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    (None, None),
    ("yesterday", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_event_view_core_v1():
    event = next(e for e in load("events_core_v1") if e["reason"] == "ProvisioningFailed")
    view = event_view(event)
    assert view.when == datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)
    assert (view.type, view.reason, view.count) == ("Warning", "ProvisioningFailed", 4)
    assert view.regarding == "PersistentVolumeClaim db/data-hazelcast-0"


def test_event_view_events_k8s_io_and_scheduler_event():
    event = next(e for e in load("events_events_k8s_io_v1") if e["reason"] == "FailedScheduling")
    view = event_view(event)
    assert view.message.startswith("0/3 nodes are available")
    assert view.when is not None and view.count == 1
    core = next(e for e in load("events_core_v1") if e["reason"] == "FailedScheduling")
    assert event_view(core).when == event_view(
        next(e for e in load("events_events_k8s_io_v1") if e["metadata"]["uid"] == core["metadata"]["uid"])).when


def test_event_view_series_wins():
    event = copy.deepcopy(load("events_events_k8s_io_v1")[0])
    last = parse_time(event["eventTime"]) + timedelta(minutes=5)
    event["series"] = {"count": 7, "lastObservedTime": last.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    view = event_view(event)
    assert (view.count, view.when) == (7, last)
