# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sealed network namespace (loopback only, no route out) and loopback relays into it.

loklak listens on every address and has no setting to bind one, so the test runs it, with the
Elasticsearch nodes it talks to, inside a namespace of its own: nothing in there can reach or be
reached from any other network. `ip netns exec` mounts /etc/netns/<name>/hosts over /etc/hosts for
the processes it starts, so Kubernetes Service names (elasticsearch.<namespace>) resolve to the
namespace's own loopback, and the role's rendered settings run unchanged.

The host side reaches a port in the namespace through a Relay: a listener on the host's 127.0.0.1
whose connections are opened by a thread that joined the namespace (setns applies per thread; a
socket stays in the namespace it was made in). KWOK's port-forward targets these listeners.
"""

import ctypes
import os
import queue
import shutil
import socket
import subprocess
import threading
import uuid
from pathlib import Path

CLONE_NEWNET = 0x40000000
ETC_NETNS = Path("/etc/netns")


def missing_tools():
    """What the namespace needs and this machine lacks (root, ip, setpriv)."""
    missing = [tool for tool in ("ip", "setpriv") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (ip netns)")
    return missing


class Namespace(object):
    def __init__(self, hosts=None):
        self.name = "sdt-" + uuid.uuid4().hex[:10]
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"], check=True)
        self.path = "/run/netns/" + self.name
        self._connector = _Connector(self.path)
        self.set_hosts(hosts or {})

    def set_hosts(self, hosts):
        """{name: address} for processes started afterwards (written to /etc/netns/<name>/hosts)."""
        folder = ETC_NETNS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        lines = ["127.0.0.1 localhost"] + ["%s %s" % (address, name) for name, address in sorted(hosts.items())]
        (folder / "hosts").write_text("\n".join(lines) + "\n")

    def command(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def connect(self, address, timeout=5.0):
        return self._connector.connect(address, timeout)

    def relay(self, address):
        return Relay(self, address)

    def close(self):
        self._connector.stop()
        shutil.rmtree(ETC_NETNS / self.name, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.name], check=False)


class _Connector(object):
    """One thread inside the namespace that opens the sockets asked for."""

    def __init__(self, path):
        self.path = path
        self.requests = queue.Queue()
        ready = queue.Queue(1)
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        failure = ready.get()
        if failure is not None:
            raise failure

    def _run(self, ready):
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                ready.put(OSError(ctypes.get_errno(), "setns %s" % self.path))
                return
        finally:
            os.close(fd)
        ready.put(None)
        while True:
            request = self.requests.get()
            if request is None:
                return
            address, timeout, reply = request
            try:
                reply.put(socket.create_connection(address, timeout=timeout))
            except OSError as error:
                reply.put(error)

    def connect(self, address, timeout):
        reply = queue.Queue(1)
        self.requests.put((address, timeout, reply))
        result = reply.get()
        if isinstance(result, Exception):
            raise result
        result.settimeout(None)
        return result

    def stop(self):
        self.requests.put(None)


class Relay(object):
    """127.0.0.1:<port> on the host, relayed to `address` inside the namespace."""

    def __init__(self, namespace, address):
        self.namespace, self.address = namespace, address
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            try:
                upstream = self.namespace.connect(self.address)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self):
        self.listener.close()


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
