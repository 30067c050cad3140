# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""antidote_dc and antidote_connect as users call them: ad-hoc, one DC or several, port-forward or direct."""
import json
import time

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.cluster import apply, forward_pod_ports, kubectl, kubectl_json
from tests.standins.antidote_standin import AntidoteStandin

pytestmark = pytest.mark.localkube
CREATE_DC, CONNECT_TO_DCS = 129, 131


def statefulset(namespace, name, replicas):
    labels = {"app.kubernetes.io/name": "antidote", "app.kubernetes.io/instance": name}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "serviceName": name, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "antidote",
                                                           "image": "antidotedb/antidote:0.2.2"}]}}}}


@pytest.fixture
def standin():
    with AntidoteStandin(dcs=2, nodes=2) as running:
        yield running


def test_antidote_dc_reads_the_statefulset_and_goes_through_port_forward(namespace, standin):
    _node, pb_port, metrics_port = standin.manager("dc1")
    forward_pod_ports(namespace, "antidote-dc1-0", {8087: pb_port, 3001: metrics_port})
    apply(statefulset(namespace, "antidote-dc1", 2))
    kubectl("wait", "--for=condition=Ready", "pod/antidote-dc1-0", "-n", namespace, "--timeout=60s")
    args = {"namespace": namespace, "statefulset": "antidote-dc1", "timeout": 30}

    rc, result = run_module("stateful.datastores.antidote_dc", args, check=True)
    assert rc == 0, result
    assert result["changed"] is True and standin.requests_with_code(CREATE_DC) == 0
    assert result["dcs"][0]["nodes"] == standin.node_names("dc1")

    rc, result = run_module("stateful.datastores.antidote_dc", args)
    assert rc == 0, result
    entry = result["dcs"][0]
    assert (result["changed"], entry["name"], entry["members_before"], entry["members"]) == (True, "antidote-dc1", 1, 2)
    assert entry["reached"] == "pod {0}/antidote-dc1-0 port 8087 through port-forward".format(namespace)
    assert standin.members("dc1") == standin.node_names("dc1")

    rc, result = run_module("stateful.datastores.antidote_dc", args)
    assert rc == 0 and result["changed"] is False, result
    assert standin.requests_with_code(CREATE_DC) == 1


def test_antidote_dc_names_the_dc_and_the_missing_pod(namespace, standin):
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


def test_antidote_connect_at_direct_addresses_records_in_a_configmap(namespace, standin):
    dcs = []
    for dc in ("dc1", "dc2"):
        node, pb_port, metrics_port = standin.manager(dc)
        dcs.append({"name": dc, "endpoint": "127.0.0.1:{0}".format(pb_port),
                    "metrics_endpoint": "127.0.0.1:{0}".format(metrics_port)})
    rc, result = run_module("stateful.datastores.antidote_dc", {"dcs": [
        {"name": entry["name"], "endpoint": entry["endpoint"], "nodes": standin.node_names(entry["name"])}
        for entry in dcs]})
    assert rc == 0 and result["changed"] is True, result["msg"] if rc else result

    args = {"namespace": namespace, "dcs": dcs, "record_configmap": "links", "timeout": 20}
    rc, result = run_module("stateful.datastores.antidote_connect", args)
    assert rc == 0, result
    assert (result["changed"], result["connected"], result["record_written"]) == (True, True, True)
    assert result["dc_count"] == {"dc1": 2, "dc2": 2} and standin.receives_from("dc1", "dc2")
    assert result["record_configmap"] == namespace + "/links"
    stored = kubectl_json("get", "configmap", "links", "-n", namespace)
    assert json.loads(stored["data"]["record.json"])["dcs"]["dc2"]["members"] == 2
    assert stored["metadata"]["labels"]["app.kubernetes.io/component"] == "connection-record"

    rc, result = run_module("stateful.datastores.antidote_connect", args)
    assert rc == 0 and result["changed"] is False, result
    assert standin.requests_with_code(CONNECT_TO_DCS) == 2


def test_a_refused_port_forward_fails_at_once_and_says_which_permission(namespace, standin):
    """Credentials without pods/portforward: no retrying until the deadline, the permission named."""
    _node, pb_port, metrics_port = standin.manager("dc1")
    forward_pod_ports(namespace, "antidote-dc1-0", {8087: pb_port, 3001: metrics_port})
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
    assert standin.requests_with_code(CREATE_DC) == 0
