# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hazelcast role on real nodes: its own manifests run the Hazelcast image (tools/images/recipes/hazelcast.py)
in real pods, which find each other through the Kubernetes API with the Role the role grants; the role's
hazelcast_cluster step verifies the running members through the real kubelet's port-forward.

Hazelcast keeps its data in memory only (the role has no volumes), so "teardown and re-deploy keeps the data"
has nothing to prove here; the systems with volumes prove it in their own real-node tests."""
import ipaddress
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json, localkube, recreate_pod
from tests.realnodes.diagnostics import explain

PLAYBOOK = REPO / "playbooks" / "hazelcast.yml"
FACT_TASK = "Set hazelcast_cluster (members, size, version, service endpoint)"


def deploy(namespace, **variables):
    values = {"hazelcast_namespace": namespace, "hazelcast_name": "hz", "hazelcast_replicas": 3,
              "hazelcast_timeout": 240, "hazelcast_resources": {
                  "requests": {"cpu": "100m", "memory": "384Mi"}, "limits": {"memory": "384Mi"}}}
    values.update(variables)
    return run_playbook_json(PLAYBOOK, values)


@pytest.fixture(scope="module")
def cluster():
    namespace = "hz-real-" + uuid.uuid4().hex[:5]
    first = deploy(namespace)
    assert not first.failed, explain(first, [namespace])
    yield namespace, first
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_members_form_one_cluster_over_the_pod_network(cluster, real_cluster):
    namespace, run = cluster
    fact = run.result(FACT_TASK)["ansible_facts"]["hazelcast_cluster"]
    assert fact["size"] == 3
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=hazelcast")["items"]
    pod_ips = sorted(p["status"]["podIP"] for p in pods)
    members = sorted(address.rsplit(":", 1)[0] for address in fact["member_addresses"])
    assert members == pod_ips, "members announce their real pod addresses"
    cluster_cidr = ipaddress.ip_network(real_cluster.plan.cluster_cidr)
    assert all(ipaddress.ip_address(a) in cluster_cidr for a in pod_ips)
    assert len({p["spec"]["nodeName"] for p in pods}) == 3, "anti-affinity spreads members over the nodes"


def test_second_run_changes_nothing(cluster):
    namespace, _first = cluster
    again = deploy(namespace)
    assert not again.failed and again.changed == 0, again


@pytest.mark.fault
def test_deleted_member_is_healed(cluster):
    namespace, _first = cluster
    recreate_pod(namespace, "hz-1", timeout=180)
    healed = deploy(namespace)
    assert not healed.failed and healed.changed == 0, healed
    assert healed.result(FACT_TASK)["ansible_facts"]["hazelcast_cluster"]["size"] == 3


@pytest.mark.fault
def test_kubelet_restart_is_harmless(cluster):
    namespace, _first = cluster
    before = {p["metadata"]["name"]: (p["metadata"]["uid"], p["status"]["containerStatuses"][0]["restartCount"])
              for p in kubectl_json("get", "pods", "-n", namespace)["items"]}
    node = kubectl_json("get", "pod", "hz-0", "-n", namespace)["spec"]["nodeName"]
    restarted = localkube("restart", "kubelet-" + node, check=False)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    kubectl("wait", "--for=condition=Ready", "node/" + node, "--timeout=60s")
    again = deploy(namespace)
    assert not again.failed and again.changed == 0, again
    after = {p["metadata"]["name"]: (p["metadata"]["uid"], p["status"]["containerStatuses"][0]["restartCount"])
             for p in kubectl_json("get", "pods", "-n", namespace)["items"]}
    assert after == before, "the members kept running through their node's kubelet restart"


def test_broken_configuration_path_fails_fast_with_the_containers_own_words():
    """KWOK would report these pods Ready; on a real node the JVM cannot find its configuration and exits."""
    namespace = "hz-broken-" + uuid.uuid4().hex[:5]
    try:
        broken = deploy(namespace, hazelcast_replicas=1, hazelcast_timeout=180,
                        hazelcast_java_opts="-Dhazelcast.config=/opt/hazelcast/config/missing.yaml")
        assert broken.failed, broken
        assert "CrashLoopBackOff" in broken.messages or "Error" in broken.messages, broken
        assert "missing.yaml" in broken.messages, "the failure quotes the container's last log lines"
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
