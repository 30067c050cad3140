# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and validation of Antidote DCs (antidote_topology.py), shared by the role and the modules."""
import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.topology import (
    STATEFULSET_NAME_MAX,
    check_node_name_prefix,
    client_service_name,
    is_power_of_two,
    node_name,
    node_names,
    statefulset_name,
    topology,
    validate_datacenters,
)


# --- names


def test_node_names_follow_the_pods_of_the_statefulset_and_its_headless_service():
    assert node_names("antidote-dc1", "antidote-dc1", 3) == [
        "antidote@antidote-dc1-0.antidote-dc1",
        "antidote@antidote-dc1-1.antidote-dc1",
        "antidote@antidote-dc1-2.antidote-dc1",
    ]
    assert node_name("db", "db-headless", 4, prefix="ad") == "ad@db-4.db-headless"


def test_node_names_need_a_node_and_a_service():
    with pytest.raises(ValueError, match="at least one node"):
        node_names("antidote-dc1", "antidote-dc1", 0)
    with pytest.raises(ValueError, match="headless Service"):
        node_names("antidote-dc1", "", 2)


def test_object_names_from_the_dc_name():
    assert statefulset_name("dc1") == "antidote-dc1"
    assert statefulset_name("dc1", "") == "dc1"
    assert statefulset_name("eu", "shop") == "shop-eu"
    assert client_service_name("antidote-dc1") == "antidote-dc1-client"


def test_topology_derives_every_name_and_applies_defaults():
    dcs = topology([{"name": "dc1", "replicas": 2}, {"name": "dc2"}], replicas=1, ring_size=8)
    assert dcs[0] == {
        "name": "dc1", "statefulset": "antidote-dc1", "service": "antidote-dc1",
        "client_service": "antidote-dc1-client", "pod": "antidote-dc1-0", "replicas": 2, "ring_size": 8,
        "pods": ["antidote-dc1-0", "antidote-dc1-1"],
        "nodes": ["antidote@antidote-dc1-0.antidote-dc1", "antidote@antidote-dc1-1.antidote-dc1"],
    }
    assert (dcs[1]["replicas"], dcs[1]["nodes"]) == (1, ["antidote@antidote-dc2-0.antidote-dc2"])


def test_topology_accepts_digit_strings_as_ansible_does():
    assert topology([{"name": "dc1", "replicas": "3"}], ring_size="16")[0]["replicas"] == 3


def test_topology_refuses_invalid_input():
    with pytest.raises(ValueError, match="DNS-1123"):
        topology([{"name": "DC1"}])


@pytest.mark.parametrize("value,expected", [(1, True), (2, True), (16, True), (1024, True), (0, False),
                                            (12, False), (-4, False), (True, False), ("16", False)])
def test_is_power_of_two(value, expected):
    assert is_power_of_two(value) is expected


def test_node_name_prefix_must_be_a_plain_erlang_name():
    assert check_node_name_prefix("antidote") == "antidote"
    for bad in ("anti@dote", "", "a b", None):
        with pytest.raises(ValueError, match="node_name_prefix"):
            check_node_name_prefix(bad)


# --- validation


def problems(datacenters, **kwargs):
    return validate_datacenters(datacenters, **kwargs)


def test_valid_input_has_no_problems():
    assert problems([{"name": "dc1"}, {"name": "eu-west-2", "replicas": 3, "ring_size": 16}],
                    replicas=1, ring_size=16) == []


@pytest.mark.parametrize("name", ["DC1", "dc_1", "-dc", "dc-", "dc.1", "dc 1", ""])
def test_dc_names_must_be_dns_labels(name):
    found = problems([{"name": name}])
    assert len(found) == 1 and found[0].startswith("antidote_datacenters[0].name"), found
    assert "DNS-1123" in found[0]


def test_a_name_that_makes_the_statefulset_name_too_long_says_how_long_it_may_be():
    allowed = STATEFULSET_NAME_MAX - len("antidote-")
    assert problems([{"name": "d" * allowed}]) == []
    found = problems([{"name": "d" * (allowed + 1)}])
    assert len(found) == 1 and "so this name at most {0}".format(allowed) in found[0]
    assert problems([{"name": "d" * (allowed + 1)}], name_prefix="") == []


def test_duplicate_names_name_the_entries():
    found = problems([{"name": "dc1"}, {"name": "dc2"}, {"name": "dc1"}, {"name": "dc1"}])
    assert found == ["antidote_datacenters: the DC name 'dc1' is used 3 times (entries 0, 2, 3); every DC needs "
                     "its own name"]


@pytest.mark.parametrize("replicas", [0, -1, "three", 1.5, True, None])
def test_replicas_must_be_at_least_one(replicas):
    found = problems([{"name": "dc1"}], replicas=replicas)
    assert len(found) == 1 and found[0].startswith("antidote_replicas must be an integer >= 1"), found


def test_replicas_of_one_dc_are_checked_there():
    found = problems([{"name": "dc1"}, {"name": "dc2", "replicas": 0}])
    assert found == ["antidote_datacenters[1].replicas must be an integer >= 1 (the DC's node count), got 0 (int)"]


@pytest.mark.parametrize("ring", [0, 3, 12, 2048, "big"])
def test_ring_size_must_be_a_power_of_two(ring):
    found = problems([{"name": "dc1"}], ring_size=ring)
    assert len(found) == 1 and found[0].startswith("antidote_ring_size must be a power of two"), found


def test_ring_sizes_must_be_equal_across_dcs():
    found = problems([{"name": "dc1"}, {"name": "dc2", "ring_size": 32}, {"name": "dc3"}], ring_size=16)
    assert len(found) == 1
    assert "every DC needs the same ring size" in found[0] and "dc1=16, dc2=32, dc3=16" in found[0]


def test_more_nodes_than_partitions_is_refused():
    found = problems([{"name": "dc1", "replicas": 5}], ring_size=4)
    assert found == ["antidote_datacenters[0].replicas 5 is more than the ring size 4: every node needs at least one "
                     "partition; use fewer nodes or a larger ring size"]


@pytest.mark.parametrize("datacenters", [[], None, "dc1", {"name": "dc1"}])
def test_the_list_must_be_a_non_empty_list(datacenters):
    found = problems(datacenters)
    assert len(found) == 1 and found[0].startswith("antidote_datacenters must be a non-empty list"), found


def test_entries_must_be_mappings_with_a_name():
    found = problems(["dc1", {"replicas": 2}])
    assert found[0].startswith("antidote_datacenters[0] must be a mapping")
    assert found[1].startswith("antidote_datacenters[1].name is required")


def test_bad_prefix_is_reported_once_and_does_not_hide_name_problems():
    found = problems([{"name": "DC"}], name_prefix="Bad_Prefix")
    assert found[0].startswith("antidote_name_prefix must be empty or a DNS-1123 label")
    assert found[1].startswith("antidote_datacenters[0].name 'DC'")


def test_every_problem_is_reported_at_once():
    found = problems([{"name": "DC1"}, {"name": "dc2", "replicas": 0}, {"name": "dc2", "ring_size": 8}], ring_size=12)
    assert len(found) == 4, found


def test_variable_names_can_be_changed_for_other_callers():
    found = validate_datacenters([{"name": "x_"}], variable="dcs", replicas_variable="r", ring_size_variable="rs")
    assert found[0].startswith("dcs[0].name")
