# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The antidote role against the Antidote stand-in, for faults a real loopback node cannot show.

Stand-in on purpose: the real nodes of test_antidote_role.py all live on 127.0.0.2, so a pod cannot
come back with another IP, and a DC cannot be made unreachable on its inter-DC ports (8085/8086)
while its protocol port still answers. The stand-in (tests/standins/antidote_standin.py) moves a
node's address and blocks a DC's inter-DC ports. Three DCs of one node; KWOK runs the pods and a
KWOK PortForward per pod sends port-forwards of 8087 and 3001 to the stand-in's node.
"""
import uuid

import pytest

from tests.helpers.cluster import kubectl, kubectl_json, local_storage, recreate_pod
from tests.integration.antidote.conftest import CONNECT_TASK, RoleDeployment, changed, forward_every_pod
from tests.standins.antidote_standin import AntidoteStandin

pytestmark = pytest.mark.localkube

DC_NAMES = ("dc1", "dc2", "dc3")
NODES = 1


@pytest.fixture(scope="module")
def deployment():
    namespace = "t-antidote-role-" + uuid.uuid4().hex[:6]
    standin = AntidoteStandin(dcs=len(DC_NAMES), nodes=NODES).start()
    try:
        with local_storage(namespace + "-local", 4) as storage_class:
            kubectl("create", "namespace", namespace)
            # Default stand-in layout: DC dcK's nodes are antidote@antidote-dcK-<i>.antidote-dcK, the names the
            # role derives for StatefulSet antidote-dcK and its headless Service.
            forward_every_pod(namespace, standin)
            deployment = RoleDeployment(namespace, storage_class, DC_NAMES, NODES, admin_timeout=(60, 60))
            deployment.standin = standin
            yield deployment
    finally:
        standin.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_first_run_converges(deployment):
    run = deployment.run()
    assert run.rc == 0, run
    assert CONNECT_TASK in changed(run), run
    assert all(deployment.standin.receives_from(dc, other) for dc in DC_NAMES for other in DC_NAMES if other != dc)


def _pod_ip(namespace, pod):
    return kubectl_json("get", "pod", pod, "-n", namespace)["status"].get("podIP")


@pytest.mark.fault
def test_a_pod_with_a_new_ip_is_reconnected_on_the_next_run(deployment):
    standin, namespace = deployment.standin, deployment.namespace
    old_ip = _pod_ip(namespace, "antidote-dc2-0")
    recreate_pod(namespace, "antidote-dc2-0")
    kubectl("rollout", "status", "statefulset/antidote-dc2", "-n", namespace, "--timeout=60s")
    new_ip = _pod_ip(namespace, "antidote-dc2-0")
    if new_ip == old_ip:  # KWOK may hand the freed address out again; the node's descriptor moves either way
        new_ip = "10.244.250.7"
    standin.set_node_ip("antidote@antidote-dc2-0.antidote-dc2", new_ip)
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


@pytest.mark.fault
def test_a_dc_the_others_cannot_reach_fails_with_its_name(deployment):
    """connectToDCs answers success, but nobody receives from dc3: named, never reported healthy."""
    standin = deployment.standin
    standin.block_dc("dc3")
    standin.set_node_ip("antidote@antidote-dc3-0.antidote-dc3", "10.244.251.9")  # dc3 moved where nobody routes
    run = deployment.run(antidote_connect_timeout=10)
    assert run.rc != 0
    message = run.result(CONNECT_TASK)["msg"]
    assert message.startswith("DC dc3 is unreachable from dc1, dc2"), message
    assert "8085 and 8086" in message
