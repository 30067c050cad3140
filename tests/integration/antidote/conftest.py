# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real AntidoteDB nodes for the Antidote integration tests, and questions the tests ask them."""
import json

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import (
    AntidoteClient, dc_count, fetch_metrics, parse_descriptor,
)
from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import forward_pod_ports, kubectl_json
from tests.servers.antidote import AntidoteNodes


PLAYBOOK = REPO / "playbooks" / "antidote.yml"
CONNECT_TASK = "Connect the data centres to each other (connectDCs when the record or the counters differ)"


class RoleDeployment(object):
    """The antidote role run on one namespace with DCs dc1..dcN of `replicas` nodes each."""

    def __init__(self, namespace, storage_class, dc_names, replicas, admin_timeout):
        self.namespace = namespace
        self.storage_class = storage_class
        self.dc_names = dc_names
        self.replicas = replicas
        self.admin_timeout = admin_timeout  # (antidote_dc_timeout, antidote_connect_timeout)

    def role_vars(self, **extra):
        values = {
            "antidote_namespace": self.namespace,
            "antidote_datacenters": [{"name": name} for name in self.dc_names],
            "antidote_replicas": self.replicas,
            "antidote_storage_class": self.storage_class,
            "antidote_client_service_type": "NodePort",
            "antidote_wait_timeout": 120,
            "antidote_dc_timeout": self.admin_timeout[0],
            "antidote_connect_timeout": self.admin_timeout[1],
        }
        values.update(extra)
        return values

    def run(self, check=False, **extra):
        return run_playbook_json(PLAYBOOK, self.role_vars(**extra), check=check)

    def objects(self):
        """Names of the objects the role could have created in the namespace."""
        found = kubectl_json("get", "statefulsets,services,secrets,configmaps,persistentvolumeclaims",
                             "-n", self.namespace)["items"]
        return sorted("{0}/{1}".format(item["kind"], item["metadata"]["name"]) for item in found
                      if item["metadata"]["name"] != "kube-root-ca.crt")

    def record(self):
        configmap = kubectl_json("get", "configmap", "antidote-dc-connections", "-n", self.namespace)
        return json.loads(configmap["data"]["record.json"])


def changed(run):
    """Names of the tasks that reported a change, without the role prefix."""
    return [task.split(" : ", 1)[-1] for task in run.changed_tasks()]


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
    """KWOK port-forwards of each simulated pod's 8087 and 3001 to the node (real or stand-in) of the same name."""
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
