# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The antidote role on localkube, its admin steps answered by the Antidote stand-in.

Three DCs of three nodes. KWOK runs the pods (scheduled, given IPs, Ready); a KWOK PortForward per
pod sends port-forwards of its ports 8087 and 3001 to that node's ports in the in-process stand-in,
so antidote_dc and antidote_connect go the same way as against a real cluster: through the API
server's port-forward. The tests run in file order and share one deployment: validation first
(nothing may be created), then a check-mode run on the empty namespace, the first run, the second
(changed=0), a pod that moves, a refused scale-down and a DC the others cannot reach.
"""
import base64
import json
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import apply, forward_pod_ports, kubectl, kubectl_json, recreate_pod
from tests.standins.antidote_standin import AntidoteStandin

pytestmark = pytest.mark.localkube

PLAYBOOK = REPO / "playbooks" / "antidote.yml"
BAD_INPUT = REPO / "tests" / "integration" / "antidote" / "bad_input.yml"
DC_NAMES = ("dc1", "dc2", "dc3")
NODES = 3
CREATE_DC, CONNECT_TO_DCS = 129, 131
CONNECT_TASK = "Connect the data centres to each other (connectDCs when the record or the counters differ)"
CREATE_TASK = "Form every data centre from its nodes (createDC where membership must change)"


class Deployment(object):
    def __init__(self, namespace, storage_class, standin):
        self.namespace = namespace
        self.storage_class = storage_class
        self.standin = standin

    def role_vars(self, **extra):
        values = {
            "antidote_namespace": self.namespace,
            "antidote_datacenters": [{"name": name} for name in DC_NAMES],
            "antidote_replicas": NODES,
            "antidote_storage_class": self.storage_class,
            "antidote_client_service_type": "NodePort",
            "antidote_wait_timeout": 120,
            "antidote_dc_timeout": 60,
            "antidote_connect_timeout": 60,
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


def _local_volumes(storage_class, count_per_node):
    nodes = [node["metadata"]["name"] for node in kubectl_json("get", "nodes")["items"]]
    volumes = []
    for node in nodes:
        for index in range(count_per_node):
            volumes.append({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": "{0}-{1}-{2}".format(storage_class, node, index)},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                         "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class,
                         "local": {"path": "/mnt/localkube/{0}-{1}".format(storage_class, index)},
                         "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                             {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}})
    return volumes


@pytest.fixture(scope="module")
def deployment():
    namespace = "t-antidote-role-" + uuid.uuid4().hex[:6]
    storage_class = namespace + "-local"
    volumes = _local_volumes(storage_class, 4)
    standin = AntidoteStandin(dcs=len(DC_NAMES), nodes=NODES).start()
    try:
        kubectl("create", "namespace", namespace)
        apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": storage_class},
               "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
               "reclaimPolicy": "Retain"})
        apply({"apiVersion": "v1", "kind": "List", "items": volumes})
        # Default stand-in layout: DC dcK's nodes are antidote@antidote-dcK-<i>.antidote-dcK, the names the
        # role derives for StatefulSet antidote-dcK and its headless Service.
        for dc in standin.describe()["dcs"]:
            for node in dc["nodes"]:
                pod = node["name"].split("@", 1)[1].split(".", 1)[0]
                forward_pod_ports(namespace, pod, {8087: node["pb_port"], 3001: node["metrics_port"]})
        yield Deployment(namespace, storage_class, standin)
    finally:
        standin.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        kubectl("delete", "storageclass", storage_class, "--wait=false", check=False)
        kubectl("delete", "persistentvolume", *[volume["metadata"]["name"] for volume in volumes], "--wait=false",
                check=False)


BAD_CASES = [
    ("uppercase DC name", {"antidote_datacenters": [{"name": "DC1"}]},
     "antidote_datacenters[0].name 'DC1' is not a DNS-1123 label"),
    ("underscore in DC name", {"antidote_datacenters": [{"name": "dc1"}, {"name": "dc_2"}]},
     "antidote_datacenters[1].name 'dc_2' is not a DNS-1123 label"),
    ("DC name too long", {"antidote_datacenters": [{"name": "d" * 50}]},
     "is too long: the StatefulSet name 'antidote-ddd"),
    ("duplicate DC names", {"antidote_datacenters": [{"name": "dc1"}, {"name": "dc2"}, {"name": "dc1"}]},
     "the DC name 'dc1' is used 2 times (entries 0, 2)"),
    ("ring size not a power of two", {"antidote_ring_size": 12},
     "antidote_ring_size must be a power of two"),
    ("ring sizes differ", {"antidote_datacenters": [{"name": "dc1", "ring_size": 16}, {"name": "dc2", "ring_size": 32}]},
     "every DC needs the same ring size"),
    ("replicas 0", {"antidote_replicas": 0}, "antidote_replicas must be an integer >= 1"),
    ("replicas 0 in one DC", {"antidote_datacenters": [{"name": "dc1", "replicas": 0}]},
     "antidote_datacenters[0].replicas must be an integer >= 1"),
    ("more nodes than partitions", {"antidote_ring_size": 2, "antidote_replicas": 3},
     "replicas 3 is more than the ring size 2"),
    ("no DCs", {"antidote_datacenters": []}, "antidote_datacenters must be a non-empty list"),
    ("unknown storage class", {"antidote_storage_class": "no-such-class"},
     "antidote_storage_class 'no-such-class' is not a StorageClass of this cluster"),
    ("replicas of the wrong type", {"antidote_replicas": "three"}, "antidote_replicas"),
    ("DC list of the wrong type", {"antidote_datacenters": "dc1"}, "antidote_datacenters"),
    ("DC entry without a name", {"antidote_datacenters": [{"replicas": 2}]}, "name"),
    ("unknown client service type", {"antidote_client_service_type": "External"}, "antidote_client_service_type"),
    ("bad namespace", {"antidote_namespace": "Not_A_Namespace"}, "antidote_namespace must be a DNS-1123 label"),
    ("bad storage size", {"antidote_storage_size": "lots"}, "antidote_storage_size must be a positive"),
]


VALIDATION_TASKS = ("Validating arguments against arg spec 'main'", "Fail on values the argument specs cannot check",
                    "Fail when the StorageClass does not exist")


def test_bad_input_fails_before_anything_is_created(deployment):
    base = deployment.role_vars(antidote_ring_size=16)
    cases = [{"name": name, "vars": values} for name, values, _expected in BAD_CASES]
    run = run_playbook_json(BAD_INPUT, {"cases": cases, "base": base})
    assert run.rc == 0, run
    outcomes = dict((item["case"], item) for item in run.result("Report the outcomes")["outcomes"])
    for name, _values, expected in BAD_CASES:
        outcome = outcomes[name]
        assert outcome["failed"], "case {0!r} passed validation".format(name)
        assert expected in outcome["msg"], (name, outcome)
        assert outcome["task"].startswith(VALIDATION_TASKS), (name, outcome)
    assert deployment.objects() == [], "validation let the role create objects"
    assert deployment.standin.stats["requests"] == 0


def test_check_mode_on_an_empty_namespace_creates_nothing(deployment):
    run = deployment.run(check=True)
    assert run.rc == 0, run
    assert run.result("Apply the namespace, Services and StatefulSets and wait for every data centre")["changed"] is True
    assert "Check mode: not every data centre is running yet" in run.result(
        "Report the admin steps that check mode skipped")["msg"]
    assert deployment.objects() == []
    assert deployment.standin.stats["requests"] == 0


def test_first_run_converges(deployment):
    standin = deployment.standin
    run = deployment.run()
    assert run.rc == 0, run
    assert CREATE_TASK in changed(run) and CONNECT_TASK in changed(run), run
    for dc in DC_NAMES:
        nodes = ["antidote@antidote-{0}-{1}.antidote-{0}".format(dc, i) for i in range(NODES)]
        assert standin.members(dc) == nodes
        assert standin.dc_count(dc) == 3
        assert all(standin.receives_from(dc, other) for other in DC_NAMES if other != dc)
    assert standin.requests_with_code(CREATE_DC) == 3 and standin.requests_with_code(CONNECT_TO_DCS) == 3
    created = run.result(CREATE_TASK)["dcs"]
    assert [(dc["name"], dc["members_before"], dc["members"]) for dc in created] == [(n, 1, 3) for n in DC_NAMES]
    assert all("through port-forward" in dc["reached"] for dc in created)

    facts = run.result("Return antidote_dcs")["ansible_facts"]["antidote_dcs"]
    assert sorted(facts) == list(DC_NAMES)
    dc1 = facts["dc1"]
    assert (dc1["members"], dc1["dc_count"], dc1["statefulset"]) == (3, 3, "antidote-dc1")
    assert dc1["client_service"]["type"] == "NodePort" and dc1["client_service"]["node_port"] > 0
    assert dc1["endpoints"]["client"] == "antidote-dc1-client.{0}.svc:8087".format(deployment.namespace)
    assert dc1["dc_id"].startswith("{'antidote@antidote-dc1-0.antidote-dc1'")

    record = deployment.record()
    assert sorted(record["dcs"]) == list(DC_NAMES) and record["dcs"]["dc2"]["members"] == 3
    sts = kubectl_json("get", "statefulset", "antidote-dc1", "-n", deployment.namespace)
    container = sts["spec"]["template"]["spec"]["containers"][0]
    env = dict((item["name"], item.get("value")) for item in container["env"])
    # An empty value is stored without a value field: the container gets SHORT_NAME_PREFIX="" (long names).
    assert env["NODE_NAME"] == "antidote@$(HOSTNAME).antidote-dc1" and env["SHORT_NAME_PREFIX"] in ("", None)
    assert env["RING_SIZE"] == "16" and env["ERLANG_DIST_PORT_MIN"] == env["ERLANG_DIST_PORT_MAX"] == "9100"
    headless = kubectl_json("get", "service", "antidote-dc1", "-n", deployment.namespace)["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    cookie = kubectl_json("get", "secret", "antidote-cookie", "-n", deployment.namespace)["data"]["cookie"]
    assert cookie not in run.stdout and cookie not in run.stderr
    assert base64.b64decode(cookie).decode() not in run.stdout


def test_second_run_changes_nothing(deployment):
    standin = deployment.standin
    before = standin.requests_with_code(CREATE_DC), standin.requests_with_code(CONNECT_TO_DCS)
    run = deployment.run()
    assert run.rc == 0, run
    assert changed(run) == [], run
    assert (standin.requests_with_code(CREATE_DC), standin.requests_with_code(CONNECT_TO_DCS)) == before


def _pod_ip(namespace, pod):
    return kubectl_json("get", "pod", pod, "-n", namespace)["status"].get("podIP")


def test_a_pod_with_a_new_ip_is_reconnected_on_the_next_run(deployment):
    standin, namespace = deployment.standin, deployment.namespace
    old_ip = _pod_ip(namespace, "antidote-dc2-1")
    recreate_pod(namespace, "antidote-dc2-1")
    kubectl("rollout", "status", "statefulset/antidote-dc2", "-n", namespace, "--timeout=60s")
    new_ip = _pod_ip(namespace, "antidote-dc2-1")
    if new_ip == old_ip:  # KWOK may hand the freed address out again; the node's descriptor moves either way
        new_ip = "10.244.250.7"
    standin.set_node_ip("antidote@antidote-dc2-1.antidote-dc2", new_ip)
    assert not standin.receives_from("dc1", "dc2")
    record_before = deployment.record()

    check = deployment.run(check=True)
    assert check.rc == 0, check
    assert changed(check) == [CONNECT_TASK], check
    assert check.result(CONNECT_TASK)["reasons"]["stale"] == ["dc2"]
    assert not standin.receives_from("dc1", "dc2") and deployment.record() == record_before

    run = deployment.run()
    assert run.rc == 0, run
    assert changed(run) == [CONNECT_TASK], run
    assert run.result(CONNECT_TASK)["reasons"]["stale"] == ["dc2"]
    assert standin.receives_from("dc1", "dc2") and standin.receives_from("dc3", "dc2")
    publishers = deployment.record()["dcs"]["dc2"]["publishers"]
    assert any(address.startswith(new_ip + ":") for node in publishers for address in node)


def test_scale_down_is_refused_without_the_flag(deployment):
    datacenters = [{"name": "dc1", "replicas": 2}, {"name": "dc2"}, {"name": "dc3"}]
    run = deployment.run(antidote_datacenters=datacenters)
    assert run.rc != 0
    message = " ".join(run.failure_messages())
    assert "Refusing to scale down data centre(s) dc1: 3 -> 2" in message and "antidote_allow_scale_down" in message
    assert kubectl_json("get", "statefulset", "antidote-dc1", "-n", deployment.namespace)["spec"]["replicas"] == 3


def test_a_dc_the_others_cannot_reach_fails_with_its_name(deployment):
    standin = deployment.standin
    standin.block_dc("dc3")
    standin.set_node_ip("antidote@antidote-dc3-0.antidote-dc3", "10.244.251.9")  # dc3 moved where nobody routes
    run = deployment.run(antidote_connect_timeout=10)
    assert run.rc != 0
    message = run.result(CONNECT_TASK)["msg"]
    assert message.startswith("DC dc3 is unreachable from dc1, dc2"), message
    assert "8085 and 8086" in message
