# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ports test servers get: free, different, and never ones the kernel gives outgoing connections."""
import socket

from tests.helpers import ports


def test_ports_are_below_the_kernels_ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as handle:
        ephemeral_low = int(handle.read().split()[0])
    chosen = ports.free_ports(50)
    assert len(set(chosen)) == 50
    assert all(port < ephemeral_low and port < 30000 for port in chosen), chosen


def test_a_bound_port_is_skipped():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports._next[0]))  # the port the next call would try first
        assert ports.free_port() != taken.getsockname()[1]


def test_every_address_is_probed_for_servers_that_bind_them_all():
    with socket.socket() as taken:
        taken.bind(("127.0.0.2", ports._next[0]))
        assert ports.free_port("") != taken.getsockname()[1]
