# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Configuration files of one real node: containerd, CNI, kubelet, kube-proxy and their kubeconfigs."""
import json
import pathlib

PAUSE_IMAGE = "localhost/localkube/pause:1.0"
ZONES = "abc"
DISKS_PER_NODE = 5


def disks_root(profile):
    """Where the real nodes' local disks live: fixed paths, so that an inventory can list them as local
    PersistentVolumes (inventories/local_real). The nodes share the host's file system."""
    return pathlib.Path("/mnt/localkube" if profile == "default" else "/mnt/localkube-" + profile)


class Node:
    def __init__(self, settings, plan, index):
        self.index = index
        self.name = "localkube-node-{}".format(index)
        self.zone = "zone-" + ZONES[index % len(ZONES)]
        self.dir = settings.home / "nodes" / self.name
        self.netns = plan.netns(index)
        self.ip = plan.node_ip(index)
        self.pod_cidr = plan.pod_cidr(index)
        self.cgroup = "localkube-{}-n{}".format(settings.profile, index)
        self.socket = self.dir / "containerd" / "containerd.sock"
        self.disks = [disks_root(settings.profile) / self.name / "vol{}".format(n) for n in range(DISKS_PER_NODE)]


def containerd_toml(node):
    c = node.dir / "containerd"
    return "\n".join([
        "version = 2",
        'root = "{}"'.format(c / "root"),
        'state = "{}"'.format(c / "state"),
        'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", '
        '"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]',
        "[grpc]", '  address = "{}"'.format(node.socket),
        "[ttrpc]", '  address = "{}.ttrpc"'.format(node.socket),
        "[metrics]", '  address = ""',
        '[plugins."io.containerd.internal.v1.opt"]', '  path = "{}"'.format(c / "opt"),
        '[plugins."io.containerd.grpc.v1.cri"]',
        '  sandbox_image = "{}"'.format(PAUSE_IMAGE),
        '  stream_server_address = "127.0.0.1"',
        "  enable_selinux = false",
        # root here lacks CAP_SYS_RESOURCE: without this every pod sandbox fails to start.
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        '  [plugins."io.containerd.grpc.v1.cri".containerd]',
        '    snapshotter = "overlayfs"',
        '    default_runtime_name = "runc"',
        '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        "        SystemdCgroup = false",
        '        Root = "{}"'.format(c / "runc"),
        '  [plugins."io.containerd.grpc.v1.cri".cni]',
        '    bin_dir = "/usr/lib/cni"',
        '    conf_dir = "{}"'.format(node.dir / "cni"),
        "    max_conf_num = 1",
        # No mirror and no route out: an image that was not imported fails at once, never pulls.
        '  [plugins."io.containerd.grpc.v1.cri".registry]',
        '    config_path = "{}"'.format(c / "certs.d"),
        ""])


def cni_conflist(node):
    prefix = node.pod_cidr.rsplit(".", 1)[0]
    return {"cniVersion": "0.4.0", "name": "localkube", "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
         "ipam": {"type": "host-local", "dataDir": str(node.dir / "cni-ipam"),
                  "ranges": [[{"subnet": node.pod_cidr, "rangeStart": prefix + ".10", "rangeEnd": prefix + ".250",
                               "gateway": prefix + ".1"}]],
                  "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}


def kubelet_config(settings, plan, node):
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": "/" + node.cgroup,
        "containerRuntimeEndpoint": "unix://{}".format(node.socket),
        "address": node.ip, "readOnlyPort": 0, "healthzBindAddress": "127.0.0.1",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(settings.pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "clusterDomain": "cluster.local", "clusterDNS": [plan.dns_service_ip],
        "resolvConf": str(settings.home / "nodes" / "resolv.conf"),
        "podLogsDir": str(node.dir / "pod-logs"),
        "failSwapOn": False, "maxPods": 60, "serializeImagePulls": False,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 99, "imageGCLowThresholdPercent": 98,
    }


def kube_proxy_config(plan, node, kubeconfig):
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration", "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)}, "hostnameOverride": node.name,
        "clusterCIDR": plan.cluster_cidr, "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249", "nodePortAddresses": [node.ip + "/32"],
        "conntrack": {"maxPerCore": 0, "min": 0},
        "iptables": {"masqueradeAll": False, "localhostNodePorts": False},
    }


def kubeconfig(server, pki, user):
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "localkube",
        "clusters": [{"name": "localkube", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate": str(pki / (user + ".crt")),
                                          "client-key": str(pki / (user + ".key"))}}],
        "contexts": [{"name": "localkube", "context": {"cluster": "localkube", "user": user}}],
    }


def kubelet_argv(settings, node, binary):
    return [str(binary), "--config=" + str(node.dir / "kubelet.json"),
            "--kubeconfig=" + str(node.dir / "kubelet.kubeconfig"), "--root-dir=" + str(node.dir / "kubelet"),
            "--hostname-override=" + node.name, "--node-ip=" + node.ip,
            "--node-labels=topology.kubernetes.io/zone={},topology.kubernetes.io/region=localkube".format(node.zone),
            "--v=1"]


def write(settings, plan, node, server):
    (node.dir / "cni").mkdir(parents=True, exist_ok=True)
    (node.dir / "containerd" / "certs.d").mkdir(parents=True, exist_ok=True)
    (node.dir / "containerd.toml").write_text(containerd_toml(node))
    (node.dir / "cni" / "10-localkube.conflist").write_text(json.dumps(cni_conflist(node), indent=1))
    (node.dir / "kubelet.json").write_text(json.dumps(kubelet_config(settings, plan, node), indent=1))
    proxy_kubeconfig = settings.home / "nodes" / "kube-proxy.kubeconfig"
    (node.dir / "kube-proxy.json").write_text(json.dumps(kube_proxy_config(plan, node, proxy_kubeconfig), indent=1))
    (node.dir / "kubelet.kubeconfig").write_text(json.dumps(kubeconfig(server, settings.pki, node.name), indent=1))
    proxy_kubeconfig.write_text(json.dumps(kubeconfig(server, settings.pki, "kube-proxy"), indent=1))
    # Pods with dnsPolicy Default get this file: no name server that leads anywhere.
    (settings.home / "nodes" / "resolv.conf").write_text("nameserver 127.0.0.1\noptions ndots:1\n")
