# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sealed network namespace for the processes that dial simulated pods.

The Atomix 1.x raft controller dials every Raft pod (gRPC to <pod IP>:5678 and
<pod>.<cluster>-hs.<ns>.svc.cluster.local:5678). Simulated pod addresses must never be dialed from
the host, so those processes run in a network + mount namespace made here: it has only its own
loopback, KWOK's pod range is local in it (an AnyIP route on lo, so each node process can bind its
pod's IP), /etc/hosts is a private file naming the pods, and the API server is reached through a
unix socket bridged to the host's 127.0.0.1. `seal()` proves with `ip route get` (nothing is sent)
that no address outside loopback and the pod range has a route.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# KWOK's pod range in tools/localkube (kwok --cidr)
POD_CIDR = "10.244.0.0/16"
# Addresses whose route must be missing inside: public and private ranges, the service ranges (localkube: 10.99.0.0/16).
MUST_BE_UNROUTABLE = ["1.1.1.1", "8.8.8.8", "192.168.1.1", "172.16.0.1", "10.96.0.1", "10.99.0.1", "10.0.0.1"]


class NamespaceError(RuntimeError):
    pass


def _bridge(*args):
    return [sys.executable, "-m", "tests.servers.atomix.bridge"] + list(args)


class SealedNamespace(object):
    def __init__(self, workdir, api_port, pod_cidr=POD_CIDR):
        if os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "nsenter", "ip")):
            raise NamespaceError("a sealed namespace needs root and unshare, nsenter and ip")
        self.workdir, self.api_port, self.pod_cidr = workdir, int(api_port), pod_cidr
        os.makedirs(workdir, exist_ok=True)
        self.socket = os.path.join(workdir, "api.sock")
        self.hosts = os.path.join(workdir, "hosts")
        self.host_bridge = self.holder = None
        self.pid = None
        self.processes = []

    def start(self, timeout=20):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.set_hosts({})
        log = open(os.path.join(self.workdir, "bridge.log"), "ab")
        self.host_bridge = subprocess.Popen(_bridge("unix-to-tcp", self.socket, "127.0.0.1", str(self.api_port)),
                                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        inside = ("ip link set lo up && ip route add local {cidr} dev lo && mount --bind {hosts} /etc/hosts && "
                  "exec {bridge}").format(cidr=self.pod_cidr, hosts=self.hosts,
                                          bridge=" ".join(_bridge("tcp-to-unix", "127.0.0.1", str(self.api_port),
                                                                  self.socket)))
        self.holder = subprocess.Popen(["unshare", "--net", "--mount", "--propagation", "private", "--fork",
                                        "bash", "-c", inside], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.pid is None:
            children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.holder.pid)], capture_output=True,
                                      text=True, check=False).stdout.split()
            if children and os.path.exists(self.socket) and self._bridge_listening(children[0]):
                self.pid = int(children[0])
            elif self.holder.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise NamespaceError("the sealed namespace did not come up; see %s/bridge.log" % self.workdir)
            else:
                time.sleep(0.2)
        return self

    def _bridge_listening(self, pid):
        result = subprocess.run(["nsenter", "-t", str(pid), "-n", "ss", "-Hltn", "sport = :%d" % self.api_port],
                                capture_output=True, text=True, check=False)
        return result.returncode == 0 and bool(result.stdout.strip())

    def _enter(self, argv):
        return ["nsenter", "-t", str(self.pid), "-n", "-m", "--"] + list(argv)

    def run(self, *argv):
        return subprocess.run(self._enter(argv), capture_output=True, text=True, check=False)

    def seal(self):
        """What `ip route get` says inside, per address; raises NamespaceError unless only loopback
        and the pod range have routes and lo is the only link."""
        links = self.run("ip", "-o", "link", "show").stdout
        names = sorted(re.findall(r"^\d+: ([^:@]+)", links, re.M))
        report = {"links": names}
        if names != ["lo"]:
            raise NamespaceError("the namespace has links other than lo: %s" % names)
        for address in MUST_BE_UNROUTABLE:
            result = self.run("ip", "route", "get", address)
            report[address] = (result.stdout + result.stderr).strip()
            if result.returncode == 0:
                raise NamespaceError("%s has a route in the sealed namespace: %s" % (address, report[address]))
        pod = self.pod_cidr.split("/")[0].rsplit(".", 2)[0] + ".0.7"
        for address in ("127.0.0.1", pod):
            result = self.run("ip", "route", "get", address)
            report[address] = result.stdout.strip()
            if result.returncode != 0 or not result.stdout.startswith("local "):
                raise NamespaceError("%s is not local in the sealed namespace: %s" % (address, report[address]))
        return report

    def set_hosts(self, names):
        """names: {address: [host names]}; rewritten in place (the bind mount follows the inode)."""
        lines = ["127.0.0.1 localhost"] + ["%s %s" % (a, " ".join(n)) for a, n in sorted(names.items())]
        mode = "r+" if os.path.exists(self.hosts) else "w"
        with open(self.hosts, mode, encoding="utf-8") as f:
            f.seek(0)
            f.truncate()
            f.write("\n".join(lines) + "\n")

    def popen(self, argv, cwd, env, log_path):
        log = open(log_path, "ab")
        process = subprocess.Popen(self._enter(["env", "-C", cwd] + list(argv)), env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self, timeout=15):
        for process in reversed(self.processes + [p for p in (self.holder, self.host_bridge) if p]):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes + [p for p in (self.holder, self.host_bridge) if p]:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        self.processes = []
