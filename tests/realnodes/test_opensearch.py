# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The elasticsearch role's OpenSearch distribution on real nodes: three OpenSearch 2.19.1 pods from the
image of tools/images/recipes/opensearch.py, discovering each other through the headless Service, with the
role's generated admin password, CA and certificate, its security init container and its readiness probe
(the node joined a cluster with an elected manager). elasticsearch_health verifies them through the real
kubelet port-forward, over TLS checked against the pods' DNS names, as the admin user."""
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json
from tests.realnodes.diagnostics import explain
from tests.realnodes.volumes import LocalVolumes

PLAYBOOK = REPO / "playbooks" / "elasticsearch.yml"
FACT_TASK = "Set elasticsearch_cluster (health, version, nodes, endpoints, Secrets, volumes)"
VERSION = "2.19.1"


@pytest.fixture(scope="module")
def opensearch(real_cluster):
    volumes = LocalVolumes(real_cluster)
    values = {"elasticsearch_distribution": "opensearch", "elasticsearch_version": VERSION,
              "elasticsearch_name": "os", "elasticsearch_namespace": "os-" + uuid.uuid4().hex[:5],
              "elasticsearch_storage_class": volumes.name, "elasticsearch_heap_size": "384m",
              "elasticsearch_timeout": 480}
    first = run_playbook_json(PLAYBOOK, values, timeout=900)
    assert not first.failed, explain(first, [values["elasticsearch_namespace"]])
    yield values, first
    kubectl("delete", "namespace", values["elasticsearch_namespace"], "--wait=false", check=False)
    volumes.remove()


def test_three_real_opensearch_nodes_form_one_secured_cluster(opensearch):
    values, first = opensearch
    fact = first.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert (fact["distribution"], fact["version"], fact["healthy"], fact["number_of_nodes"]) == (
        "opensearch", VERSION, True, 3), fact
    pods = kubectl_json("get", "pods", "-n", values["elasticsearch_namespace"])["items"]
    assert len({p["spec"]["nodeName"] for p in pods}) == 3, "one node per real kubelet node (zones a, b, c)"
    assert all(c["restartCount"] == 0 for p in pods for c in p["status"]["containerStatuses"]), pods


def test_second_run_changes_nothing(opensearch):
    values, _first = opensearch
    again = run_playbook_json(PLAYBOOK, values, timeout=900)
    assert not again.failed and again.changed == 0, explain(again, [values["elasticsearch_namespace"]])
