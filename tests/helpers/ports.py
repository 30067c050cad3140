# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP ports for servers the tests start, chosen below the kernel's ephemeral range.

A port the kernel hands out for bind(port 0) comes from the ephemeral range, the same range every outgoing
connection (a port-forward, a module, a JVM's own client) takes its local port from: between the probe and
the server's own bind, one of them can take it, and the server exits with "Address already in use"
(OpenSearch and AntidoteDB nodes did). Ports below that range are never given to outgoing connections.
"""
import random
import socket

# Above localkube's fixed ports (slot 1 ends at 26443), below Kubernetes' NodePorts (30000-32767) and the
# kernel's default ephemeral range (32768-60999).
_LOW, _HIGH = 27000, 30000
_next = [random.randrange(_LOW, _HIGH)]  # each process starts elsewhere: two harnesses rarely probe alike


def free_port(host="127.0.0.1"):
    """A port nothing is bound to on `host` ("" probes every address, for servers that bind 0.0.0.0)."""
    return free_ports(1, host)[0]


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_ports(count, host="127.0.0.1"):
    """`count` different free ports, taken in turn from the range."""
    ports = []
    for _attempt in range(_HIGH - _LOW):
        port = _next[0]
        _next[0] = _LOW + (port + 1 - _LOW) % (_HIGH - _LOW)
        if port_is_free(port, host):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise OSError("no {} free TCP port(s) in {}-{}".format(count, _LOW, _HIGH - 1))
