# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""antidote_dc and antidote_connect as users call them, against real AntidoteDB 0.2.2 nodes.

The nodes run on loopback (tests/servers/antidote) under the names the modules derive from the
StatefulSets; KWOK runs the pods, and a KWOK PortForward per pod sends the API server's
port-forward of 8087/3001 to the real node, so the modules go the way they go in a real cluster.
"""
import json
import threading
import time

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.cluster import apply, kubectl, kubectl_json
from tests.integration.antidote.conftest import counted_dcs, dc_id, forward_every_pod, ring_members
from tests.servers.antidote import AntidoteNodes

pytestmark = pytest.mark.localkube


def statefulset(namespace, name, replicas):
    labels = {"app.kubernetes.io/name": "antidote", "app.kubernetes.io/instance": name}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "serviceName": name, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "antidote",
                                                           "image": "antidotedb/antidote:0.2.2"}]}}}}


def test_antidote_dc_reads_the_statefulset_and_goes_through_port_forward(namespace, real_nodes):
    forward_every_pod(namespace, real_nodes)
    apply(statefulset(namespace, "antidote-dc1", 2))
    kubectl("wait", "--for=condition=Ready", "pod/antidote-dc1-0", "-n", namespace, "--timeout=60s")
    args = {"namespace": namespace, "statefulset": "antidote-dc1", "timeout": 120}

    rc, result = run_module("stateful.datastores.antidote_dc", args, check=True)
    assert rc == 0, result
    assert result["changed"] is True and ring_members(real_nodes, "dc1") == 1
    assert result["dcs"][0]["nodes"] == real_nodes.node_names("dc1")

    rc, result = run_module("stateful.datastores.antidote_dc", args)
    assert rc == 0, result
    entry = result["dcs"][0]
    assert (result["changed"], entry["name"], entry["members_before"], entry["members"]) == (True, "antidote-dc1", 1, 2)
    assert entry["reached"] == "pod {0}/antidote-dc1-0 port 8087 through port-forward".format(namespace)
    assert ring_members(real_nodes, "dc1") == 2
    formed = dc_id(real_nodes, "dc1")

    rc, result = run_module("stateful.datastores.antidote_dc", args)
    assert rc == 0 and result["changed"] is False, result
    assert dc_id(real_nodes, "dc1") == formed


def test_antidote_dc_names_the_dc_and_the_missing_pod(namespace):
    args = {"namespace": namespace, "dcs": [{"name": "eu", "pod": "antidote-eu-0",
                                             "nodes": ["antidote@antidote-eu-0.antidote-eu"]}], "timeout": 2}
    rc, result = run_module("stateful.datastores.antidote_dc", args)
    assert rc != 0
    assert "on DC eu (pod {0}/antidote-eu-0 port 8087 through port-forward)".format(namespace) in result["msg"]
    assert "pod {0}/antidote-eu-0 does not exist".format(namespace) in result["msg"]


def test_antidote_dc_refuses_two_ways_of_naming_one_dc(namespace):
    rc, result = run_module("stateful.datastores.antidote_dc", {"namespace": namespace, "statefulset": "a",
                                                                "dcs": [{"name": "b", "statefulset": "b"}]})
    assert rc != 0 and "mutually exclusive" in result["msg"] and "dcs" in result["msg"], result


def _direct(nodes):
    dcs = []
    for dc in ("dc1", "dc2"):
        _node, pb_port, metrics_port = nodes.manager(dc)
        dcs.append({"name": dc, "endpoint": "127.0.0.1:{0}".format(pb_port),
                    "metrics_endpoint": "127.0.0.1:{0}".format(metrics_port)})
    return dcs


def test_antidote_connect_proves_replication_and_records_in_a_configmap(namespace, real_nodes):
    dcs = _direct(real_nodes)
    rc, result = run_module("stateful.datastores.antidote_dc", {"timeout": 120, "dcs": [
        {"name": entry["name"], "endpoint": entry["endpoint"], "nodes": real_nodes.node_names(entry["name"])}
        for entry in dcs]})
    assert rc == 0 and result["changed"] is True, result["msg"] if rc else result

    args = {"namespace": namespace, "dcs": dcs, "record_configmap": "links", "timeout": 120}
    rc, result = run_module("stateful.datastores.antidote_connect", args)
    assert rc == 0, result
    assert (result["changed"], result["connected"], result["record_written"]) == (True, True, True)
    assert result["dc_count"] == {"dc1": 2, "dc2": 2}
    replication = result["replication"]
    assert replication["seen_after"]["dc1"].keys() == {"dc2"} and replication["seen_after"]["dc2"].keys() == {"dc1"}
    assert 0 <= replication["max_seconds"] < 120
    stored = kubectl_json("get", "configmap", "links", "-n", namespace)
    record = json.loads(stored["data"]["record.json"])
    assert record["dcs"]["dc2"]["members"] == 2
    assert all(member[0].startswith("127.0.0.2:") for member in record["dcs"]["dc1"]["publishers"])
    assert stored["metadata"]["labels"]["app.kubernetes.io/component"] == "connection-record"

    rc, again = run_module("stateful.datastores.antidote_connect", args)
    assert rc == 0 and again["changed"] is False, again
    assert again["reasons"] == {"added": [], "removed": [], "stale": [], "lagging": [], "unmeasured": []}
    assert again["replication"]["seen_after"]["dc2"].keys() == {"dc1"}

    # A restarted node reads antidote_dc_count 0 for about 10 s: not lagging, and nothing to change.
    real_nodes.restart("antidote@antidote-dc2-0.antidote-dc2")
    rc, after_restart = run_module("stateful.datastores.antidote_connect", args)
    assert rc == 0 and after_restart["changed"] is False, after_restart
    assert after_restart["dc_count"] == {"dc1": 2, "dc2": 2}
    assert after_restart["replication"]["seen_after"]["dc1"].keys() == {"dc2"}
    rc, dc_again = run_module("stateful.datastores.antidote_dc", {"timeout": 60, "dcs": [
        {"name": entry["name"], "endpoint": entry["endpoint"], "nodes": real_nodes.node_names(entry["name"])}
        for entry in dcs]})
    assert rc == 0 and dc_again["changed"] is False, dc_again


def test_a_dc_that_is_down_during_connect_is_named_and_nothing_is_recorded(namespace):
    """Real nodes: dc2 is killed after createDC, so connectDCs cannot reach it."""
    with AntidoteNodes(dcs=2, nodes=1) as nodes:
        dcs = _direct(nodes)
        for node in nodes.nodes.values():
            if node.dc == "dc2":
                node.kill()
        args = {"namespace": namespace, "dcs": dcs, "record_configmap": "links", "timeout": 15}
        rc, result = run_module("stateful.datastores.antidote_connect", args)
        assert rc != 0, result
        assert "dc2" in result["msg"] and "cannot connect to 127.0.0.1:{0}".format(nodes.manager("dc2")[1]) \
            in result["msg"], result["msg"]
        assert kubectl("get", "configmap", "links", "-n", namespace, check=False).returncode != 0
        assert counted_dcs(nodes, "dc1") < 2  # dc1 was never told about dc2


@pytest.mark.fault
def test_a_node_killed_during_create_dc_ends_in_a_clear_message_or_a_full_ring(namespace):
    """Real nodes: the second node of a 3-node DC is SIGKILLed while createDC runs."""
    with AntidoteNodes(dcs=1, nodes=3) as nodes:
        _name, pb_port, _metrics = nodes.manager("dc1")
        args = {"timeout": 30, "call_timeout": 20, "dcs": [
            {"name": "dc1", "endpoint": "127.0.0.1:{0}".format(pb_port), "nodes": nodes.node_names("dc1")}]}
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(
            zip(("rc", "result"), run_module("stateful.datastores.antidote_dc", args))))
        runner.start()
        victim = nodes.nodes["antidote@antidote-dc1-1.antidote-dc1"]
        manager = nodes.nodes[nodes.manager("dc1")[0]]
        joining = "Node '{0}' is joining my ring".format(victim.name)
        deadline = time.monotonic() + 60
        while joining not in manager.log_tail(400) and time.monotonic() < deadline and runner.is_alive():
            time.sleep(0.1)  # until createDC reached the victim (the manager logs the join)
        victim.kill()
        runner.join(timeout=120)
        assert not runner.is_alive()
        rc, result = outcome["rc"], outcome["result"]
        if rc == 0:
            assert result["dcs"][0]["members"] == 3, result
        else:
            # What the real server does depends on when the node dies. Killed after it joined: the ring
            # keeps it and the descriptor lists {badrpc,nodedown} for it. Killed before: every createDC
            # answers 'aborted'. Either way the module retries until the deadline and says why.
            assert "on DC dc1" in result["msg"], result["msg"]
            joined = "do not answer" in result["msg"] and "{badrpc,nodedown}" in result["msg"]
            aborted = "createDC on DC dc1" in result["msg"] and "Antidote answers 'aborted'" in result["msg"]
            assert joined or aborted, result["msg"]


def test_a_refused_port_forward_fails_at_once_and_says_which_permission(namespace, real_nodes):
    """Credentials without pods/portforward: no retrying until the deadline, the permission named."""
    forward_every_pod(namespace, real_nodes)
    apply(statefulset(namespace, "antidote-dc1", 1))
    kubectl("wait", "--for=condition=Ready", "pod/antidote-dc1-0", "-n", namespace, "--timeout=60s")
    kubectl("create", "serviceaccount", "no-forward", "-n", namespace)
    kubectl("create", "role", "read-only", "-n", namespace, "--verb=get,list", "--resource=pods,statefulsets")
    kubectl("create", "rolebinding", "read-only", "-n", namespace, "--role=read-only",
            "--serviceaccount={0}:no-forward".format(namespace))
    token = kubectl("create", "token", "no-forward", "-n", namespace, "--duration=10m").stdout.strip()
    config = kubectl_json("config", "view", "--minify")
    env = {"K8S_AUTH_KUBECONFIG": None, "KUBECONFIG": None, "K8S_AUTH_HOST": config["clusters"][0]["cluster"]["server"],
           "K8S_AUTH_API_KEY": token, "K8S_AUTH_SSL_CA_CERT": config["clusters"][0]["cluster"]["certificate-authority"]}

    started = time.monotonic()
    rc, result = run_module("stateful.datastores.antidote_dc",
                            {"namespace": namespace, "statefulset": "antidote-dc1", "timeout": 120}, env=env)
    took = time.monotonic() - started
    assert rc != 0, result
    assert "refused the port-forward (403)" in result["msg"], result["msg"]
    assert "'get' and 'create' on pods/portforward in namespace {0}".format(namespace) in result["msg"]
    assert took < 30, "failed after {:.1f}s instead of at once".format(took)
    assert ring_members(real_nodes, "dc1") == 1
