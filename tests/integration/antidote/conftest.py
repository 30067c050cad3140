# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real AntidoteDB nodes for the Antidote integration tests, and questions the tests ask them."""
import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import (
    AntidoteClient, dc_count, fetch_metrics, parse_descriptor,
)
from tests.helpers.cluster import forward_pod_ports
from tests.servers.antidote import AntidoteNodes


def ring_members(nodes, dc):
    """How many nodes the DC's ring has, as its manager node's connection descriptor lists them."""
    _name, pb_port, _metrics = nodes.manager(dc)
    with AntidoteClient("127.0.0.1", pb_port, timeout=60) as client:
        return len(parse_descriptor(client.get_connection_descriptor()).publishers)


def dc_id(nodes, dc):
    _name, pb_port, _metrics = nodes.manager(dc)
    with AntidoteClient("127.0.0.1", pb_port, timeout=60) as client:
        return parse_descriptor(client.get_connection_descriptor()).dc_id


def counted_dcs(nodes, dc):
    return dc_count(fetch_metrics("127.0.0.1", nodes.manager(dc)[2], timeout=10))


def forward_every_pod(namespace, nodes):
    """KWOK port-forwards of each simulated pod's 8087 and 3001 to the real node of the same name."""
    for dc in nodes.describe()["dcs"]:
        for node in dc["nodes"]:
            pod = node["name"].split("@", 1)[1].split(".", 1)[0]
            forward_pod_ports(namespace, pod, {8087: node["pb_port"], 3001: node["metrics_port"]})


@pytest.fixture
def real_nodes():
    """Two DCs of two fresh real nodes each (antidote@antidote-dcK-i.antidote-dcK), not yet joined.

    The nodes' state and logs go to the teardown's captured output, which pytest shows when the test failed.
    """
    with AntidoteNodes(dcs=2, nodes=2) as nodes:
        yield nodes
        nodes.report()
