# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts of Pods: what their containers and scheduling say."""

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import FAILED, WAITING, evaluate
from tests.helpers.readiness_fixtures import load, set_unschedulable, set_waiting


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
