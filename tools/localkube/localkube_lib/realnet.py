# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sealed network of real nodes: one network namespace per node, joined by veth to a host bridge
that has no uplink. Every name and subnet carries the profile's slot, so profiles coexist.

    host bridge lk<slot>-br   10.199.<slot>.1/24      (the API relay listens here)
    node i (netns)            10.199.<slot>.<11+i>     pods 10.<200+slot>.<i>.0/24 on its bridge cni0
    Services                  10.<96+slot>.0.0/16      (kube-proxy rules exist only inside the nodes)

No node namespace has a default route; the host routes the profile's pod and Service ranges to the
bridge (through the nodes), so that even a host process that dials one of them stays on this machine."""
import ipaddress
import subprocess


class Plan:
    def __init__(self, profile, slot, nodes):
        self.profile, self.slot, self.nodes = profile, slot, nodes
        self.bridge = "lk{}-br".format(slot)
        self.bridge_ip = "10.199.{}.1".format(slot)
        self.node_net = "10.199.{}.0/24".format(slot)
        self.cluster_cidr = "10.{}.0.0/16".format(200 + slot)
        self.service_cidr = "10.{}.0.0/16".format(96 + slot)
        network = ipaddress.ip_network(self.service_cidr)
        self.kubernetes_service_ip = str(network[1])
        self.dns_service_ip = str(network[10])

    def netns(self, index):
        return "localkube-{}-n{}".format(self.profile, index)

    def host_veth(self, index):
        return "lk{}h{}".format(self.slot, index)

    def node_ip(self, index):
        return "10.199.{}.{}".format(self.slot, 11 + index)

    def pod_cidr(self, index):
        return "10.{}.{}.0/24".format(200 + self.slot, index)

    def host_routes(self):
        """(destination, node address): pods through their node, Services through the first node."""
        return [(self.pod_cidr(i), self.node_ip(i)) for i in range(self.nodes)] + [(self.service_cidr, self.node_ip(0))]


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=check)


def in_netns(netns, *argv, check=True):
    return subprocess.run(["nsenter", "--net=/var/run/netns/" + netns] + list(argv), capture_output=True,
                          text=True, check=check)


def exists(kind, name):
    if kind == "netns":
        return name in ip("netns", "list").stdout.split()
    return ip("link", "show", name, check=False).returncode == 0


FORWARDING = "/proc/sys/net/ipv4/ip_forward"


def host_forwarding():
    with open(FORWARDING) as handle:
        return handle.read().strip()


def up(plan, record):
    """Create what is missing; a second call on a running network changes nothing. `record` keeps the
    host's IP forwarding setting as it was before the first call, for the seal test to compare."""
    if not record.exists():
        record.write_text(host_forwarding())
    if not exists("link", plan.bridge):
        ip("link", "add", plan.bridge, "type", "bridge")
        ip("addr", "add", plan.bridge_ip + "/24", "dev", plan.bridge)
        ip("link", "set", plan.bridge, "up")
    for index in range(plan.nodes):
        netns = plan.netns(index)
        if exists("netns", netns):
            continue
        ip("netns", "add", netns)
        ip("link", "add", plan.host_veth(index), "type", "veth", "peer", "name", "eth0", "netns", netns)
        ip("link", "set", plan.host_veth(index), "master", plan.bridge, "up")
        ip("-n", netns, "link", "set", "lo", "up")
        ip("-n", netns, "addr", "add", plan.node_ip(index) + "/24", "dev", "eth0")
        ip("-n", netns, "link", "set", "eth0", "up")
        for other in range(plan.nodes):
            if other != index:
                ip("-n", netns, "route", "add", plan.pod_cidr(other), "via", plan.node_ip(other))
        for key in ("net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"):
            in_netns(netns, "sysctl", "-qw", key)
    for destination, via in plan.host_routes():
        ip("route", "replace", destination, "via", via, "dev", plan.bridge)


def down(plan):
    """Remove every namespace, link and route of the profile, whatever state a crash left."""
    for destination, _via in plan.host_routes():
        ip("route", "del", destination, check=False)
    for netns in ip("netns", "list").stdout.split():
        if netns.startswith("localkube-{}-n".format(plan.profile)):
            ip("netns", "del", netns, check=False)
    if exists("link", plan.bridge):
        ip("link", "del", plan.bridge, check=False)
