# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml reports every system, then exits non-zero when any of them is not healthy."""
import pytest

from tests.helpers.ansible import REPO, run_playbook_json

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
