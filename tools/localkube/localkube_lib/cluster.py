# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`localkube up|down|status`: run etcd, kube-apiserver, controller-manager, scheduler and KWOK on 127.0.0.1."""
import json
import os
import re
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

from . import nodeconfig, pki, realnet, realnodes
from .versions import bin_dir, cache_root, load

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
REPO = pathlib.Path(__file__).resolve().parents[3]
KWOK_KINDS = ("PortForward", "ClusterPortForward", "Logs", "ClusterLogs", "Exec", "ClusterExec")
KWOK_PLURALS = ("portforwards", "clusterportforwards", "logs", "clusterlogs", "execs", "clusterexecs")


# A profile is a cluster of its own, side by side with the others: `make demo` uses the default one,
# `make test` and `make bench` the profile "test", so that tests never touch what the demo deployed.
# Any other profile name needs LOCALKUBE_SLOT (2-9): its ports move by slot * 1000 and its real-node
# networks by the slot, so that several developers' or tiers' clusters run on one machine.
PROFILE_SLOTS = {"default": 0, "test": 1}
PROFILE_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def profile_slot(profile, slot_variable):
    if profile in PROFILE_SLOTS:
        return PROFILE_SLOTS[profile]
    if not PROFILE_NAME.match(profile) or not (slot_variable or "").isdigit() or not 2 <= int(slot_variable) <= 9:
        raise SystemExit("localkube: LOCALKUBE_PROFILE must be one of {}, or a name of 1-8 lower-case letters and "
                         "digits with LOCALKUBE_SLOT set to 2-9; got {!r} (LOCALKUBE_SLOT={!r})".format(
                             ", ".join(sorted(PROFILE_SLOTS)), profile, slot_variable))
    return int(slot_variable)


class Settings:
    def __init__(self):
        env = os.environ.get
        self.profile = env("LOCALKUBE_PROFILE") or "default"
        self.slot = profile_slot(self.profile, env("LOCALKUBE_SLOT"))
        offset = 10000 if self.slot == 1 else self.slot * 1000
        directory = "cluster" if self.profile == "default" else "cluster-" + self.profile
        self.home = pathlib.Path(env("LOCALKUBE_HOME", str(cache_root() / directory)))
        self.api_port = int(env("LOCALKUBE_API_PORT", str(16443 + offset)))
        self.etcd_port = int(env("LOCALKUBE_ETCD_PORT", str(12379 + offset)))
        self.kcm_port = int(env("LOCALKUBE_KCM_PORT", str(10257 + offset)))
        self.scheduler_port = int(env("LOCALKUBE_SCHEDULER_PORT", str(10259 + offset)))
        self.kubelet_port = int(env("LOCALKUBE_KUBELET_PORT", str(10247 + offset)))
        self.nodes = int(env("LOCALKUBE_NODES", "3"))
        self.bin = bin_dir()
        self.pki = self.home / "pki"
        self.logs = self.home / "logs"
        self.run = self.home / "run"
        self.kubeconfig = self.home / "kubeconfig"
        self.audit_log = self.logs / "audit.log"
        self.plan = realnet.Plan(self.profile, self.slot, self.nodes)
        self.nodes_file = self.home / "nodes.mode"

    @property
    def real(self):
        """Whether this profile's cluster runs real nodes (recorded by `up --nodes real`)."""
        return self.nodes_file.exists() and self.nodes_file.read_text().strip() == "real"

    @property
    def server(self):
        return "https://127.0.0.1:{}".format(self.api_port)


def log(message):
    print("localkube: " + message, flush=True)


def write_kubeconfig(s):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "localkube",
        "clusters": [{"name": "localkube", "cluster": {
            "server": s.server, "certificate-authority": str(s.pki / "ca.crt")}}],
        "users": [{"name": "localkube-admin", "user": {
            "client-certificate": str(s.pki / "admin.crt"), "client-key": str(s.pki / "admin.key")}}],
        "contexts": [{"name": "localkube", "context": {"cluster": "localkube", "user": "localkube-admin"}}],
    }
    s.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")
    s.kubeconfig.chmod(0o600)


