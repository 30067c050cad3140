# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real AntidoteDB nodes on this machine, grouped into DCs, reachable on loopback only.

Each node is the built release (release.py) started in the foreground with its own ports, data and
generated-config directories. Nodes carry the Erlang names the role derives from pods
(antidote@antidote-dc1-0.antidote-dc1) although they all run on 127.0.0.2:

- an Erlang inetrc file maps every node's host part to 127.0.0.2, so Antidote puts 127.0.0.2 first
  in its connection descriptor and inter-DC traffic stays on loopback (Antidote leaves 127.0.0.1
  out of descriptors, hence .2);
- no epmd: their short names are all "antidote", so the module antidote_loopback_epmd.erl finds
  each node's distribution port in a table file instead, and the distribution listens on 127.0.0.2.

The log reader (router_bind_ip) and handoff (handoff_ip) listeners bind 127.0.0.2. The protocol
buffer, metrics and pub/sub listeners have no such setting in 0.2.2 and bind 0.0.0.0; every client
of them here dials 127.0.0.1 or 127.0.0.2.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tests.helpers.ports import free_ports
from tests.servers.antidote.release import AntidoteBuildError, cache_root, ensure_release

LOOPBACK = "127.0.0.2"
CLIENT_HOST = "127.0.0.1"
EPMD_MODULE = "antidote_loopback_epmd"
EPMD_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), EPMD_MODULE + ".erl")
POLL_INTERVAL = 0.25
START_RESTARTS = 2  # how often a node that exits by itself is started again, as a kubelet restarts a container


class AntidoteHarnessError(RuntimeError):
    pass


def _parent_death_signal():
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def arm():
        os.setsid()
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG: no orphan nodes when the harness dies

    return arm


def ensure_epmd_module(release):
    """Compile antidote_loopback_epmd.erl next to the cached release; return its ebin directory."""
    ebin = os.path.join(os.path.dirname(release), "loopback-ebin")
    beam = os.path.join(ebin, EPMD_MODULE + ".beam")
    if os.path.isfile(beam) and os.path.getmtime(beam) >= os.path.getmtime(EPMD_SOURCE):
        return ebin
    os.makedirs(ebin, exist_ok=True)
    result = subprocess.run(["erlc", "-o", ebin, EPMD_SOURCE], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, check=False)
    if result.returncode != 0:
        raise AntidoteBuildError("antidote: erlc %s failed:\n%s" % (EPMD_SOURCE, result.stdout))
    return ebin


