# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The elasticsearch role's OpenSearch distribution on real nodes: OpenSearch 2.19.1 pods from the image of
tools/images/recipes/opensearch.py with the role's generated admin password, CA and certificate, its security
init container and its readiness probe; elasticsearch_health verifies the cluster through the kubelet's
port-forward over TLS as the admin user.

OpenSearch bound to a pod IP enforces its bootstrap checks, one of which wants at least 65535 open files.
Containers inherit containerd's limit, and where the machine caps it lower for everyone (this one: a hard
limit of 20000 that root cannot raise without CAP_SYS_RESOURCE), no multi-node cluster can start. There the
test runs the role's single-node mode (elasticsearch_single_node: one pod, the checks only warn) and shows the
check that would have failed; where the limit allows, three nodes form the cluster."""
import resource
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json
from tests.realnodes.diagnostics import explain
from tests.realnodes.volumes import DISK_WATERMARKS_OPENSEARCH, LocalVolumes

PLAYBOOK = REPO / "playbooks" / "elasticsearch.yml"
FACT_TASK = "Set elasticsearch_cluster (health, version, nodes, endpoints, Secrets, volumes)"
VERSION = "2.19.1"
OPEN_FILES_NEEDED = 65535
OPEN_FILES = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
CAPPED = 0 <= OPEN_FILES < OPEN_FILES_NEEDED


@pytest.fixture(scope="module")
def opensearch(real_cluster):
    volumes = LocalVolumes(real_cluster)
    values = {"elasticsearch_distribution": "opensearch", "elasticsearch_version": VERSION,
              "elasticsearch_name": "os", "elasticsearch_namespace": "os-" + uuid.uuid4().hex[:5],
              "elasticsearch_storage_class": volumes.name, "elasticsearch_heap_size": "384m",
              "elasticsearch_timeout": 480, "elasticsearch_config": DISK_WATERMARKS_OPENSEARCH,
              "elasticsearch_replicas": 1 if CAPPED else 3, "elasticsearch_single_node": CAPPED}
    first = run_playbook_json(PLAYBOOK, values, timeout=900)
    yield values, first
    kubectl("delete", "namespace", values["elasticsearch_namespace"], "--wait=false", check=False)
    volumes.remove()


def test_real_opensearch_forms_one_secured_cluster_and_a_rerun_changes_nothing(opensearch):
    values, first = opensearch
    assert not first.failed, explain(first, [values["elasticsearch_namespace"]])
    fact = first.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert (fact["distribution"], fact["version"], fact["healthy"], fact["number_of_nodes"]) == (
        "opensearch", VERSION, True, values["elasticsearch_replicas"]), fact
    again = run_playbook_json(PLAYBOOK, values, timeout=900)
    assert not again.failed and again.changed == 0, explain(again, [values["elasticsearch_namespace"]])


@pytest.mark.skipif(not CAPPED, reason="this machine allows {} open files: three nodes run".format(OPEN_FILES))
def test_single_node_mode_turns_the_open_files_check_this_machine_fails_into_a_warning(opensearch):
    values, first = opensearch
    namespace = values["elasticsearch_namespace"]
    pod = kubectl_json("get", "pods", "-n", namespace)["items"][0]
    init = pod["status"]["initContainerStatuses"][0]
    assert init["name"] == "security-config" and init["state"]["terminated"]["exitCode"] == 0, init
    log = kubectl("logs", "-n", namespace, pod["metadata"]["name"], "-c", "elasticsearch").stdout
    assert "publish_address {" + pod["status"]["podIP"] + ":9300}" in log, log[-3000:]
    assert "max file descriptors [{}] for opensearch process is too low".format(OPEN_FILES) in log, log[-3000:]
    assert "bootstrap checks failed" not in log, log[-3000:]