def commands(s):
    b, p, kc = s.bin, s.pki, str(s.kubeconfig)
    always_allow = "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"
    return {
        "etcd": [str(b / "etcd"), "--name=localkube", "--data-dir=" + str(s.home / "etcd"),
                 "--listen-client-urls=http://127.0.0.1:{}".format(s.etcd_port),
                 "--advertise-client-urls=http://127.0.0.1:{}".format(s.etcd_port),
                 "--listen-peer-urls=http://127.0.0.1:{}".format(s.etcd_port + 1),
                 "--initial-advertise-peer-urls=http://127.0.0.1:{}".format(s.etcd_port + 1),
                 "--initial-cluster=localkube=http://127.0.0.1:{}".format(s.etcd_port + 1),
                 "--listen-metrics-urls=http://127.0.0.1:{}".format(s.etcd_port + 2),
                 "--auto-compaction-retention=1", "--unsafe-no-fsync=true", "--log-level=warn"],
        "kube-apiserver": [
            str(b / "kube-apiserver"), "--etcd-servers=http://127.0.0.1:{}".format(s.etcd_port),
            "--bind-address=127.0.0.1", "--secure-port={}".format(s.api_port),
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--tls-cert-file=" + str(p / "serving.crt"), "--tls-private-key-file=" + str(p / "serving.key"),
            "--client-ca-file=" + str(p / "ca.crt"),
            "--kubelet-client-certificate=" + str(p / "admin.crt"), "--kubelet-client-key=" + str(p / "admin.key"),
            "--kubelet-preferred-address-types=InternalIP",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=" + str(p / "sa.pub"),
            "--service-account-signing-key-file=" + str(p / "sa.key"),
            "--service-cluster-ip-range=" + s.plan.service_cidr, "--service-node-port-range=30000-32767",
            "--audit-policy-file=" + str(s.home / "audit-policy.yaml"), "--audit-log-path=" + str(s.audit_log),
            "--audit-log-maxsize=20", "--audit-log-maxbackup=1", "--audit-log-format=json"]
        # Real nodes reach the API server through the relay on the bridge; the `kubernetes` Service says so.
        + (["--advertise-address=" + s.plan.bridge_ip] if s.real else
           ["--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none"]),
        "kube-controller-manager": [
            str(b / "kube-controller-manager"), "--kubeconfig=" + kc, "--leader-elect=false",
            "--bind-address=127.0.0.1", "--secure-port={}".format(s.kcm_port), always_allow,
            "--root-ca-file=" + str(p / "ca.crt"), "--service-account-private-key-file=" + str(p / "sa.key"),
            "--use-service-account-credentials=true", "--cluster-name=localkube",
            "--cluster-signing-cert-file=" + str(p / "ca.crt"), "--cluster-signing-key-file=" + str(p / "ca.key"),
            "--controllers=*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller"],
        "kube-scheduler": [
            str(b / "kube-scheduler"), "--kubeconfig=" + kc, "--leader-elect=false",
            "--bind-address=127.0.0.1", "--secure-port={}".format(s.scheduler_port), always_allow],
        "kwok": [
            str(b / "kwok"), "--kubeconfig=" + kc, "--config=" + str(s.home / "stages.yaml"),
            "--manage-all-nodes=true", "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
            "--node-port={}".format(s.kubelet_port), "--server-address=127.0.0.1:{}".format(s.kubelet_port),
            "--tls-cert-file=" + str(p / "serving.crt"), "--tls-private-key-file=" + str(p / "serving.key"),
            "--node-lease-duration-seconds=40", "--enable-crds=" + ",".join(KWOK_KINDS)],
    }


