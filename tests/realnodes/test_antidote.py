# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The antidote role on real nodes: its StatefulSets run the image of tools/images/recipes/antidote.py (built
from the same AntidoteDB 0.2.2 release as the loopback tier), the nodes of a DC find each other by their DNS
names, createDC and connectDCs go through the real kubelet's port-forward, and a marker written on each DC
is read on the other. Data lives on local volumes, and survives a teardown and re-deploy although every pod
comes back with another address (the init container forgets the DCs that no longer answer, docs/antidote.md)."""
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from plugins.module_utils.antidote.pb import AntidoteClient
from tests.helpers.cluster import kubectl, kubectl_json, port_forward, recreate_pod
from tests.realnodes.diagnostics import explain
from tests.realnodes.volumes import LocalVolumes

PLAYBOOK = REPO / "playbooks" / "antidote.yml"
TEARDOWN = REPO / "playbooks" / "teardown.yml"
FACTS = "Return antidote_dcs"


@pytest.fixture(scope="module")
def antidote(real_cluster):
    volumes = LocalVolumes(real_cluster)
    values = {"antidote_namespace": "antidote-" + uuid.uuid4().hex[:5], "antidote_replicas": 2,
              "antidote_datacenters": [{"name": "dc1"}, {"name": "dc2"}], "antidote_storage_class": volumes.name,
              "antidote_client_service_type": "ClusterIP", "antidote_wait_timeout": 420}
    yield values
    kubectl("delete", "namespace", values["antidote_namespace"], "--wait=false", check=False)
    volumes.remove()


def dcs(run):
    return run.result(FACTS)["ansible_facts"]["antidote_dcs"]


@pytest.fixture(scope="module")
def first(antidote):
    run = run_playbook_json(PLAYBOOK, antidote, timeout=1200)
    assert not run.failed, explain(run, [antidote["antidote_namespace"]])
    return run


def test_dcs_form_connect_and_replicate(first):
    found = dcs(first)
    assert sorted(found) == ["dc1", "dc2"]
    for name, other in (("dc1", "dc2"), ("dc2", "dc1")):
        assert found[name]["dc_id"], found[name]
        assert other in (found[name]["replicated_to"] or {}), found[name]


def test_second_run_changes_nothing(first, antidote):
    again = run_playbook_json(PLAYBOOK, antidote, timeout=1200)
    assert not again.failed and again.changed == 0, again


@pytest.mark.fault
def test_a_deleted_node_is_healed_and_the_dcs_reconnected_to_its_new_address(first, antidote):
    """A recreated pod comes back with another IP: the other DC must learn it (connectDCs again), so the next
    run changes exactly that, proves replication again, and the run after it changes nothing."""
    recreate_pod(antidote["antidote_namespace"], "antidote-dc1-1", timeout=300)
    healed = run_playbook_json(PLAYBOOK, antidote, timeout=1200)
    assert not healed.failed, healed
    assert [t for t in healed.changed_tasks() if "Connect the data centres" not in t] == [], healed
    assert "dc2" in (dcs(healed)["dc1"]["replicated_to"] or {}), dcs(healed)["dc1"]
    settled = run_playbook_json(PLAYBOOK, antidote, timeout=1200)
    assert not settled.failed and settled.changed == 0, settled


def test_a_memory_limit_too_small_for_the_vm_fails_with_the_reason(first, antidote):
    """KWOK runs any limit; a real node kills the Erlang VM that outgrows 48Mi, and the role must say so."""
    namespace = "antidote-small-" + uuid.uuid4().hex[:4]
    try:
        small = run_playbook_json(PLAYBOOK, dict(
            antidote, antidote_namespace=namespace, antidote_replicas=1, antidote_datacenters=[{"name": "dc1"}],
            antidote_wait_timeout=180,
            antidote_resources={"requests": {"cpu": "100m", "memory": "48Mi"}, "limits": {"memory": "48Mi"}}),
            timeout=600)
        assert small.failed, small
        assert "OOMKilled" in small.stdout, small.stdout[-3000:]
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def register(namespace, pod, key, value=None):
    """Write `value` to the register `key` through the pod's protocol port, or read it (value None)."""
    with port_forward(namespace, pod, 8087) as port, AntidoteClient("127.0.0.1", port, timeout=30) as client:
        if value is None:
            return client.read_register(b"realnodes", key)
        client.write_register(b"realnodes", key, value)
        return value


@pytest.mark.fault
def test_teardown_and_redeploy_keep_the_data_although_every_pod_has_another_address(first, antidote):
    """AntidoteDB 0.2.2 alone cannot start again here: each node would reconnect to the DCs stored in its data
    at their old addresses and exit when none answers. The role's init container forgets those DCs, the
    role's connect step reconnects them, and what was written before the teardown is read in both DCs."""
    namespace = antidote["antidote_namespace"]
    key, value = uuid.uuid4().hex.encode(), uuid.uuid4().hex.encode()
    register(namespace, "antidote-dc1-0", key, value)
    down = run_playbook_json(TEARDOWN, {"datastores_systems": ["antidote"], "antidote_namespace": namespace},
                             timeout=600)
    assert not down.failed, down
    assert len(kubectl_json("get", "pvc", "-n", namespace)["items"]) == 4, "teardown without purge keeps the claims"
    again = run_playbook_json(PLAYBOOK, antidote, timeout=1200)
    assert not again.failed, explain(again, [namespace])
    forgot = kubectl("logs", "-n", namespace, "antidote-dc1-0", "-c", "forget-unreachable-dcs").stdout
    assert "stored DCs answer" in forgot, forgot
    assert all(register(namespace, pod, key) == value for pod in ("antidote-dc1-1", "antidote-dc2-0")), (
        "the register written before the teardown, read in both DCs")
    assert sorted(dcs(again)) == ["dc1", "dc2"] and "dc1" in (dcs(again)["dc2"]["replicated_to"] or {}), dcs(again)
