# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, scale and stop real Hazelcast members that listen on 127.0.0.1 only."""

import ctypes
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

from tests.helpers.ports import free_port, port_is_free
from tests.servers.hazelcast.jar import HAZELCAST_VERSION, MAIN_CLASS, ensure_jar
from tests.servers.hazelcast.member_config import render_member_config

HOST = "127.0.0.1"
READY_PATH = "/hazelcast/health/ready"
POLL_INTERVAL = 0.25
# Hazelcast asks for these on Java 9+; without them it logs a warning and runs slower paths.
JAVA_MODULE_OPTIONS = [
    "--add-modules", "java.se",
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.management/sun.management=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
]
# Small and quick to start on a busy 2-core machine: C1 only, serial GC.
JVM_TUNING = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true"]


class HazelcastHarnessError(RuntimeError):
    pass


def _parent_death_signal():
    """preexec_fn: SIGKILL the member when the thread that started it dies (no orphan JVMs)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def arm():
        prctl(pr_set_pdeathsig, int(signal.SIGKILL))

    return arm


class Member:
    """One JVM started by the harness."""

    def __init__(self, index, port, config_path, log_path, process):
        self.index = index
        self.port = port
        self.config_path = config_path
        self.log_path = log_path
        self.process = process

    @property
    def name(self):
        return "member-%d" % self.index

    @property
    def pid(self):
        return self.process.pid

    @property
    def endpoint(self):
        return (HOST, self.port)

    def alive(self):
        return self.process.poll() is None

    def ready(self, timeout=2.0):
        """True when GET /hazelcast/health/ready answers 200 (member started and joined)."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", READY_PATH)
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError as exc:
            return "(no log: %s)" % exc

    def __repr__(self):
        return "<Member %s pid=%s %s:%d>" % (self.name, self.pid, HOST, self.port)


class HazelcastCluster:
    """Real Hazelcast members on 127.0.0.1 that form one cluster through TCP-IP join.

    Ports are base_port + member index when base_port is given, otherwise free ports chosen by the
    kernel. Every cluster gets its own cluster name, so two harness clusters never merge.
    Members are started from the calling thread and die with it (PR_SET_PDEATHSIG).
    """

    def __init__(self, size, cluster_name=None, base_port=None, version=HAZELCAST_VERSION,
                 heap="192m", workdir=None, ready_timeout=120.0, partition_count=71,
                 cluster_read=True, keep_workdir=False, out=sys.stderr):
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.cluster_name = cluster_name or "hz-test-%s" % uuid.uuid4().hex[:8]
        self.base_port = base_port
        self.version = version
        self.heap = heap
        self.ready_timeout = ready_timeout
        self.partition_count = partition_count
        self.cluster_read = cluster_read
        self.keep_workdir = keep_workdir
        self.out = out
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="hazelcast-%s-" % self.cluster_name)
        self.members = []
        self._next_index = 0
        self._jar = None

    # -- public API -------------------------------------------------------------------------------

    @property
    def endpoints(self):
        """(host, port) of every running member, oldest first."""
        return [member.endpoint for member in self.members]

    @property
    def pids(self):
        return [member.pid for member in self.members]

    def start(self):
        """Start the first member alone, then the others: members started together spend seconds
        electing a master, while members joining a running master join at once."""
        size = self.size
        try:
            self._jar = ensure_jar(self.version, out=self.out)
            self.scale_to(1)
            self.scale_to(size)
        except BaseException:
            self.keep_workdir = True  # the logs named in the error stay readable
            self.stop()
            raise
        return self

    def scale_to(self, count, wait=True):
        """Start or stop members until `count` run; with wait, return once every new one is ready."""
        if count < 1:
            raise ValueError("a cluster keeps at least one member")
        if self._jar is None:
            self._jar = ensure_jar(self.version, out=self.out)
        if count < len(self.members):
            leaving, self.members = self.members[count:], self.members[:count]
            self._log("stopping %s" % ", ".join(m.name for m in leaving))
            _terminate(leaving)
        new_ports = [self._allocate_port(self._next_index + i) for i in range(count - len(self.members))]
        seed_ports = [m.port for m in self.members] + new_ports
        started = [self._launch(port, seed_ports) for port in new_ports]
        self.members.extend(started)
        self.size = count
        if wait and started:
            self.wait_ready(started)
        return started

    def wait_ready(self, members=None, timeout=None):
        """Wait until each member answers 200 on /hazelcast/health/ready; fail fast if one exits."""
        pending = list(self.members if members is None else members)
        began = time.monotonic()
        deadline = began + (self.ready_timeout if timeout is None else timeout)
        while pending:
            for member in list(pending):
                if not member.alive():
                    raise HazelcastHarnessError(
                        "%s (pid %d) exited with %s before it was ready; log %s:\n%s"
                        % (member.name, member.pid, member.process.returncode, member.log_path, member.log_tail()))
                if member.ready():
                    pending.remove(member)
            if not pending:
                break
            if time.monotonic() >= deadline:
                tails = "\n".join("--- %s (%s)\n%s" % (m.name, m.log_path, m.log_tail()) for m in pending)
                raise HazelcastHarnessError(
                    "not ready after %.0fs: %s\n%s" % (time.monotonic() - began, ", ".join(map(repr, pending)), tails))
            time.sleep(POLL_INTERVAL)
        self._log("%d member(s) ready in %.1fs" % (len(members or self.members), time.monotonic() - began))

    def stop(self):
        """Stop every member this harness started (by PID) and remove the work directory."""
        members, self.members = self.members, []
        if members:
            self._log("stopping %d member(s): pids %s" % (len(members), " ".join(str(m.pid) for m in members)))
        _terminate(members)
        if self._own_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- internals --------------------------------------------------------------------------------

    def _allocate_port(self, index):
        if self.base_port is None:
            return free_port(HOST)  # taken in turn: not one a member started before is using
        port = self.base_port + index
        if not port_is_free(port, HOST):
            raise HazelcastHarnessError("port %s:%d is already in use; choose another base_port" % (HOST, port))
        return port

    def _launch(self, port, seed_ports):
        index = self._next_index
        self._next_index += 1
        config_path = os.path.join(self.workdir, "member-%d.yaml" % index)
        log_path = os.path.join(self.workdir, "member-%d.log" % index)
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(render_member_config(self.cluster_name, port, seed_ports,
                                              self.partition_count, self.cluster_read))
        command = (["java", "-Xms32m", "-Xmx%s" % self.heap] + JVM_TUNING + JAVA_MODULE_OPTIONS
                   + ["-Dhazelcast.config=%s" % config_path, "-cp", self._jar, MAIN_CLASS])
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=self.workdir, preexec_fn=_parent_death_signal())
        member = Member(index, port, config_path, log_path, process)
        self._log("%s pid %d on %s:%d, log %s" % (member.name, member.pid, HOST, port, log_path))
        return member

    def _log(self, message):
        print("hazelcast[%s]: %s" % (self.cluster_name, message), file=self.out, flush=True)


def _terminate(members, grace=15.0):
    """SIGTERM each PID (the members shut down at once: policy TERMINATE), SIGKILL what outlives grace."""
    for member in members:
        if member.alive():
            member.process.terminate()
    deadline = time.monotonic() + grace
    for member in members:
        try:
            member.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            member.process.kill()
            member.process.wait()
