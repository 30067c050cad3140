# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes glue of the Antidote modules (antidote_k8s.py), with a fake API and the stand-in.

DCs are reached at direct addresses here (the stand-in's ports); the integration tests cover the
port-forward path. The fake API stores the connection-record ConfigMap and StatefulSets.
"""
import json

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.antidote import k8s as antidote_k8s, operations as antidote
from ansible_collections.stateful.datastores.plugins.module_utils.antidote.k8s import (
    AntidoteK8sError,
    connect,
    create_dcs,
    parse_address,
    resolve_nodes,
    targets_from_params,
    unreachable_hint,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward
from tests.fakes import kube as fake
from tests.standins.antidote_standin import AntidoteStandin

CREATE_DC, CONNECT_TO_DCS = 129, 131
RECORD_PATH = "/api/v1/namespaces/db/configmaps/antidote-dc-connections"


class FakeKube(fake.FakeKube):
    @property
    def leases_taken(self):
        return self.created


def endpoint_of(standin, dc):
    _name, port, _metrics = standin.manager(dc)
    return "127.0.0.1:{0}".format(port)


def metrics_of(standin, dc):
    return "127.0.0.1:{0}".format(standin.manager(dc)[2])


def dc_params(standin, **extra):
    params = {"namespace": "db", "dcs": [
        {"name": dc["name"], "endpoint": endpoint_of(standin, dc["name"]), "nodes": standin.node_names(dc["name"])}
        for dc in standin.describe()["dcs"]], "pb_port": 8087, "timeout": 10, "call_timeout": 5,
        "node_name_prefix": "antidote"}
    params.update(extra)
    return params


def connect_params(standin, **extra):
    params = {"namespace": "db", "dcs": [
        {"name": dc["name"], "endpoint": endpoint_of(standin, dc["name"]),
         "metrics_endpoint": metrics_of(standin, dc["name"])} for dc in standin.describe()["dcs"]],
        "pb_port": 8087, "metrics_port": 3001, "timeout": 10, "call_timeout": 5, "verify": True, "force": False,
        "record_configmap": "antidote-dc-connections", "record_namespace": None, "record_labels": {}}
    params.update(extra)
    return params


@pytest.fixture
def three_dcs():
    with AntidoteStandin(dcs=3, nodes=2) as standin:
        yield standin


@pytest.fixture
def formed(three_dcs):
    create_dcs(None, dc_params(three_dcs))
    return three_dcs


# --- createDC


def test_create_dcs_forms_every_dc_once(three_dcs):
    first = create_dcs(None, dc_params(three_dcs))
    assert first["changed"] is True and first["warnings"] == []
    assert [(dc["name"], dc["changed"], dc["members_before"], dc["members"]) for dc in first["dcs"]] == [
        ("dc1", True, 1, 2), ("dc2", True, 1, 2), ("dc3", True, 1, 2)]
    assert first["dcs"][0]["reached"] == endpoint_of(three_dcs, "dc1")
    assert three_dcs.members("dc2") == three_dcs.node_names("dc2")
    second = create_dcs(None, dc_params(three_dcs))
    assert second["changed"] is False and [dc["attempts"] for dc in second["dcs"]] == [0, 0, 0]
    assert three_dcs.requests_with_code(CREATE_DC) == 3


def test_create_dcs_in_check_mode_sends_nothing(three_dcs):
    result = create_dcs(None, dc_params(three_dcs), check_mode=True)
    assert result["changed"] is True and three_dcs.requests_with_code(CREATE_DC) == 0
    assert three_dcs.members("dc1") == three_dcs.node_names("dc1")[:1]


def test_scale_up_joins_only_the_new_nodes():
    with AntidoteStandin(dcs=1, nodes=3) as standin:
        params = dc_params(standin)
        names = standin.node_names("dc1")
        params["dcs"][0]["nodes"] = names[:2]
        assert create_dcs(None, params)["dcs"][0]["members"] == 2
        params["dcs"][0]["nodes"] = names
        grown = create_dcs(None, params)["dcs"][0]
        assert (grown["changed"], grown["members_before"], grown["members"]) == (True, 2, 3)
        assert standin.members("dc1") == names and standin.requests_with_code(CREATE_DC) == 2
        assert create_dcs(None, params)["changed"] is False


def test_fewer_nodes_than_ring_members_warns_about_scale_down(formed):
    params = dc_params(formed)
    params["dcs"][0]["nodes"] = formed.node_names("dc1")[:1]
    result = create_dcs(None, params)
    assert result["changed"] is False
    assert result["warnings"] == ["DC dc1 has 2 ring members, more than the 1 node(s) asked for: Antidote offers no "
                                  "way to leave a DC over its API, so nodes removed by a scale-down stay in the ring"]


def test_node_names_come_from_the_statefulset_when_not_given(three_dcs):
    kube = FakeKube({"/apis/apps/v1/namespaces/db/statefulsets/antidote-dc1": {
        "spec": {"replicas": 2, "serviceName": "antidote-dc1"}}})
    params = dc_params(three_dcs, dcs=[{"name": "dc1", "statefulset": "antidote-dc1",
                                        "endpoint": endpoint_of(three_dcs, "dc1")}])
    result = create_dcs(kube, params)
    assert result["dcs"][0]["nodes"] == three_dcs.node_names("dc1") and result["changed"] is True


def test_a_missing_statefulset_is_named(three_dcs):
    target = targets_from_params({"namespace": "db", "statefulset": "antidote-dc9"}, antidote_k8s.DC_ENTRY_OPTIONS,
                                 need_nodes=True)[0]
    with pytest.raises(AntidoteK8sError, match="DC antidote-dc9: StatefulSet db/antidote-dc9 does not exist"):
        resolve_nodes(FakeKube(), target)


def test_a_failing_dc_is_named_and_the_others_still_run(three_dcs):
    params = dc_params(three_dcs, timeout=3)
    params["dcs"][1]["endpoint"] = "127.0.0.1:1"
    with pytest.raises(AntidoteK8sError) as caught:
        create_dcs(None, params)
    message = str(caught.value)
    assert message.startswith("createDC failed on 1 of 3 DC(s): getConnectionDescriptor on DC dc2 (127.0.0.1:1)")
    assert "cannot connect" in message
    assert three_dcs.members("dc1") == three_dcs.node_names("dc1")


# --- connectDCs and the record


def test_connect_records_what_it_connected_then_changes_nothing(formed):
    kube = FakeKube()
    first = connect(kube, connect_params(formed))
    assert (first["changed"], first["connected"], first["record_written"]) == (True, True, True)
    assert first["reasons"]["added"] == ["dc1", "dc2", "dc3"]
    assert first["dc_count"] == {"dc1": 3, "dc2": 3, "dc3": 3}
    assert first["dcs"]["dc2"]["dc_count"] == 3 and first["dcs"]["dc2"]["members"] == 2
    stored = kube.objects[RECORD_PATH]
    assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stateful.datastores"
    assert json.loads(stored["data"]["record.json"]) == first["record"]
    assert kube.applied == [(RECORD_PATH, "stateful.datastores", True)]

    second = connect(kube, connect_params(formed))
    assert (second["changed"], second["connected"], second["record_written"]) == (False, False, False)
    assert len(kube.applied) == 1 and formed.requests_with_code(CONNECT_TO_DCS) == 3
    lease = "/apis/coordination.k8s.io/v1/namespaces/db/leases/stateful-datastores-antidote-admin"
    assert kube.leases_taken == [lease, lease] and lease not in kube.objects, "taken by each run, then released"


def test_a_run_waits_for_the_lease_of_another_and_says_whose_it_is(formed):
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.lease import LeaseTimeout, _lease
    kube = FakeKube()
    lease = "/apis/coordination.k8s.io/v1/namespaces/db/leases/stateful-datastores-antidote-admin"
    kube.objects[lease] = _lease("db", "stateful-datastores-antidote-admin", "awx-job/7", 600)
    with pytest.raises(LeaseTimeout, match="held by awx-job/7"):
        connect(kube, connect_params(formed, timeout=1))
    assert formed.requests_with_code(CONNECT_TO_DCS) == 0 and kube.applied == []


def test_connect_in_check_mode_reads_but_writes_nothing(formed):
    kube = FakeKube()
    result = connect(kube, connect_params(formed), check_mode=True)
    assert (result["changed"], result["connected"], result["record_written"]) == (True, True, False)
    assert kube.applied == [] and formed.requests_with_code(CONNECT_TO_DCS) == 0


def test_a_moved_pod_makes_its_dc_stale_and_is_reconnected(formed):
    kube = FakeKube()
    connect(kube, connect_params(formed))
    formed.set_node_ip(formed.node_names("dc3")[1], "10.244.3.99")
    result = connect(kube, connect_params(formed))
    assert (result["changed"], result["reasons"]["stale"]) == (True, ["dc3"])
    assert formed.receives_from("dc1", "dc3") and formed.receives_from("dc2", "dc3")
    assert "10.244.3.99:8086" in json.loads(kube.objects[RECORD_PATH]["data"]["record.json"])["dcs"]["dc3"][
        "publishers"][1]


def test_force_connects_although_the_record_matches(formed):
    kube = FakeKube()
    connect(kube, connect_params(formed))
    result = connect(kube, connect_params(formed, force=True))
    assert (result["changed"], result["connected"], result["forced"], result["record_written"]) == (
        True, True, True, False)
    assert formed.requests_with_code(CONNECT_TO_DCS) == 6


def test_an_unreadable_record_is_replaced_with_a_warning(formed):
    kube = FakeKube({RECORD_PATH: {"data": {"record.json": "{not json"}}})
    result = connect(kube, connect_params(formed))
    assert result["changed"] and result["record_written"]
    assert result["warnings"] == ["ConfigMap db/antidote-dc-connections holds no valid record.json; the DCs are "
                                  "connected again"]


def test_a_dc_the_others_cannot_reach_is_named(formed):
    kube = FakeKube()
    connect(kube, connect_params(formed))
    formed.block_dc("dc3")
    formed.set_node_ip(formed.node_names("dc3")[0], "10.244.3.77")
    with pytest.raises(AntidoteK8sError) as caught:
        connect(kube, connect_params(formed, timeout=3))
    message = str(caught.value)
    assert message.startswith("DC dc3 is unreachable from dc1, dc2: those DCs count 2 of 3 DCs while dc3 counts all 3")
    assert "wait for antidote_dc_count >= 3 failed on 2 of 3 DC(s)" in message
    assert json.loads(kube.objects[RECORD_PATH]["data"]["record.json"])["dcs"]["dc3"]["publishers"][0][0] \
        != "10.244.3.77:8086", "a failed connection must not be recorded"


def test_without_verify_only_the_record_decides(formed):
    kube = FakeKube()
    result = connect(kube, connect_params(formed, verify=False))
    assert result["changed"] and result["dc_count"] == {}
    assert formed.stats["metrics_requests"] == 0


def test_connect_needs_a_namespace_for_the_record(formed):
    with pytest.raises(ValueError, match="record_namespace"):
        connect(FakeKube(), connect_params(formed, namespace=None))


# --- parameters


def targets(params, need_nodes=False):
    return targets_from_params(params, antidote_k8s.DC_ENTRY_OPTIONS, need_nodes=need_nodes)


def test_single_dc_form_defaults_the_name_and_pod():
    (target,) = targets({"namespace": "db", "statefulset": "antidote-dc1"})
    assert (target.name, target.pod, target.direct, target.where) == ("antidote-dc1", "antidote-dc1-0", False, "")


@pytest.mark.parametrize("params,message", [
    ({"namespace": "db"}, "name the DC"),
    ({"statefulset": "antidote-dc1"}, "namespace is needed to find pod 'antidote-dc1-0'"),
    ({"dcs": [{"name": "dc1", "namespace": "db"}]}, "dcs[0]: give endpoint"),
    ({"dcs": [{"statefulset": "a", "namespace": "db"}]}, "dcs[0].name needs a name"),
    ({"dcs": [{"name": "dc1", "endpoint": "h:1", "nodes": ["a@b"]},
              {"name": "dc1", "endpoint": "h:2", "nodes": ["a@c"]}]},
     "DC names must be unique in dcs, used more than once: dc1"),
    ({"dcs": [{"name": "dc1", "endpoint": "h:99999"}]}, "dcs[0].endpoint has port 99999"),
    ({"dcs": [{"name": "dc1", "endpoint": "h:1:2"}]}, "dcs[0].endpoint must be host:port"),
    ({"dcs": [{"name": "dc1", "namespace": "db", "statefulset": "Bad_Name"}]}, "dcs[0].statefulset 'Bad_Name'"),
    ({"dcs": [{"name": "dc1", "namespace": "db", "pod": "p", "replicas": 0}]}, "dcs[0].replicas must be 1 or more"),
])
def test_bad_parameters_name_the_option(params, message):
    with pytest.raises(ValueError) as caught:
        targets(params)
    assert message in str(caught.value)


def test_node_names_need_nodes_or_a_statefulset():
    with pytest.raises(ValueError, match="give nodes"):
        targets({"dcs": [{"name": "dc1", "endpoint": "h:1"}]}, need_nodes=True)


@pytest.mark.parametrize("text,expected", [
    ("antidote-dc1-0.antidote-dc1.db.svc:8087", ("antidote-dc1-0.antidote-dc1.db.svc", 8087)),
    ("10.0.0.1", ("10.0.0.1", 8087)),
    ("[fd00::1]:9000", ("fd00::1", 9000)),
    ("[fd00::1]", ("fd00::1", 8087)),
])
def test_parse_address(text, expected):
    assert parse_address(text, 8087, "endpoint") == expected


# --- the unreachable hint


def test_hint_names_the_dc_everyone_else_misses():
    assert unreachable_hint({"dc1": 2, "dc2": 2, "dc3": 3}, 3).startswith("DC dc3 is unreachable from dc1, dc2")


def test_hint_names_two_unreachable_dcs():
    hint = unreachable_hint({"dc1": 2, "dc2": 4, "dc3": 4, "dc4": 2}, 4)
    assert hint.startswith("DC dc2, dc3 are unreachable from dc1, dc4: those DCs count 2 of 4")


def test_hint_lists_counts_when_the_pattern_is_unclear():
    assert unreachable_hint({"dc1": 1, "dc2": 2, "dc3": 2}, 3) == \
        "antidote_dc_count per DC: dc1=1, dc2=2, dc3=2 (of 3 DCs)"
    assert unreachable_hint({"dc1": 3, "dc2": 3, "dc3": 3}, 3) is None
    assert unreachable_hint({}, 3) is None


def _refused_forward():
    forward = LocalForward(None, "db", "antidote-dc1-0", 8087)
    forward.last_error = "port-forward to pod db/antidote-dc1-0 port 8087: Handshake status 403 Forbidden"
    forward.refused = True
    return forward


def test_a_refused_port_forward_names_both_verbs_it_needs():
    """Found by tests/integration/test_least_privilege.py: on Kubernetes 1.34 the WebSocket port-forward
    is authorized as 'get', so a hint naming only 'create' sent operators after the wrong verb."""
    dc = antidote_k8s.ReachedDc("dc1", "127.0.0.1", 1)
    dc.forwards = [_refused_forward()]
    message = antidote_k8s.explain(antidote_k8s.AntidoteK8sError("createDC failed on DC dc1"), [dc])
    assert "refused the port-forward (403)" in message
    assert "'get' and 'create' on pods/portforward in namespace db" in message


def test_a_refused_port_forward_is_not_retried():
    dc = antidote_k8s.ReachedDc("dc1", "127.0.0.1", 1)
    dc.forwards = [_refused_forward()]
    attempts = []

    def action(timeout):
        attempts.append(timeout)
        raise antidote.ConnectionClosed("127.0.0.1:1", "createDC", 0)

    with pytest.raises(antidote.DcOperationError) as caught:
        antidote.call_with_retry(dc, "createDC", action, antidote.RetryPolicy(timeout=60), antidote.Deadline(60))
    assert len(attempts) == 1
    assert "port-forward refused: the API server refused the port-forward (403)" in str(caught.value)
