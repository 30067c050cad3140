# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The antidote role on localkube, its admin steps answered by real AntidoteDB 0.2.2 nodes.

Three DCs of three nodes. KWOK runs the pods (scheduled, given IPs, Ready); the real nodes run on
loopback under the names the role derives (antidote@antidote-dcK-i.antidote-dcK), and a KWOK
PortForward per pod sends port-forwards of its ports 8087 and 3001 to that node, so antidote_dc and
antidote_connect go the same way as against a real cluster: through the API server's port-forward.
The tests share one namespace and one set of nodes (`deployment`): validation and a check-mode run
need them before the first run (nothing may be created or joined); the first run is the fixture
`first_run`, made once for the tests that start from converged DCs: the second run (changed=0), a
run right after restarting nodes (changed=0) and a refused scale-down. Faults a loopback node cannot show (a
pod that comes back with a new IP, a DC whose inter-DC ports nobody reaches) are in
test_antidote_role_standin_faults.py.
"""
import base64
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json, local_storage
from tests.helpers.reliability import assert_no_secret_printed
from tests.integration.antidote.conftest import (
    CONNECT_TASK, RoleDeployment, changed, counted_dcs, dc_id, forward_every_pod, ring_members,
)
from tests.servers.antidote import AntidoteNodes

pytestmark = pytest.mark.localkube

BAD_INPUT = REPO / "tests" / "integration" / "antidote" / "bad_input.yml"
DC_NAMES = ("dc1", "dc2", "dc3")
NODES = 3
CREATE_TASK = "Form every data centre from its nodes (createDC where membership must change)"


class Deployment(RoleDeployment):
    def __init__(self, namespace, storage_class, nodes):
        super(Deployment, self).__init__(namespace, storage_class, DC_NAMES, NODES, admin_timeout=(240, 180))
        self.nodes = nodes

    def untouched(self):
        """No createDC took effect: every node is still its own one-member ring."""
        return all(ring_members(self.nodes, dc) == 1 for dc in DC_NAMES)


@pytest.fixture(scope="module")
def deployment():
    namespace = "t-antidote-role-" + uuid.uuid4().hex[:6]
    nodes = AntidoteNodes(dcs=len(DC_NAMES), nodes=NODES).start()
    try:
        with local_storage(namespace + "-local", 4) as storage_class:
            kubectl("create", "namespace", namespace)
            forward_every_pod(namespace, nodes)
            yield Deployment(namespace, storage_class, nodes)
    finally:
        print("antidote: real tier resident memory at the end: {0:.0f} MB".format(nodes.rss_bytes() / 1e6))
        nodes.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def first_run(deployment):
    """The role's first run on the namespace, made once."""
    return deployment.run()


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
     "antidote_storage_class 'no-such-class': no such StorageClass"),
    ("replicas of the wrong type", {"antidote_replicas": "three"}, "antidote_replicas"),
    ("DC list of the wrong type", {"antidote_datacenters": "dc1"}, "antidote_datacenters"),
    ("DC entry without a name", {"antidote_datacenters": [{"replicas": 2}]}, "name"),
    ("unknown client service type", {"antidote_client_service_type": "External"}, "antidote_client_service_type"),
    ("bad namespace", {"antidote_namespace": "Not_A_Namespace"}, "antidote_namespace must be a DNS label"),
    ("bad storage size", {"antidote_storage_size": "lots"}, "antidote_storage_size must be a positive"),
]


VALIDATION_TASKS = ("Validating arguments against arg spec 'main'", "Fail on values the argument specs cannot check",
                    "Check the connection, the namespace and the StorageClass before writing")


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
    assert deployment.untouched()


def test_check_mode_on_an_empty_namespace_creates_nothing(deployment):
    run = deployment.run(check=True)
    assert run.rc == 0, run
    assert run.result("Apply the namespace, Services and StatefulSets and wait for every data centre")["changed"] is True
    assert "Check mode: not every data centre is running yet" in run.result(
        "Report the admin steps that check mode skipped")["msg"]
    assert deployment.objects() == []
    assert deployment.untouched()