def pid_of(s, name, executable=None):
    try:
        pid = int((s.run / (name + ".pid")).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    # /proc/<pid>/cmdline can read empty while a starting Go binary holds its memory map lock; exe cannot.
    try:
        executable_path = os.readlink("/proc/{}/exe".format(pid))
    except OSError:
        return None
    expected = executable or str(s.bin)
    return pid if executable_path.startswith(expected) else None


def start(s, name, argv):
    if pid_of(s, name):
        return
    log_file = open(s.logs / (name + ".log"), "ab")
    process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    (s.run / (name + ".pid")).write_text(str(process.pid))


def _ssl_context(s):
    context = ssl.create_default_context(cafile=str(s.pki / "ca.crt"))
    context.load_cert_chain(str(s.pki / "admin.crt"), str(s.pki / "admin.key"))
    return context


def wait_for(what, check, timeout, s, component):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if component and not pid_of(s, component):
            raise SystemExit("localkube: {} exited; see {}".format(component, s.logs / (component + ".log")))
        if check():
            return
        time.sleep(0.2)
    raise SystemExit("localkube: timed out after {}s waiting for {}; logs in {}".format(timeout, what, s.logs))


def api_ready(s):
    try:
        with urllib.request.urlopen(s.server + "/readyz", context=_ssl_context(s), timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def etcd_ready(s):
    try:
        with urllib.request.urlopen("http://127.0.0.1:{}/health".format(s.etcd_port), timeout=2) as response:
            return b'"true"' in response.read()
    except OSError:
        return False


def kubectl(s, *args, stdin=None, check=True):
    result = subprocess.run([str(s.bin / "kubectl"), "--kubeconfig", str(s.kubeconfig)] + list(args), input=stdin,
                            text=True, capture_output=True, check=False)
    if check and result.returncode != 0:
        raise SystemExit("localkube: kubectl {} failed: {}".format(" ".join(args[:2]), result.stderr.strip()))
    return result


def have_condition(s, condition, *resources):
    """True when every listed object has `condition` True (`kubectl wait` errors out on an object that has
    no status.conditions yet, such as a CRD in its first milliseconds)."""
    result = kubectl(s, "get", "-o", "json", *resources, check=False)
    if result.returncode != 0:
        return False
    listed = json.loads(result.stdout)
    items = listed.get("items", [listed]) if listed.get("kind", "").endswith("List") else [listed]
    return bool(items) and all(
        any(c.get("type") == condition and c.get("status") == "True"
            for c in (item.get("status") or {}).get("conditions") or ())
        for item in items)


def node_manifest(index):
    name = "localkube-node-{}".format(index)
    zone = "zone-{}".format("abc"[index % 3])
    return {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": name,
        "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
        "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                   "type": "kwok", "topology.kubernetes.io/zone": zone,
                   "topology.kubernetes.io/region": "localkube"}}}


def node_clients(s):
    clients = [(n.name, "/O=system:nodes/CN=system:node:" + n.name) for n in realnodes.nodes_of(s, s.plan)]
    return clients + [("kube-proxy", "/CN=system:kube-proxy")]


