# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts of Deployments, StatefulSets, DaemonSets and Jobs, and how their pods make them fail fast."""

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import FAILED, WAITING, evaluate
from tests.helpers.readiness_fixtures import cond, load, set_unschedulable

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
