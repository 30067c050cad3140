# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The atomix role (Atomix 1.x, its default generation) on real nodes: the controllers and the Raft nodes run in
real pods from the images of tools/images/recipes/atomix_*.py. The raft controller dials every Raft pod over the
pod network, and only what the nodes answer makes replicas, partitions and the store Ready: nothing here is
played by a stand-in. The Raft nodes run as a non-root user on local volumes that start root-owned, as a fresh
cloud disk does."""
import os
import pathlib
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json, recreate_pod
from tests.realnodes.diagnostics import explain
from tests.realnodes.volumes import LocalVolumes

PLAYBOOK = REPO / "playbooks" / "atomix.yml"
NODE_GROUP = 65532


@pytest.fixture(scope="module")
def atomix(real_cluster):
    volumes = LocalVolumes(real_cluster)
    values = {"atomix_namespace": "atomix-" + uuid.uuid4().hex[:5], "atomix_storage_class": volumes.name,
              "atomix_partitions": 2, "atomix_wait_timeout": 420}
    first = deploy(values)
    yield values, first
    kubectl("delete", "namespace", values["atomix_namespace"], "--wait=false", check=False)
    volumes.remove()


def deploy(values, **more):
    return run_playbook_json(PLAYBOOK, dict(values, **more), timeout=900)


def items(kind, namespace):
    return kubectl_json("get", kind, "-n", namespace)["items"]


def test_every_replica_of_every_partition_is_ready_on_real_pods(atomix, real_cluster):
    values, first = atomix
    assert not first.failed, explain(first, [values["atomix_namespace"]])
    namespace = values["atomix_namespace"]
    replicas = items("raftreplicas.raft.atomix.io", namespace)
    assert len(replicas) == 2 * 3 and {r["status"]["state"] for r in replicas} == {"Ready"}, replicas
    partitions = items("raftpartitions.raft.atomix.io", namespace)
    assert sorted((p["metadata"]["name"], p["status"]["state"]) for p in partitions) == [
        ("raft-1", "Ready"), ("raft-2", "Ready")]
    assert all(p["status"].get("leader") for p in partitions), "each partition elected a leader"
    pods = [p for p in items("pods", namespace) if p["metadata"]["name"].startswith("raft-")]
    assert sorted(p["metadata"]["name"] for p in pods) == ["raft-0", "raft-1", "raft-2"]
    assert len({p["spec"]["nodeName"] for p in pods}) >= 2
    restarts = {p["metadata"]["name"]: [c["restartCount"] for c in p["status"]["containerStatuses"]] for p in pods}
    assert all(counts == [0] for counts in restarts.values()), "the nodes found their data directory writable"


def volume_roots(namespace):
    """The host directories of the Raft nodes' local volumes, by ordinal."""
    for ordinal in range(3):
        claim = kubectl_json("get", "pvc", "atomix-data-raft-{}".format(ordinal), "-n", namespace)
        yield kubectl_json("get", "pv", claim["spec"]["volumeName"])["spec"]["local"]["path"]


def raft_files(namespace):
    return [os.path.join(top, name) for root in volume_roots(namespace) for top, _dirs, files in os.walk(root)
            for name in files]


def raft_state(namespace):
    """Per volume: the NodeHost IDs dragonboat wrote, and the Raft log directories (relative paths)."""
    state = {}
    for root in volume_roots(namespace):
        walked = list(os.walk(root))
        ids = [pathlib.Path(top, "NODEHOST.ID").read_bytes() for top, _dirs, files in walked
               if "NODEHOST.ID" in files]
        logs = sorted(os.path.relpath(top, root) for top, _dirs, _files in walked
                      if os.path.basename(top).startswith("logdb-"))
        state[root] = (ids, logs)
    return state


def test_the_raft_logs_are_on_the_volumes_written_by_the_non_root_nodes(atomix):
    values, _first = atomix
    namespace = values["atomix_namespace"]
    for root in volume_roots(namespace):
        assert os.stat(root).st_gid == NODE_GROUP, "kubelet applied the fsGroup the role added"
    written = raft_files(namespace)
    assert written and all(os.stat(path).st_uid == NODE_GROUP for path in written), written


def test_second_run_changes_nothing(atomix):
    values, _first = atomix
    again = deploy(values)
    assert not again.failed and again.changed == 0, again


@pytest.mark.fault
def test_a_deleted_raft_pod_is_healed_by_the_next_run(atomix):
    """The replaced pod comes back with another UID (and often another IP): the raft controller re-bootstraps its
    replica and, in v0.7.0, may keep the old pod's Watch and leave that replica NotReady for good. The next run
    ends with every replica Ready (restarting the raft controller when one is stuck), and the run after it
    changes nothing."""
    values, _first = atomix
    namespace = values["atomix_namespace"]
    recreate_pod(namespace, "raft-1", timeout=300)
    healed = deploy(values)
    assert not healed.failed, healed
    assert [t for t in healed.changed_tasks() if "Restart the raft controller" not in t] == [], healed
    replicas = items("raftreplicas.raft.atomix.io", namespace)
    assert {r["metadata"]["name"]: r["status"]["state"] for r in replicas} == {
        "raft-{}-{}".format(p, m): "Ready" for p in (1, 2) for m in (1, 2, 3)}
    settled = deploy(values)
    assert not settled.failed and settled.changed == 0, settled


def test_a_security_context_the_image_cannot_honour_fails_with_the_kubelets_reason(atomix, real_cluster):
    """runAsNonRoot without runAsUser: KWOK runs such pods, a real kubelet refuses to start a container whose
    image runs as root. The role must fail fast on it, naming the reason, not time out on the Raft replicas."""
    volumes = LocalVolumes(real_cluster)
    namespace = "atomix-broken-" + uuid.uuid4().hex[:5]
    try:
        broken = deploy({"atomix_namespace": namespace, "atomix_storage_class": volumes.name,
                         "atomix_deploy_controllers": False, "atomix_wait_timeout": 420,
                         "atomix_node_security_context": {"runAsNonRoot": True}})
        assert broken.failed, broken
        assert "CreateContainerConfigError" in broken.messages, broken
        assert "container has runAsNonRoot and image will run as root" in broken.messages, broken
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        volumes.remove()


def test_teardown_completes_while_the_controllers_run_and_keeps_the_claims(atomix):
    values, _first = atomix
    namespace = values["atomix_namespace"]
    down = deploy(values, atomix_state="absent")
    assert not down.failed, down
    assert items("raftclusters.raft.atomix.io", namespace) == []
    assert [p["metadata"]["name"] for p in items("pods", namespace)] == []
    assert len(items("pvc", namespace)) == 3, "teardown without purge keeps the claims"


@pytest.mark.fault
def test_a_redeploy_onto_the_kept_claims_resumes_the_raft_data(atomix):
    """After the teardown above: the role deploys again onto the claims it kept and every replica becomes Ready
    on the data of before: each volume keeps the NodeHost ID dragonboat wrote at the node's first start (a
    reformatted directory gets a new one) and every Raft log directory. The log files themselves are rotated
    at each start."""
    values, _first = atomix
    namespace = values["atomix_namespace"]
    before = raft_state(namespace)
    again = deploy(values)
    assert not again.failed, explain(again, [namespace])
    replicas = items("raftreplicas.raft.atomix.io", namespace)
    assert len(replicas) == 2 * 3 and {r["status"]["state"] for r in replicas} == {"Ready"}, replicas
    assert all(ids and logs for ids, logs in before.values()), before
    assert raft_state(namespace) == before
