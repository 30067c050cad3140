# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml reports every system, then exits non-zero when any of them is not healthy."""
import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import local_storage

pytestmark = pytest.mark.localkube


def test_verify_fails_after_the_report_when_hazelcast_is_not_there(namespace):
    run = run_playbook_json(REPO / "playbooks" / "verify.yml", {
        "datastores_systems": ["hazelcast"], "datastores_storage_class": False,
        "hazelcast_namespace": namespace, "hazelcast_name": "hz"}, timeout=300)
    assert run.failed, run
    report = run.result("Print what is deployed, where to connect and whether it is healthy")
    assert not report.get("failed") and any("UNHEALTHY" in line for line in report["msg"]), report
    final = run.result("Fail when any system in the report is not healthy")
    assert final.get("failed") and "UNHEALTHY Hazelcast hz" in final["msg"], final
    assert "None" not in final["msg"], final  # unknown counts read '?', not "None members"


@pytest.mark.fault
def test_verify_reports_every_system_under_one_deadline_when_antidote_does_not_answer(namespace):
    """Antidote StatefulSets whose nodes nobody answers (KWOK pods, no AntidoteDB behind the port-forward):
    verify.yml cuts createDC's 300 s to its own deadline, reports the DC UNREACHABLE, still reports
    Hazelcast, and fails at the end naming both."""
    values = {"antidote_namespace": namespace, "antidote_storage_class": namespace + "-local",
              "antidote_datacenters": [{"name": "dc1"}], "antidote_client_service_type": "ClusterIP",
              "hazelcast_namespace": namespace, "hazelcast_name": "hz", "datastores_storage_class": False}
    with local_storage(namespace + "-local", 1):
        deployed = run_playbook_json(REPO / "playbooks" / "antidote.yml", dict(values, antidote_dc_timeout=2),
                                     timeout=600)
        assert deployed.failed and "antidote-dc1" in deployed.messages, deployed
        run = run_playbook_json(REPO / "playbooks" / "verify.yml", dict(
            values, datastores_systems=["antidote", "hazelcast"], datastores_verify_timeout=20), timeout=300)
        assert run.failed, run
        created = run.result("Form every data centre from its nodes (createDC where membership must change)")
        assert created["failed"] and created["invocation"]["module_args"]["timeout"] <= 20, created
        report = run.result("Print what is deployed, where to connect and whether it is healthy")["msg"]
        assert any(line.startswith("UNREACHABLE AntidoteDB") for line in report), report
        assert any("Hazelcast" in line for line in report), report
        final = run.result("Fail when any system in the report is not healthy")
        assert "UNREACHABLE AntidoteDB DC dc1" in final["msg"] and "UNHEALTHY Hazelcast hz" in final["msg"], final
