# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness predicates on objects shaped as the API server returns them.

Controller-written statuses in the fixtures were captured from kube-controller-manager,
kube-scheduler and kube-apiserver 1.34; kubelet-written pod statuses follow the kubelet's format.
"""

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import (
    FAILED,
    READY,
    WAITING,
    evaluate,
    lookup,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import object_ref
from tests.helpers.readiness_fixtures import cond, load


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


def test_terminating_object_is_failed():
    obj = load("statefulset_ready")
    obj["metadata"]["deletionTimestamp"] = "2026-11-22T00:30:00Z"
    verdict = evaluate(obj)
    assert (verdict.state, verdict.reason) == (FAILED, "Terminating")
    assert "being deleted" in verdict.message


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