class AntidoteNode:
    """One Antidote node: its name, ports and directories; start/stop/kill keep the data."""

    def __init__(self, cluster, name, dc):
        self.cluster = cluster
        self.name = name
        self.dc = dc
        self.host = name.split("@", 1)[1]
        roles = ("pb", "metrics", "pubsub", "logreader", "handoff", "dist")
        self.ports = dict(zip(roles, free_ports(len(roles), "")))  # "": every address, Antidote binds 0.0.0.0
        self.root = os.path.join(cluster.workdir, name.replace("@", "_"))
        self.log_path = os.path.join(self.root, "console.log")
        self.booted_path = os.path.join(self.root, "booted")
        self.process = None
        self.wanted = False  # False once stop() or kill() asked it to end: then an exit is not restarted
        self.restarts = 0
        self.gave_up = False  # it exited by itself START_RESTARTS + 1 times
        self._lock = threading.Lock()  # wanted and a restart, against stop() at the same moment

    @property
    def pb_port(self):
        return self.ports["pb"]

    @property
    def metrics_port(self):
        return self.ports["metrics"]

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        if self.alive():
            return self
        self.wanted, self.restarts, self.gave_up = True, 0, False
        self._spawn()
        # Lives as long as the processes it starts: their parent-death signal follows the thread that forked them.
        threading.Thread(target=self._restart_on_exit, daemon=True).start()
        return self

    def _spawn(self):
        config = os.path.join(self.root, "config")
        os.makedirs(config, exist_ok=True)
        release = self.cluster.release
        shutil.copy(os.path.join(release, "releases", "0.2.2", "network.config"), config)
        env = dict(os.environ, NODE_NAME=self.name, SHORT_NAME_PREFIX="", COOKIE=self.cluster.cookie,
                   ROOT_DIR_PREFIX=self.root + "/", DATA_DIR_PREFIX="data/", LOGGER_DIR_PREFIX="log/",
                   RELX_OUT_FILE_PATH=config, CODE_LOADING_MODE="interactive",
                   ERL_INETRC=self.cluster.inetrc_path, ANTIDOTE_LOOPBACK_NODES=self.cluster.table_path)
        env.pop("ERL_EPMD_PORT", None)
        command = [os.path.join(release, "bin", "antidote"), "foreground",
                   "-pa", self.cluster.ebin, "-epmd_module", EPMD_MODULE, "-start_epmd", "false",
                   "-kernel", "inet_dist_use_interface", "{%s}" % LOOPBACK.replace(".", ","),
                   "-ranch", "pb_port", str(self.ports["pb"]),
                   "-antidote", "pubsub_port", str(self.ports["pubsub"]),
                   "-antidote", "logreader_port", str(self.ports["logreader"]),
                   "-antidote_stats", "metrics_port", str(self.ports["metrics"]),
                   "-riak_core", "handoff_port", str(self.ports["handoff"]),
                   "-riak_core", "handoff_ip", '"%s"' % LOOPBACK,
                   "-antidote", "router_bind_ip", '"%s"' % LOOPBACK,
                   "-riak_core", "ring_creation_size", str(self.cluster.ring_size),
                   # init evaluates this after the boot script, so after antidote_app:start/2 has returned
                   "-eval", 'file:write_file("%s", <<>>)' % self.booted_path]
        if os.path.exists(self.booted_path):
            os.remove(self.booted_path)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_parent_death_signal())

    def _restart_on_exit(self):
        """A node that exits by itself is started again, as the kubelet restarts a pod's container."""
        process = self.process
        while True:
            process.wait()
            with self._lock:
                if not self.wanted or process is not self.process:
                    return
                if self.restarts >= START_RESTARTS:
                    self.gave_up = True
                    return
                self.restarts += 1
                self._signal_group(signal.SIGKILL)  # what the VM left behind
                print("antidote: %s exited by itself with %s; starting it again. Its log:\n%s" % (
                    self.name, process.returncode, self.log_tail(15)), file=self.cluster.out, flush=True)
                self._spawn()
                process = self.process

    def ready(self, timeout=2.0):
        """True when the node has booted and its protocol-buffer port runs a transaction.

        The port answers before antidote_app:start/2 returns; a node joined into a ring during that time
        exits (its start runs over the DC's nodes and calls their servers), so the boot must be over first."""
        if not os.path.exists(self.booted_path):
            return False
        from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import AntidoteClient
        return AntidoteClient(CLIENT_HOST, self.ports["pb"], timeout=timeout).speaks_antidote_pb(timeout)

    def _signal_group(self, signum):
        try:
            os.killpg(self.process.pid, signum)  # the session this harness started for the node
        except ProcessLookupError:
            pass

    def kill(self):
        """SIGKILL, as a crashed pod: no clean shutdown (and no restart)."""
        with self._lock:
            self.wanted = False
        if self.process is not None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout=20.0):
        with self._lock:
            self.wanted = False
        if not self.alive():
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._signal_group(signal.SIGKILL)  # erl_child_setup and port programs left behind

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError as error:
            return "(no log: %s)" % error

    def __repr__(self):
        return "<AntidoteNode %s pid=%s pb=%d>" % (self.name, self.pid, self.ports["pb"])


def default_layout(dcs, nodes):
    """DC names dc1..dcN; node names as the role derives them for StatefulSet antidote-dcK."""
    return [("dc%d" % k, ["antidote@antidote-dc{0}-{1}.antidote-dc{0}".format(k, i) for i in range(nodes)])
            for k in range(1, dcs + 1)]


