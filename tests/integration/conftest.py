# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
import socket
import threading
import uuid

import pytest

from tests.helpers.cluster import kubectl, localkube


@pytest.fixture(scope="session", autouse=True)
def local_control_plane():
    """The local control plane: reused when it is up, started otherwise (`make test` starts it first)."""
    if localkube("status", check=False).returncode != 0:
        started = localkube("up", check=False)
        assert started.returncode == 0, "localkube up failed:\n" + started.stdout + started.stderr
    return localkube("kubeconfig").stdout.strip()


@pytest.fixture
def namespace(request):
    name = "t-{}-{}".format(request.node.name.lower().replace("_", "-")[:40].strip("-"), uuid.uuid4().hex[:5])
    name = "".join(c for c in name if c.isalnum() or c == "-")
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


class EchoServer(object):
    """A TCP server on 127.0.0.1 that answers every message with `echo:` + the message."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                conn.sendall(b"echo:" + data)

    def close(self):
        self.sock.close()


@pytest.fixture
def echo_server():
    server = EchoServer()
    yield server
    server.close()
