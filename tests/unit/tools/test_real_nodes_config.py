# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""localkube's real-node plan and configuration: profiles never share a name or an address range, nodes are
configured for this machine's constraints, and the cluster's DNS has no upstream."""
import ipaddress
import itertools
import json
import os
import pathlib
import tarfile

import pytest

from tools.images import oci
from tools.install_deps import debian_packages
from tools.localkube.localkube_lib import nodeconfig, realnet, realnodes
from tools.localkube.localkube_lib.cluster import profile_slot

SLOTS = [("default", 0), ("test", 1)] + [("dev{}".format(n), n) for n in range(2, 10)]


def plans():
    return [realnet.Plan(profile, slot, 3) for profile, slot in SLOTS]


def ranges(plan):
    return [ipaddress.ip_network(plan.node_net), ipaddress.ip_network(plan.cluster_cidr),
            ipaddress.ip_network(plan.service_cidr)]


def test_profiles_never_overlap_in_names_or_addresses():
    for first, second in itertools.combinations(plans(), 2):
        assert not any(a.overlaps(b) for a in ranges(first) for b in ranges(second)), (first.profile, second.profile)
        assert {first.bridge, first.host_veth(0), first.netns(0)}.isdisjoint(
            {second.bridge, second.host_veth(0), second.netns(0)})


def test_ranges_of_one_profile_are_disjoint_and_private():
    for plan in plans():
        nets = ranges(plan) + [ipaddress.ip_network("10.244.0.0/16")]
        assert not any(a.overlaps(b) for a, b in itertools.combinations(nets, 2))
        assert all(net.is_private for net in nets)
        assert all(ipaddress.ip_network(plan.pod_cidr(i)).subnet_of(ipaddress.ip_network(plan.cluster_cidr))
                   for i in range(3))
        assert ipaddress.ip_address(plan.dns_service_ip) in ipaddress.ip_network(plan.service_cidr)


def test_interface_names_fit_the_kernels_limit():
    for plan in plans():
        assert all(len(name) <= 15 for name in (plan.bridge, plan.host_veth(2)))


@pytest.mark.parametrize("profile, slot, message", [
    ("staging", None, "LOCALKUBE_SLOT=None"), ("x", "1", "LOCALKUBE_SLOT='1'"), ("x", "10", "2-9"),
    ("Upper", "3", "lower-case"), ("waytoolongname", "3", "1-8")])
def test_unknown_profiles_need_a_valid_slot(profile, slot, message):
    with pytest.raises(SystemExit) as error:
        profile_slot(profile, slot)
    assert message in str(error.value)


class FakeSettings:
    profile = "test"
    home = pathlib.Path("/state")
    pki = home / "pki"


def node():
    return nodeconfig.Node(FakeSettings(), realnet.Plan("test", 1, 3), 2)


def test_kubelet_runs_under_the_nodes_own_cgroup_root_on_cgroup_v1():
    config = nodeconfig.kubelet_config(FakeSettings(), realnet.Plan("test", 1, 3), node())
    assert config["cgroupRoot"] == "/localkube-test-n2" and config["cgroupDriver"] == "cgroupfs"
    assert config["failCgroupV1"] is False and config["address"] == "10.199.1.13"
    assert config["clusterDNS"] == ["10.97.0.10"]


def test_containerd_restricts_oom_score_and_knows_no_registry_mirror():
    toml = nodeconfig.containerd_toml(node())
    assert "restrict_oom_score_adj = true" in toml
    assert 'sandbox_image = "localhost/localkube/pause:1.0"' in toml
    assert "mirrors" not in toml and "endpoint" not in toml


def test_pod_addresses_come_from_the_nodes_range():
    ipam = nodeconfig.cni_conflist(node())["plugins"][0]["ipam"]
    subnet = ipaddress.ip_network(ipam["ranges"][0][0]["subnet"])
    assert str(subnet) == "10.201.2.0/24"
    assert ipaddress.ip_address(ipam["ranges"][0][0]["rangeStart"]) in subnet


def test_coredns_answers_the_cluster_domain_only():
    manifest = realnodes.coredns_manifest(realnet.Plan("test", 1, 3))
    corefile = next(i for i in manifest["items"] if i["kind"] == "ConfigMap")["data"]["Corefile"]
    assert "kubernetes cluster.local" in corefile and "forward" not in corefile
    service = next(i for i in manifest["items"] if i["kind"] == "Service")
    assert service["spec"]["clusterIP"] == "10.97.0.10"


def test_layers_are_reproducible_and_archives_carry_the_image_name(tmp_path):
    tree = tmp_path / "tree"
    (tree / "opt").mkdir(parents=True)
    (tree / "opt" / "start").write_text("#!/bin/sh\n")
    first = oci.write_layer(tree, tmp_path / "one.tar")
    (tree / "opt" / "start").touch()
    second = oci.write_layer(tree, tmp_path / "two.tar")
    assert first["digest"] == second["digest"]
    oci.write_archive("docker.io/example/app:1.0", [first], {"Entrypoint": ["/opt/start"]}, tmp_path / "image.tar")
    with tarfile.open(tmp_path / "image.tar") as archive:
        index = json.load(archive.extractfile("index.json"))
        assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "docker.io/example/app:1.0"
        assert "blobs/sha256/" + first["digest"].split(":")[1] in archive.getnames()


def test_a_recipes_owners_own_their_tree_and_nothing_else(tmp_path):
    tree = tmp_path / "tree"
    (tree / "usr" / "share" / "opensearch" / "config").mkdir(parents=True)
    (tree / "usr" / "share" / "opensearchx").mkdir()
    oci.write_layer(tree, tmp_path / "layer.tar", {"usr/share/opensearch": (1000, 1000)})
    with tarfile.open(tmp_path / "layer.tar") as layer:
        owners = {member.name: (member.uid, member.gid) for member in layer.getmembers()}
    assert owners["usr/share/opensearch"] == owners["usr/share/opensearch/config"] == (1000, 1000)
    assert owners["usr/share"] == owners["usr/share/opensearchx"] == (os.getuid(), os.getgid())


def test_bindep_lists_what_real_nodes_need():
    assert {"containerd", "runc", "containernetworking-plugins", "iptables", "conntrack",
            "mmdebstrap"} <= set(debian_packages())


def test_each_node_has_disks_of_its_own_per_profile():
    plan = realnet.Plan("test", 1, 3)
    disks = [d for i in range(3) for d in nodeconfig.Node(FakeSettings(), plan, i).disks]
    assert len(set(disks)) == len(disks) == 3 * nodeconfig.DISKS_PER_NODE
    assert all(str(d).startswith("/mnt/localkube-test/localkube-node-") for d in disks)
    assert nodeconfig.disks_root("default") != nodeconfig.disks_root("test")