class AntidoteNodes:
    """Real Antidote nodes in DCs (not yet joined: createDC and connectDCs are the code under test).

    layout: [(dc name, [node names])], or dcs/nodes for the role's default names. Every node
    starts as its own one-node ring, as a fresh pod does.
    """

    def __init__(self, dcs=1, nodes=1, layout=None, ring_size=16, cookie="antidote-test",
                 ready_timeout=120.0, out=sys.stderr):
        self.layout = layout or default_layout(dcs, nodes)
        self.ring_size = ring_size
        self.cookie = cookie
        self.ready_timeout = ready_timeout
        self.out = out
        self.release = None
        self.ebin = None
        self.workdir = tempfile.mkdtemp(prefix="antidote-nodes-", dir=_work_parent())
        self.inetrc_path = os.path.join(self.workdir, "inetrc")
        self.table_path = os.path.join(self.workdir, "nodes.table")
        self.nodes = dict((name, AntidoteNode(self, name, dc)) for dc, names in self.layout for name in names)

    def start(self):
        try:
            self.release = ensure_release(out=self.out)
            self.ebin = ensure_epmd_module(self.release)
            self._write_tables()
            began = time.monotonic()
            for node in self.nodes.values():
                node.start()
            self.wait_ready()
            print("antidote: %d node(s) ready in %.1f s" % (len(self.nodes), time.monotonic() - began),
                  file=self.out, flush=True)
        except BaseException:
            self.stop()
            raise
        return self

    def _write_tables(self):
        hosts = sorted(set(node.host for node in self.nodes.values()))
        with open(self.inetrc_path, "w", encoding="utf-8") as handle:
            handle.write("{host, {%s}, [%s]}.\n" % (LOOPBACK.replace(".", ","),
                                                    ", ".join('"%s"' % host for host in hosts)))
            handle.write("{lookup, [file, native]}.\n")
        with open(self.table_path, "w", encoding="utf-8") as handle:
            for node in self.nodes.values():
                handle.write("%s %s %d\n" % (node.name, LOOPBACK, node.ports["dist"]))

    def wait_ready(self, nodes=None, timeout=None):
        pending = list(self.nodes.values() if nodes is None else nodes)
        deadline = time.monotonic() + (self.ready_timeout if timeout is None else timeout)
        while pending:
            for node in list(pending):
                if node.gave_up:
                    raise AntidoteHarnessError("%s exited with %s before it was ready, %d time(s); %s:\n%s" % (
                        node.name, node.process.returncode, node.restarts + 1, node.log_path, node.log_tail()))
                if node.ready():
                    pending.remove(node)
            if pending and time.monotonic() >= deadline:
                raise AntidoteHarnessError("not ready in time: %s\n%s" % (
                    ", ".join(map(repr, pending)), "\n".join(n.log_tail() for n in pending)))
            if pending:
                time.sleep(POLL_INTERVAL)

    def restart(self, name, kill=False):
        node = self.nodes[name]
        node.kill() if kill else node.stop()
        node.start()
        self.wait_ready([node])
        return node

    def stop(self):
        for node in self.nodes.values():
            if node.process is not None:
                node.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *_exc_info):
        if exc_type is not None:
            self.report()
        self.stop()

    def report(self):
        """Every node's state and log tail, for a failed test's captured output."""
        for node in self.nodes.values():
            state = "running" if node.alive() else "exited with %s" % (node.process and node.process.returncode)
            print("antidote: %r %s; %s:\n%s" % (node, state, node.log_path, node.log_tail(60)),
                  file=self.out, flush=True)

    # -- the same questions the stand-in answers

    def node_names(self, dc):
        return [name for dc_name, names in self.layout if dc_name == dc for name in names]

    def manager(self, dc):
        """(node name, pb port, metrics port) of the DC's first node, the one createDC goes to."""
        node = self.nodes[self.node_names(dc)[0]]
        return node.name, node.pb_port, node.metrics_port

    def describe(self):
        return {"host": CLIENT_HOST, "dcs": [
            {"name": dc, "nodes": [{"name": name, "ip": LOOPBACK, "pb_port": self.nodes[name].pb_port,
                                    "metrics_port": self.nodes[name].metrics_port} for name in names]}
            for dc, names in self.layout]}

    def rss_bytes(self):
        """Resident memory of every running node's VM (the beam process), summed."""
        total = 0
        for node in self.nodes.values():
            if node.alive():
                try:
                    with open("/proc/%d/status" % node.pid, encoding="ascii") as handle:
                        for line in handle:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1]) * 1024
                except OSError:
                    pass
        return total


def _work_parent():
    path = os.path.join(cache_root(), "nodes")
    os.makedirs(path, exist_ok=True)
    return path
