# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real nodes: containerd, kubelet and kube-proxy per node, each node in its own sealed network namespace,
pods in cgroups under the node's own root, CoreDNS without any upstream."""
import concurrent.futures
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

from . import nodeconfig, realnet
from .versions import coredns_binary

HOST_COMMANDS = ("ip", "nsenter", "containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "conntrack",
                 "mmdebstrap")
CNI_PLUGINS = ("bridge", "host-local", "portmap", "loopback")
CGROUP_BASE = pathlib.Path("/sys/fs/cgroup")


def problems(s):
    """Why real nodes cannot run on this machine (empty when they can)."""
    found = []
    if os.geteuid() != 0:
        found.append("not root (network namespaces, cgroups and mounts need root)")
    found += ["command {} missing (bindep.txt)".format(c) for c in HOST_COMMANDS if not shutil.which(c)]
    found += ["CNI plugin /usr/lib/cni/{} missing (containernetworking-plugins)".format(p)
              for p in CNI_PLUGINS if not os.path.exists("/usr/lib/cni/" + p)]
    if not found and realnet.ip("netns", "list", check=False).returncode != 0:
        found.append("`ip netns` does not work here")
    return found


def cgroup_dirs(name):
    """The directory of cgroup `name` in every hierarchy (cgroup v1) or in the unified one (v2)."""
    if (CGROUP_BASE / "cgroup.controllers").exists():
        return [CGROUP_BASE / name]
    return [path / name for path in sorted(CGROUP_BASE.iterdir()) if path.is_dir() and not path.is_symlink()]


def make_cgroup(name):
    for directory in cgroup_dirs(name):
        directory.mkdir(exist_ok=True)
        for key in ("cpuset.cpus", "cpuset.mems"):
            if (directory / key).exists() and not (directory / key).read_text().strip():
                (directory / key).write_text((directory.parent / key).read_text())


def pids_in(name):
    pids = set()
    for directory in cgroup_dirs(name):
        if directory.exists():
            for procs in directory.rglob("cgroup.procs"):
                pids.update(int(p) for p in procs.read_text().split())
    return pids


def remove_cgroup(name):
    for directory in cgroup_dirs(name):
        if directory.exists():
            for sub in sorted((d for d in directory.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
                sub.rmdir()
            directory.rmdir()


def start_in_node(s, node, name, argv):
    """Start argv in the node's network namespace and its system cgroup (inherited by containerd's shims)."""
    system = node.cgroup + "/system"
    make_cgroup(node.cgroup)
    make_cgroup(system)
    procs = [d / "cgroup.procs" for d in cgroup_dirs(system)]

    def enter_cgroup():
        for path in procs:
            path.write_text(str(os.getpid()))

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    log_file = open(s.logs / (name + ".log"), "ab")
    process = subprocess.Popen(["nsenter", "--net=/var/run/netns/" + node.netns] + argv, stdout=log_file,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=enter_cgroup, env=env)
    (s.run / (name + ".pid")).write_text(str(process.pid))


def ctr(node, *args, check=True):
    return subprocess.run(["ctr", "-a", str(node.socket), "-n", "k8s.io"] + list(args), capture_output=True,
                          text=True, check=check)


def wait_containerd(node, timeout=30):
    deadline = time.monotonic() + timeout
    while ctr(node, "version", check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise SystemExit("localkube: containerd of {} did not answer within {}s".format(node.name, timeout))
        time.sleep(0.2)


def image_names(node):
    return set(ctr(node, "images", "list", "-q").stdout.split())


def import_images(nodes, archives):
    """Import OCI archives into every node's containerd: nodes side by side, one archive at a time per node
    (archives share base layers, which containerd locks while one import writes them)."""
    def import_all(node):
        for archive in archives:
            result = ctr(node, "images", "import", str(archive), check=False)
            if result.returncode != 0:
                return "{}: {}".format(node.name, result.stderr.strip())
        return None

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        failed = [error for error in pool.map(import_all, nodes) if error]
    if failed:
        raise SystemExit("localkube: image import failed: " + failed[0])


def nodes_of(s, plan):
    return [nodeconfig.Node(s, plan, index) for index in range(plan.nodes)]


def start_nodes(s, plan, server, kubelet, archives, started):
    from .cluster import log, pid_of
    nodes = nodes_of(s, plan)
    for node in nodes:
        nodeconfig.write(s, plan, node, server)
        for disk in node.disks:
            disk.mkdir(parents=True, exist_ok=True)
        if not pid_of(s, "containerd-" + node.name, executable=shutil.which("containerd")):
            start_in_node(s, node, "containerd-" + node.name,
                          ["containerd", "--config", str(node.dir / "containerd.toml")])
    for node in nodes:
        wait_containerd(node)
    import_images(nodes, archives)
    log("containerd x{} up, {} images imported after {:.1f}s".format(len(nodes), len(archives),
                                                                     time.monotonic() - started))
    for node in nodes:
        for component in ("kubelet", "kube-proxy"):
            if not pid_of(s, "{}-{}".format(component, node.name)):
                start_component(s, node, component, kubelet.parent)
    return nodes


def start_component(s, node, component, bin_dir):
    if component == "kubelet":
        argv = nodeconfig.kubelet_argv(s, node, bin_dir / "kubelet")
    else:
        argv = [str(bin_dir / "kube-proxy"), "--config=" + str(node.dir / "kube-proxy.json"), "--v=1"]
    start_in_node(s, node, "{}-{}".format(component, node.name), argv)


def coredns_manifest(plan):
    """CoreDNS answering cluster.local only: no `forward`, so no query ever leaves the cluster."""
    labels = {"k8s-app": "kube-dns"}
    corefile = ".:53 {\n    errors\n    health :8080\n    ready :8181\n"
    corefile += "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n        pods insecure\n"
    corefile += "        fallthrough in-addr.arpa ip6.arpa\n    }\n    cache 30\n    loop\n    reload\n}\n"
    meta = {"name": "coredns", "namespace": "kube-system"}
    container = {
        "name": "coredns", "image": "localhost/localkube/coredns:" + coredns_binary().parent.name.split("-", 1)[1],
        "imagePullPolicy": "Never", "args": ["-conf", "/etc/coredns/Corefile"],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"}],
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "50m", "memory": "30Mi"}, "limits": {"memory": "100Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"},
         "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"Corefile": corefile}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": dict(meta, labels=labels), "spec": {
            "replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": "coredns", "dnsPolicy": "Default",
                # Port 53 as a non-root user without file capabilities in the image.
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": [
                    {"name": "net.ipv4.ip_unprivileged_port_start", "value": "53"}]},
                "priorityClassName": "system-cluster-critical", "containers": [container],
                "volumes": [{"name": "config", "configMap": {"name": "coredns"}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system",
                                                             "labels": labels},
         "spec": {"clusterIP": plan.dns_service_ip, "selector": labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}},
    ]}


