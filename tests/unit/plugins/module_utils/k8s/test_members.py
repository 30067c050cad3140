# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/k8s/members.py and the tunnel errors of forward.py: workloads, pod order and words, port-forwards."""
import http.client

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s import members
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward


def pod(name, phase="Running", deleting=False, reason=None, ready=None):
    metadata = {"name": name}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    conditions = []
    if reason:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": reason})
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True" if ready else "False"})
    return {"metadata": metadata, "status": {"phase": phase, "conditions": conditions}}


class FakeKube:
    def __init__(self, objects):
        self.objects = objects

    def get(self, path, query=None, missing_ok=False):
        return self.objects.get(path)


class Refused(Exception):
    pass


def test_pods_sort_by_numeric_ordinal():
    assert sorted(["hz-10", "hz-2", "hz-0", "hz-1", "other"], key=members.pod_sort_key) == [
        "hz-0", "hz-1", "hz-2", "hz-10", "other"]
    assert (members.ordinal("es-12"), members.ordinal("es")) == (12, -1)


def test_describe_pods_gives_reasons_or_readiness():
    pods = [pod("hz-1", phase="Pending", reason="Unschedulable"), pod("hz-0"), pod("hz-2", deleting=True)]
    assert members.describe_pods(pods) == "hz-0 Running, hz-1 Pending (Unschedulable), hz-2 Terminating"
    assert members.describe_pods([pod("es-2", ready=False), pod("es-10", ready=True)], readiness=True) == \
        "es-2 Running, not Ready, es-10 Running"
    assert members.describe_pods([]) == "none"


def test_pod_set_counts_running_pods_that_are_not_being_deleted():
    """Moved from test_hazelcast_k8s.py with hazelcast's PodSet.settled and running_names."""
    pods = {p["metadata"]["name"]: p for p in (pod("hz-0"), pod("hz-1"), pod("hz-2", deleting=True))}
    assert members.settled(2)(pods) and not members.settled(3)(pods)
    assert members.names(pods) == ["hz-0", "hz-1"]
    pods["hz-3"] = pod("hz-3", phase="Pending")
    assert not members.settled(2)(pods) and not members.settled(3)(pods)  # a pod still starting: not settled yet
    del pods["hz-3"]
    assert members.settled(2)(pods)


def test_predicates_for_named_members_and_a_ready_pod():
    pods = {"es-0": pod("es-0", ready=True), "es-1": pod("es-1", phase="Pending")}
    assert members.members_running(["es-0"])(pods) and not members.members_running(["es-0", "es-1"])(pods)
    assert members.any_ready(pods) and not members.any_ready({"es-1": pods["es-1"]})
    assert members.names(pods, members.is_ready) == ["es-0"]
    assert members.statefulset_pods({"metadata": {"name": "es"}, "spec": {"replicas": 2}}) == ["es-0", "es-1"]


def test_a_workload_gives_what_selector_and_replicas():
    sts = {"spec": {"selector": {"matchLabels": {"app": "hz"}}}}
    kube = FakeKube({"/apis/apps/v1/namespaces/ns/statefulsets/hz": sts,
                     "/apis/apps/v1/namespaces/ns/deployments/bare": {"spec": {"replicas": 2}},
                     "/api/v1/namespaces/ns/pods": {"items": [pod("hz-0")]}})
    workload = members.Workload(kube, "ns", "StatefulSet", "hz")
    assert (workload.what, workload.selector, workload.replicas, workload.obj) == (
        "StatefulSet ns/hz", "app=hz", 1, sts)
    pods, settled = workload.wait(members.settled(1), Deadline(300), check_mode=True)
    assert settled and list(pods.pods) == ["hz-0"]
    by_labels = members.Workload(kube, "ns", label_selectors=["app=hz", "tier=cache"])
    assert (by_labels.what, by_labels.selector, by_labels.replicas) == (
        "pods [app=hz,tier=cache] in ns", "app=hz,tier=cache", None)
    with pytest.raises(Refused, match="^Deployment ns/gone not found$"):
        members.Workload(kube, "ns", "Deployment", "gone", error=Refused)
    with pytest.raises(Refused, match="^Deployment ns/bare has no label selector to find its pods by$"):
        members.Workload(kube, "ns", "Deployment", "bare", error=Refused)


def test_forwarded_members_listen_on_loopback():
    with members.forwarded(None, "ns", ["hz-0", "hz-1"], 5701) as found:
        assert [m.name for m in found] == ["hz-0", "hz-1"]
        assert all(m.address[0] == "127.0.0.1" and str(m.forward) == "port-forward to pod ns/%s port 5701" % m.name
                   for m in found)
        assert found[0].address != found[1].address


def test_a_failed_tunnel_is_explained_once():
    forward = LocalForward(None, "db", "es-0", 9200)
    forward.refused, forward.last_error = True, "Handshake status 403 Forbidden"
    with pytest.raises(Refused, match=r"^port-forward to pod db/es-0 port 9200: the API server refused the port-"
                                      r"forward \(403\); the credentials need 'get' and 'create'"):
        forward.raise_for(OSError("closed"), Refused, "")
    forward.refused, forward.last_error = False, "error forwarding port 9200:\n  connection refused"
    with pytest.raises(ConnectionError, match="^port-forward to pod db/es-0 port 9200 failed: error forwarding port "
                                              "9200: connection refused$"):
        forward.raise_for(OSError("closed"), Refused, "")
    forward.last_error = None
    with pytest.raises(ConnectionError, match="^port-forward to pod db/es-0 port 9200 closed without an HTTP response: "
                                              "nothing listens on the port in the pod, or a hint$"):
        forward.raise_for(http.client.RemoteDisconnected("closed"), Refused, ", or a hint")
    assert forward.raise_for(TimeoutError("timed out"), Refused, "") is None
