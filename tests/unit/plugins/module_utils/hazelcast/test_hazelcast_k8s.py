# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/hazelcast/k8s.py without a cluster: pods, selectors, option checks, tunnel errors.

The whole path (pods of a StatefulSet or Deployment, port-forward, real members) is tested in
tests/integration/hazelcast/test_hazelcast_role.py.
"""
import http.client

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.members import Member, describe_pods, pod_sort_key
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pods import PodSet
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.selectors import selector_string
from ansible_collections.stateful.datastores.plugins.module_utils.hazelcast.k8s import (
    ARGUMENT_SPEC,
    ForwardTransport,
    HazelcastK8sError,
    run,
    validate,
)
from tests.fakes.kube import FakeKube


def params(**given):
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    values.update(given)
    return values


def pod(name, phase="Running", deleting=False, reason=None):
    metadata = {"name": name}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    status = {"phase": phase}
    if reason:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": reason}]
    return {"metadata": metadata, "status": status}


STS_PATH = "/apis/apps/v1/namespaces/ns/statefulsets/hz"
PODS_PATH = "/api/v1/namespaces/ns/pods"
SELECTOR = {"matchLabels": {"app.kubernetes.io/name": "hazelcast", "app.kubernetes.io/instance": "hz"}}
STS = {"spec": {"replicas": 3, "selector": SELECTOR}}


def test_selector_string_covers_labels_and_expressions():
    selector = {"matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x", "y"]},
                                     {"key": "zone", "operator": "NotIn", "values": ["z"]},
                                     {"key": "has", "operator": "Exists"},
                                     {"key": "not", "operator": "DoesNotExist"}]}
    assert selector_string(selector) == "a=1,b=2,tier in (x,y),zone notin (z),has,!not"


def test_statefulset_ordinals_sort_numerically():
    names = ["hz-10", "hz-2", "hz-0", "hz-1", "other"]
    assert sorted(names, key=pod_sort_key) == ["hz-0", "hz-1", "hz-2", "hz-10", "other"]


def test_describe_pods_gives_state_and_reason():
    text = describe_pods([pod("hz-1", phase="Pending", reason="Unschedulable"), pod("hz-0"),
                          pod("hz-2", deleting=True)])
    assert text == "hz-0 Running, hz-1 Pending (Unschedulable), hz-2 Terminating"


@pytest.mark.parametrize("given, words", [
    ({"name": "hz", "replicas": 0, "namespace": "ns"}, "replicas must be at least 1, got 0"),
    ({"name": "hz"}, "namespace is required"),
    ({"label_selectors": ["app=hz"], "namespace": "ns"}, "replicas is required with label_selectors"),
    ({"endpoints": []}, "endpoints must list at least one"),
    ({"endpoints": ["127.0.0.1:99999"]}, "'127.0.0.1:99999' is not host:port"),
    ({"name": "hz", "namespace": "ns", "timeout": -1}, "timeout must be 0 or more"),
    ({"name": "hz", "namespace": "ns", "sleep": 0}, "sleep must be more than 0"),
    ({"name": "hz", "namespace": "ns", "port": 0}, "port must be 1-65535"),
])
def test_validate_names_the_option(given, words):
    assert words in validate(params(**given))


def test_validate_accepts_good_input():
    assert validate(params(name="hz", namespace="ns")) is None
    assert validate(params(endpoints=["10.0.0.1:5701", "hz-0.hz-members", "[::1]:5701"])) is None


def member(pod, local_port):
    return Member(pod, ("127.0.0.1", local_port), LocalForward(None, "ns", pod, 5701))


class FailingTransport:
    def __init__(self, error, tunnel=None, tunnel_error=None):
        self.error, self.tunnel, self.tunnel_error = error, tunnel, tunnel_error
        self.calls = []

    def get(self, host, port, path, timeout):
        self.calls.append((host, port, path))
        if self.tunnel is not None:
            self.tunnel.last_error = self.tunnel_error
        raise self.error


def test_forward_transport_reports_the_port_forward_error():
    hz2 = member("hz-2", 40001)
    inner = FailingTransport(http.client.RemoteDisconnected("closed"), hz2.forward,
                             "port-forward to pod ns/hz-2 port 5701: (0)\nReason: Connection refused\n")
    transport = ForwardTransport(inner, [hz2])
    with pytest.raises(ConnectionError) as caught:
        transport.get("hz-2", 5701, "/hazelcast/health", 5)
    assert inner.calls == [("127.0.0.1", 40001, "/hazelcast/health")]
    assert str(caught.value) == ("port-forward to pod ns/hz-2 port 5701 failed: port-forward to pod ns/hz-2 port "
                                 "5701: (0) Reason: Connection refused")


def test_forward_transport_explains_a_closed_tunnel_without_a_reason():
    transport = ForwardTransport(FailingTransport(http.client.RemoteDisconnected("closed")), [member("hz-0", 40002)])
    with pytest.raises(ConnectionError, match="pod ns/hz-0 port 5701 closed without an HTTP response: nothing "
                                              "listens on the port in the pod, or the member's REST API"):
        transport.get("hz-0", 5701, "/hazelcast/health", 5)


def test_forward_transport_passes_other_errors_through():
    transport = ForwardTransport(FailingTransport(TimeoutError("timed out")), [member("hz-0", 40003)])
    with pytest.raises(TimeoutError):
        transport.get("hz-0", 5701, "/hazelcast/health", 5)


def test_missing_workload_fails_but_is_reported_in_check_mode():
    kube = FakeKube({})
    with pytest.raises(HazelcastK8sError, match="StatefulSet ns/hz not found"):
        run(params(name="hz", namespace="ns"), kube_factory=lambda: kube)
    failure, result = run(params(name="hz", namespace="ns", replicas=2), check_mode=True, kube_factory=lambda: kube)
    assert failure is None
    assert result["healthy"] is False and result["problems"] == ["StatefulSet ns/hz not found"]


def test_too_few_pods_in_check_mode_is_reported_without_waiting():
    kube = FakeKube({STS_PATH: STS, PODS_PATH: {"items": []}})
    failure, result = run(params(name="hz", namespace="ns", timeout=300), check_mode=True, kube_factory=lambda: kube)
    assert failure is None and result["healthy"] is False and result["expected_size"] == 3
    [problem] = result["problems"]
    assert problem.startswith("StatefulSet ns/hz: 0 running pod(s) after ")
    assert problem.endswith(", expected 3 member(s); pods: none")
    assert result["elapsed"] < 5
    assert kube.queries[-1] == (PODS_PATH, {"labelSelector": "app.kubernetes.io/instance=hz,app.kubernetes.io/name=hazelcast"})


def test_pods_that_never_come_fail_at_the_deadline_with_what_runs(monkeypatch):
    pods = [pod("hz-0"), pod("hz-1", phase="Pending", reason="Unschedulable")]
    kube = FakeKube({STS_PATH: STS, PODS_PATH: {"items": pods}})
    monkeypatch.setattr(PodSet, "wait", lambda self, predicate, deadline: (self.list_once(), False)[1])
    failure, result = run(params(name="hz", namespace="ns", timeout=0), kube_factory=lambda: kube)
    assert failure.startswith("StatefulSet ns/hz: 1 running pod(s) after ")
    assert failure.endswith("expected 3 member(s); pods: hz-0 Running, hz-1 Pending (Unschedulable)")
    assert result["pods"] == ["hz-0"] and result["healthy"] is False


def test_deadline_counts_down():
    now = [10.0]
    deadline = Deadline(5, clock=lambda: now[0])
    now[0] = 12.5
    assert (deadline.remaining(), deadline.elapsed()) == (2.5, 2.5)


def test_label_selectors_need_no_workload():
    kube = FakeKube({PODS_PATH: {"items": []}})
    failure, result = run(params(label_selectors=["app=hz", "tier=cache"], namespace="ns", replicas=2),
                          check_mode=True, kube_factory=lambda: kube)
    assert failure is None and result["workload"]["selector"] == "app=hz,tier=cache"
    assert result["workload"]["kind"] is None and result["expected_size"] == 2