def mounts_under(prefix):
    mounts = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if point == str(prefix) or point.startswith(str(prefix) + "/"):
                mounts.append(point)
    return mounts


def kill_cgroup_tree(name, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        pids = pids_in(name)
        if not pids:
            return
        if time.monotonic() > deadline:
            raise SystemExit("localkube: processes {} in cgroup {} did not exit".format(sorted(pids), name))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def down(s, plan):
    """Stop every node process and container, unmount, remove cgroups, namespaces, links and routes.

    Works from names alone (cgroup, namespace and directory names carry the profile), so it also
    cleans up after a crash that left no pid files."""
    for index in range(plan.nodes):
        cgroup = "localkube-{}-n{}".format(s.profile, index)
        kill_cgroup_tree(cgroup)
    nodes_dir = s.home / "nodes"
    for point in sorted(mounts_under(nodes_dir), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    for index in range(plan.nodes):
        remove_cgroup("localkube-{}-n{}".format(s.profile, index))
    realnet.down(plan)
    for name in os.listdir(s.run) if s.run.exists() else ():
        if name.startswith(("containerd-", "kubelet-", "kube-proxy-")):
            (s.run / name).unlink()


def leftovers(s, plan):
    """What of this profile's real nodes still exists: processes, mounts, cgroups, namespaces, links, routes."""
    found = []
    for index in range(plan.nodes):
        cgroup = "localkube-{}-n{}".format(s.profile, index)
        found += ["process {}".format(pid) for pid in sorted(pids_in(cgroup))]
        found += ["cgroup {}".format(d) for d in cgroup_dirs(cgroup) if d.exists()]
    found += ["mount {}".format(m) for m in mounts_under(s.home / "nodes")]
    found += ["netns {}".format(n) for n in realnet.ip("netns", "list").stdout.split()
              if n.startswith("localkube-{}-n".format(s.profile))]
    if realnet.exists("link", plan.bridge):
        found.append("link {}".format(plan.bridge))
    routes = realnet.ip("route", "show").stdout
    found += ["route {}".format(d) for d, _via in plan.host_routes() if d + " " in routes]
    return found


def apply_coredns(s, plan):
    from .cluster import kubectl
    kubectl(s, "apply", "--server-side", "-f", "-", stdin=json.dumps(coredns_manifest(plan)))
    kubectl(s, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s")
