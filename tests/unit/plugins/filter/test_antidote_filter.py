# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters the antidote role validates and names its DCs with."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.filter.antidote import FilterModule

FILTERS = FilterModule().filters()


def test_problems_filter_returns_sentences_and_nothing_for_valid_input():
    problems = FILTERS["antidote_topology_problems"]
    assert problems([{"name": "dc1"}, {"name": "dc2"}], 3, 16) == []
    found = problems([{"name": "dc1"}, {"name": "dc1"}], 3, 12)
    assert len(found) == 2 and found[0].startswith("antidote_ring_size") and "used 2 times" in found[1]


def test_topology_filter_names_everything_and_refuses_invalid_input():
    topology = FILTERS["antidote_topology"]
    (dc,) = topology([{"name": "eu"}], 2, 16, "shop")
    assert (dc["statefulset"], dc["client_service"], dc["nodes"][1]) == (
        "shop-eu", "shop-eu-client", "antidote@shop-eu-1.shop-eu")
    with pytest.raises(AnsibleFilterError, match="invalid antidote_datacenters: .*DNS-1123"):
        topology([{"name": "EU"}])


def test_waits_and_admin_targets_of_each_dc():
    dcs = FILTERS["antidote_topology"]([{"name": "eu"}, {"name": "us", "replicas": 3}], 2)
    assert FILTERS["antidote_wait_objects"](dcs)[:2] == [{"kind": "StatefulSet", "name": "antidote-eu"},
                                                         {"kind": "Service", "name": "antidote-eu-client"}]
    assert FILTERS["antidote_admin_targets"](dcs, "db")[1] == {
        "name": "us", "statefulset": "antidote-us", "service": "antidote-us", "replicas": 3}
    assert FILTERS["antidote_admin_targets"](dcs, "db", 8087, counts=False)[0] == {
        "name": "eu", "statefulset": "antidote-eu", "endpoint": "antidote-eu-0.antidote-eu.db.svc:8087"}
    assert FILTERS["antidote_scale_downs"](dcs, {"antidote-eu": 3, "antidote-us": "3", "other": 9}) == ["eu: 3 -> 2"]


def test_dcs_fact_from_the_applied_services_and_the_admin_results():
    dcs = FILTERS["antidote_topology"]([{"name": "eu"}, {"name": "us"}], 2)
    services = [{"metadata": {"name": "antidote-eu-client"}, "status": {"loadBalancer": {"ingress": [{"ip": "a"}]}},
                 "spec": {"type": "LoadBalancer", "clusterIP": "c", "ports": [{"port": 8087, "nodePort": 30001}]}}]
    created = {"dcs": [{"name": "eu", "dc_id": "id", "members": ["m"]}]}
    connected = {"failed": True, "msg": "boom", "dc_count": {"us": 2}, "replication": {"seen_after": {"eu": 0.5}}}
    found = FILTERS["antidote_dcs"](dcs, "db", iter(services), created, connected, "ClusterIP",
                                    {"pb": 8087, "metrics": 3001})
    assert found["eu"]["client_service"] == {"name": "antidote-eu-client", "type": "LoadBalancer", "cluster_ip": "c",
                                             "node_port": 30001, "load_balancer": [{"ip": "a"}]}
    assert found["us"]["client_service"] == {"name": "antidote-us-client", "type": "ClusterIP", "cluster_ip": None,
                                             "node_port": None, "load_balancer": []}
    assert found["eu"]["endpoints"] == {
        "client": "antidote-eu-client.db.svc:8087",
        "nodes": ["antidote-eu-0.antidote-eu.db.svc:8087", "antidote-eu-1.antidote-eu.db.svc:8087"],
        "metrics": ["antidote-eu-0.antidote-eu.db.svc:3001", "antidote-eu-1.antidote-eu.db.svc:3001"]}
    assert [found["eu"][k] for k in ("error", "dc_id", "members", "dc_count", "replicated_to")] == [
        "boom", "id", ["m"], None, 0.5]
    assert [found["us"][k] for k in ("dc_id", "dc_count", "replicated_to")] == [None, 2, None]
    assert FILTERS["antidote_dcs"](dcs, "db", [], {}, {}, "ClusterIP", {"pb": 1, "metrics": 2})["eu"]["error"] is None