def test_first_run_converges(deployment, first_run):
    nodes = deployment.nodes
    run = first_run
    assert run.rc == 0, run
    assert CREATE_TASK in changed(run) and CONNECT_TASK in changed(run), run
    for dc in DC_NAMES:
        assert ring_members(nodes, dc) == NODES
        assert counted_dcs(nodes, dc) == 3
    connected = run.result(CONNECT_TASK)
    assert connected["dc_count"] == dict((dc, 3) for dc in DC_NAMES)
    seen = connected["replication"]["seen_after"]
    assert dict((dc, sorted(readers)) for dc, readers in seen.items()) == {
        "dc1": ["dc2", "dc3"], "dc2": ["dc1", "dc3"], "dc3": ["dc1", "dc2"]}
    created = run.result(CREATE_TASK)["dcs"]
    assert [(dc["name"], dc["members_before"], dc["members"]) for dc in created] == [(n, 1, 3) for n in DC_NAMES]
    assert all("through port-forward" in dc["reached"] for dc in created)

    facts = run.result("Return antidote_dcs")["ansible_facts"]["antidote_dcs"]
    assert sorted(facts) == list(DC_NAMES)
    dc1 = facts["dc1"]
    assert (dc1["members"], dc1["dc_count"], dc1["statefulset"]) == (3, 3, "antidote-dc1")
    assert sorted(dc1["replicated_to"]) == ["dc2", "dc3"]
    assert dc1["dc_id"] == dc_id(nodes, "dc1")
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
    assert_no_secret_printed("antidote role", [cookie, base64.b64decode(cookie).decode()], run.stdout + run.stderr)


def test_second_run_changes_nothing(deployment, first_run):
    ids = dict((dc, dc_id(deployment.nodes, dc)) for dc in DC_NAMES)
    record = deployment.record()
    run = deployment.run()
    assert run.rc == 0, run
    assert changed(run) == [], run
    assert dict((dc, dc_id(deployment.nodes, dc)) for dc in DC_NAMES) == ids and deployment.record() == record
    assert sorted(run.result(CONNECT_TASK)["replication"]["seen_after"]) == list(DC_NAMES)


@pytest.mark.fault
def test_a_run_right_after_restarting_nodes_changes_nothing(deployment, first_run):
    """A restarted manager node reads antidote_dc_count 0 for about 10 s and its descriptor is
    recomputed; neither may make the role reconnect. The restarted DCs must still replicate."""
    nodes = deployment.nodes
    nodes.restart("antidote@antidote-dc2-0.antidote-dc2")
    nodes.restart("antidote@antidote-dc3-1.antidote-dc3", kill=True)
    assert counted_dcs(nodes, "dc2") in (0, 3)
    run = deployment.run()
    assert run.rc == 0, run
    assert changed(run) == [], run
    result = run.result(CONNECT_TASK)
    assert result["dc_count"] == dict((dc, 3) for dc in DC_NAMES)
    assert sorted(result["replication"]["seen_after"]["dc2"]) == ["dc1", "dc3"]
    assert sorted(result["replication"]["seen_after"]["dc3"]) == ["dc1", "dc2"]


def test_scale_down_is_refused_without_the_flag(deployment, first_run):
    datacenters = [{"name": "dc1", "replicas": 2}, {"name": "dc2"}, {"name": "dc3"}]
    run = deployment.run(antidote_datacenters=datacenters)
    assert run.rc != 0
    message = run.messages
    assert "Refusing to scale down data centre(s) dc1: 3 -> 2" in message and "antidote_allow_scale_down" in message
    assert kubectl_json("get", "statefulset", "antidote-dc1", "-n", deployment.namespace)["spec"]["replicas"] == 3
