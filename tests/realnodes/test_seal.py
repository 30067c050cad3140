# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No traffic of the real nodes can leave this machine, proven by route lookups and configuration, never by
sending: the bridge has no uplink, no node has a default route, the host routes the cluster's ranges to the
bridge, IP forwarding on the host is as it was, CoreDNS forwards nowhere, NodePorts listen on node addresses
only, and every image a pod runs was loaded, so no pull ever reaches for a registry."""
import json
import pathlib
import subprocess

from tests.helpers.cluster import kubectl, kubectl_json
from tests.realnodes.conftest import node_exec
from tools.localkube.localkube_lib import realnet

OUTSIDE = ("192.0.2.1", "8.8.8.8", "1.1.1.1")


def ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=False)


def test_bridge_has_only_the_nodes_veths(real_cluster):
    plan = real_cluster.plan
    members = [line.split()[1].split("@")[0].rstrip(":") for line in
               ip("-o", "link", "show", "master", plan.bridge).stdout.splitlines()]
    assert sorted(members) == sorted(plan.host_veth(i) for i in range(plan.nodes))


def test_no_node_has_a_route_out(real_cluster):
    plan = real_cluster.plan
    for index in range(plan.nodes):
        assert ip("-n", plan.netns(index), "route", "show", "default").stdout.strip() == ""
        for address in OUTSIDE:
            lookup = ip("-n", plan.netns(index), "route", "get", address)
            assert lookup.returncode != 0 and "unreachable" in lookup.stderr, (address, lookup.stdout)


def test_pods_reach_no_further_than_their_node(real_cluster):
    """A pod's default route leads to its node's bridge, where the lookup above ends."""
    plan = real_cluster.plan
    pods = kubectl_json("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns")["items"]
    node_index = int(pods[0]["spec"]["nodeName"].rsplit("-", 1)[1])
    gateway = plan.pod_cidr(node_index).rsplit(".", 1)[0] + ".1"
    state = real_cluster.home / "nodes" / pods[0]["spec"]["nodeName"] / "containerd" / "state"
    pod_netns = list(state.rglob("netns/cni-*"))
    assert pod_netns, "no pod network namespace under " + str(state)
    for netns in pod_netns:
        lookup = subprocess.run(["nsenter", "--net=" + str(netns), "ip", "route", "get", OUTSIDE[1]],
                                capture_output=True, text=True, check=False)
        assert " via {} ".format(gateway) in lookup.stdout, lookup.stdout + lookup.stderr


def test_host_routes_the_cluster_ranges_to_the_bridge(real_cluster):
    plan = real_cluster.plan
    probes = [plan.pod_cidr(i).replace(".0/24", ".77") for i in range(plan.nodes)]
    probes.append(plan.kubernetes_service_ip)
    for address in probes:
        assert " dev {} ".format(plan.bridge) in ip("route", "get", address).stdout, address


def test_host_forwarding_unchanged(real_cluster):
    assert realnet.host_forwarding() == (real_cluster.home / "host-ip-forward").read_text()


def test_coredns_forwards_nowhere(real_cluster):
    corefile = kubectl_json("get", "configmap", "coredns", "-n", "kube-system")["data"]["Corefile"]
    assert "kubernetes cluster.local" in corefile
    assert not any(word in corefile for word in ("forward", "proxy", "/etc/resolv.conf"))
    resolv = pathlib.Path(real_cluster.home / "nodes" / "resolv.conf").read_text()
    assert resolv.split() == ["nameserver", "127.0.0.1", "options", "ndots:1"]


def test_node_ports_listen_on_node_addresses_only(real_cluster):
    for index in range(real_cluster.nodes):
        node = "localkube-node-{}".format(index)
        config = json.loads((real_cluster.home / "nodes" / node / "kube-proxy.json").read_text())
        assert config["nodePortAddresses"] == [real_cluster.plan.node_ip(index) + "/32"]


def full_name(image):
    """The reference containerd stores: a short name is on docker.io, a single name in its library/."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return "docker.io/" + (image if "/" in image else "library/" + image)


def test_every_image_in_use_was_loaded_and_no_registry_is_configured(real_cluster):
    images = {full_name(c["image"]) for p in kubectl_json("get", "pods", "-A")["items"]
              for c in p["spec"]["containers"]}
    assert images, "no pods"
    for index in range(real_cluster.nodes):
        node_dir = real_cluster.home / "nodes" / "localkube-node-{}".format(index)
        assert list((node_dir / "containerd" / "certs.d").iterdir()) == []
        listed = node_exec(real_cluster, index, "ctr", "-a", str(node_dir / "containerd" / "containerd.sock"),
                           "-n", "k8s.io", "images", "list", "-q").stdout.split()
        assert images <= set(listed), images - set(listed)
    events = kubectl("get", "events", "-A", "--field-selector", "reason=Pulling", "-o", "name").stdout
    assert events.strip() == "", "a kubelet tried to pull: " + events