def build_images(names):
    """Archives of the named image recipes (tools/images), built when missing."""
    result = subprocess.run([sys.executable, "-m", "tools.images", "build"] + list(names), cwd=str(REPO),
                            stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit("localkube: building images {} failed".format(", ".join(names)))
    return [pathlib.Path(line) for line in result.stdout.splitlines() if line.endswith(".tar")]


def up(fresh=False, nodes=None):
    s = Settings()
    started = time.monotonic()
    running = any(pid_of(s, name) for name in COMPONENTS)
    if running and nodes and (nodes == "real") != s.real:
        if not fresh:
            raise SystemExit("localkube: the {} cluster runs {} nodes; `localkube up --fresh --nodes {}` replaces it"
                             .format(s.profile, "real" if s.real else "simulated", nodes))
        log("replacing the running {} cluster with one of {} nodes (--fresh)".format(
            s.profile, "real" if nodes == "real" else "simulated"))
        down()
        running = False
    if fresh and s.home.exists() and not running:
        if s.real:
            realnodes.down(s, s.plan)
        shutil.rmtree(s.home)
        shutil.rmtree(nodeconfig.disks_root(s.profile), ignore_errors=True)
        log("starting from a clean state (--fresh)")
    real = nodes == "real" if nodes else s.real
    blockers = realnodes.problems(s) if real else []
    if blockers:
        raise SystemExit("localkube: real nodes cannot run here: " + "; ".join(blockers))
    needed = COMPONENTS + ("kubectl",) + (("kubelet", "kube-proxy") if real else ())
    missing = [c for c in needed if not (s.bin / c).exists()]
    if missing:
        raise SystemExit("localkube: not built yet ({} missing); run `localkube build{}`".format(
            ", ".join(missing), " --nodes real" if real else ""))
    for directory in (s.home, s.logs, s.run):
        directory.mkdir(parents=True, exist_ok=True)
    s.nodes_file.write_text("real\n" if real else "kwok\n")
    server_ips = [s.plan.kubernetes_service_ip] + ([s.plan.bridge_ip] if real else [])
    pki.ensure(s.pki, server_ips=server_ips, clients=node_clients(s) if real else ())
    write_kubeconfig(s)
    for name in ("stages.yaml", "audit-policy.yaml"):
        shutil.copyfile(pathlib.Path(__file__).resolve().parent / name, s.home / name)
    if real:
        realnet.up(s.plan, s.home / "host-ip-forward")
    argv = commands(s)
    start(s, "etcd", argv["etcd"])
    wait_for("etcd", lambda: etcd_ready(s), 30, s, "etcd")
    start(s, "kube-apiserver", argv["kube-apiserver"])
    wait_for("kube-apiserver /readyz", lambda: api_ready(s), 180, s, "kube-apiserver")
    log("api server ready after {:.1f}s".format(time.monotonic() - started))
    if real:
        up_real_nodes(s, argv, started)
    else:
        up_kwok_nodes(s, argv)
    wait_for("default ServiceAccount", lambda: kubectl(s, "get", "serviceaccount", "default", check=False)
             .returncode == 0, 60, s, "kube-controller-manager")
    log("{} {} nodes Ready; cluster up in {:.1f}s".format(s.nodes, "real" if real else "simulated",
                                                          time.monotonic() - started))
    log("export KUBECONFIG={}".format(s.kubeconfig))
    return 0


def up_kwok_nodes(s, argv):
    kubectl(s, "apply", "--server-side", "-f", str(s.bin / "kwok-crds"))
    crds = ["crd/{}.kwok.x-k8s.io".format(plural) for plural in KWOK_PLURALS]
    wait_for("KWOK CRDs Established", lambda: have_condition(s, "Established", *crds), 30, s, "kube-apiserver")
    for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
        start(s, name, argv[name])
    nodes = {"apiVersion": "v1", "kind": "List", "items": [node_manifest(i) for i in range(s.nodes)]}
    kubectl(s, "apply", "--server-side", "-f", "-", stdin=json.dumps(nodes))
    wait_for("nodes Ready", lambda: have_condition(s, "Ready", "nodes"), 60, s, "kwok")


def up_real_nodes(s, argv, started):
    if not pid_of(s, "api-relay", executable=os.path.realpath(sys.executable)):
        start(s, "api-relay", [sys.executable, str(pathlib.Path(__file__).resolve().parent / "relay.py"),
                               s.plan.bridge_ip, str(s.api_port)])
    for name in ("kube-controller-manager", "kube-scheduler"):
        start(s, name, argv[name])
    archives = build_images(["pause", "coredns"]) + loaded_images(s)
    server = "https://{}:{}".format(s.plan.bridge_ip, s.api_port)
    realnodes.start_nodes(s, s.plan, server, s.bin / "kubelet", archives, started)
    wait_for("{} nodes to register".format(s.nodes), lambda: len(kubectl(
        s, "get", "nodes", "-o", "name", check=False).stdout.split()) >= s.nodes, 120, s, "kube-apiserver")
    wait_for("nodes Ready", lambda: have_condition(s, "Ready", "nodes"), 120, s, "kube-apiserver")
    log("{} real nodes Ready after {:.1f}s".format(s.nodes, time.monotonic() - started))
    wait_for("default ServiceAccount in kube-system", lambda: kubectl(
        s, "-n", "kube-system", "get", "serviceaccount", "default", check=False).returncode == 0,
        60, s, "kube-controller-manager")
    realnodes.apply_coredns(s, s.plan)
    log("CoreDNS ready after {:.1f}s".format(time.monotonic() - started))


def loaded_images(s):
    listed = s.home / "images.list"
    return [pathlib.Path(line) for line in listed.read_text().split()] if listed.exists() else []


def load_images(archives):
    """Import image archives into every real node now and at every later `up` of this profile."""
    s = Settings()
    if not s.real:
        raise SystemExit("localkube: the {} cluster has no real nodes to load images into".format(s.profile))
    paths = [pathlib.Path(a).resolve() for a in archives]
    for path in paths:
        if not path.is_file():
            raise SystemExit("localkube: no image archive {}".format(path))
    realnodes.import_images(realnodes.nodes_of(s, s.plan), paths)
    names = {p.name.rsplit("-", 1)[0]: p for p in loaded_images(s) + paths}
    (s.home / "images.list").write_text("\n".join(str(p) for p in names.values()) + "\n")
    log("imported {} image archive(s) into {} nodes".format(len(paths), s.nodes))
    return 0


def can_run_real():
    found = realnodes.problems(Settings())
    for problem in found:
        print("localkube: real nodes unavailable: " + problem)
    return 1 if found else 0


def stop(s, name, executable=None):
    pid = pid_of(s, name, executable)
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and pid_of(s, name, executable):
            time.sleep(0.1)
        if pid_of(s, name, executable):
            os.kill(pid, signal.SIGKILL)
        log("stopped {} (pid {})".format(name, pid))
    (s.run / (name + ".pid")).unlink(missing_ok=True)


def restart(name):
    """Stop one component and start it again, as an outage the tests can cause on purpose. With real nodes
    also a node's kubelet or kube-proxy, e.g. kubelet-localkube-node-1: its pods keep running meanwhile."""
    s = Settings()
    node_components = {"{}-{}".format(c, n.name): (c, n) for n in realnodes.nodes_of(s, s.plan)
                       for c in ("kubelet", "kube-proxy")} if s.real else {}
    if name not in COMPONENTS + tuple(node_components):
        raise SystemExit("localkube: restart takes one of {}".format(", ".join(COMPONENTS + tuple(node_components))))
    stop(s, name)
    if name in node_components:
        component, node = node_components[name]
        realnodes.start_component(s, node, component, s.bin)
    else:
        start(s, name, commands(s)[name])
    if name == "kube-apiserver":
        wait_for("kube-apiserver /readyz", lambda: api_ready(s), 180, s, name)
    log("restarted {}".format(name))
    return 0


def down(purge=False):
    s = Settings()
    if s.real or (s.home / "nodes").exists():
        realnodes.down(s, s.plan)
        log("stopped the real nodes and removed their namespaces, mounts and cgroups")
    stop(s, "api-relay", executable=os.path.realpath(sys.executable))
    for name in reversed(COMPONENTS):
        stop(s, name)
    if purge and s.home.exists():
        shutil.rmtree(s.home)
        log("removed state in {}".format(s.home))
    return 0


def processes(s):
    """name -> pid (or None) of every process this profile's cluster should have running."""
    if not s.real:
        return {name: pid_of(s, name) for name in COMPONENTS}
    running = {name: pid_of(s, name) for name in COMPONENTS if name != "kwok"}
    running["api-relay"] = pid_of(s, "api-relay", executable=os.path.realpath(sys.executable))
    for node in realnodes.nodes_of(s, s.plan):
        running["containerd-" + node.name] = pid_of(s, "containerd-" + node.name,
                                                    executable=shutil.which("containerd"))
        for component in ("kubelet", "kube-proxy"):
            running["{}-{}".format(component, node.name)] = pid_of(s, "{}-{}".format(component, node.name))
    return running


def status():
    s = Settings()
    running = processes(s)
    for name, pid in running.items():
        print("{:<36} {}".format(name, "running (pid {})".format(pid) if pid else "stopped"))
    print("profile: {} (API server https://127.0.0.1:{}), {} nodes".format(
        s.profile, s.api_port, "real" if s.real else "simulated"))
    healthy = all(running.values()) and api_ready(s)
    if healthy:
        print(kubectl(s, "get", "nodes", "-o", "wide", "-L", "topology.kubernetes.io/zone").stdout, end="")
    print("kubeconfig: {}".format(s.kubeconfig))
    return 0 if healthy else 1


def kubeconfig():
    print(Settings().kubeconfig)
    return 0


def versions():
    print(json.dumps(load(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(up())
