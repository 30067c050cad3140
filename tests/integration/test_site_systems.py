# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml refuses a datastores_systems it cannot honour before it touches the cluster."""
import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.snapshot import cluster_snapshot, differences

pytestmark = pytest.mark.localkube

TASK = "Fail when datastores_systems is not a list of known system names"
ALLOWED = ("antidote", "elasticsearch", "loklak", "hazelcast", "atomix")


@pytest.mark.parametrize("systems,named", [
    (["hazelcst"], '"hazelcst"'),
    (["hazelcast", "Atomix"], '"Atomix"'),
    (["hazel"], '"hazel"'),
    ("hazelcast", "not a list"),
    ("elastic", "not a list"),
])
def test_unknown_or_unlisted_systems_fail_before_anything_is_written(systems, named):
    before = cluster_snapshot()
    run = run_playbook_json(REPO / "playbooks" / "site.yml", {"datastores_systems": systems},
                            args=("--tags", "hazelcast"), timeout=300)
    assert run.failed, run
    message = run.result(TASK)["msg"]
    assert "datastores_systems" in message and named in message, message
    assert all(name in message for name in ALLOWED), message
    assert [task for task, _result in run.results()][-1].endswith(TASK), "nothing ran after the check"
    assert differences(before, cluster_snapshot()) == []


@pytest.mark.parametrize("systems", [None, ["hazelcast"], list(ALLOWED), []])
def test_known_systems_pass_the_check(systems):
    variables = {} if systems is None else {"datastores_systems": systems}
    run = run_playbook_json(REPO / "playbooks" / "validate_systems.yml", variables, timeout=120)
    assert not run.failed, run
    assert run.result(TASK).get("skipped"), run
