# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml as users run it: two converges at once, converge again unchanged, verify, tear down keeping data.

The admin ports are answered by tests/backends: real Hazelcast, OpenSearch and AntidoteDB nodes, and the
real Atomix 1.x controllers with real Raft nodes in a sealed network namespace. Namespaces get a suffix of
their own so that a demo on the same cluster is untouched.
"""
import concurrent.futures
import re
import uuid

import pytest

from tests.backends.serve import Backends
from tests.helpers.ansible import REPO, run_playbook
from tests.helpers.cluster import kubectl, kubectl_json
from tests.helpers.reliability import assert_no_secret_printed

pytestmark = pytest.mark.localkube
SYSTEMS = ["antidote", "elasticsearch", "hazelcast", "atomix"]
INVENTORY = REPO / "inventories" / "local"


@pytest.fixture(scope="module")
def site():
    suffix = uuid.uuid4().hex[:5]
    storage_class = "site-" + suffix
    overrides = {"datastores_systems": SYSTEMS, "antidote_namespace": "antidote-" + suffix,
                 "hazelcast_namespace": "hazelcast-" + suffix, "atomix_namespace": "atomix-" + suffix,
                 "elasticsearch_namespace": "elasticsearch-" + suffix, "loklak_namespace": "loklak-" + suffix,
                 "storage_class_name": storage_class, "elasticsearch_timeout": 300,
                 "antidote_storage_class": storage_class, "atomix_storage_class": storage_class,
                 "elasticsearch_storage_class": storage_class}
    backends = Backends(INVENTORY, SYSTEMS, overrides)
    try:
        backends.start()
        yield overrides
    finally:
        backends.stop()
        for key, namespace in overrides.items():
            if key.endswith("_namespace"):
                kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        volumes = [v["metadata"]["name"] for v in kubectl_json("get", "pv")["items"]
                   if v["spec"].get("storageClassName") == storage_class]
        kubectl("delete", "pv", "--wait=false", *volumes, check=False)
        kubectl("delete", "storageclass", storage_class, check=False)


@pytest.fixture(scope="module")
def converged(site):
    """Two site.yml runs started together from empty, made once; every later test starts from their state."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda _run: run_playbook(
            REPO / "playbooks" / "site.yml", site, inventory=INVENTORY, timeout=1500), range(2)))


def secrets_of(namespace):
    """Every value of every Secret in the namespace, decoded: none may ever be printed."""
    import base64
    values = []
    for secret in kubectl_json("get", "secrets", "-n", namespace)["items"]:
        for value in (secret.get("data") or {}).values():
            decoded = base64.b64decode(value).decode("utf-8", "replace")
            if len(decoded) >= 8:
                values.append(decoded)
    return values


@pytest.mark.fault
def test_two_runs_at_once_from_empty_both_converge_and_report_every_system_healthy(converged):
    """Two site.yml runs started together on the same inventory (two operators, or an AWX job launched
    twice): both succeed, and the next test proves they left one consistent state (a third run changes
    nothing, the Secrets each created once)."""
    for run in converged:
        assert run.rc == 0, run
        report = run.stdout[run.stdout.rindex("Print what is deployed"):]
        for system in ("AntidoteDB", "Elasticsearch", "Hazelcast", "Atomix"):
            lines = [line for line in report.splitlines() if system in line]
            assert lines and all(line.lstrip(" -").startswith("healthy ") for line in lines), report


def test_second_run_changes_nothing_and_never_prints_secrets(site, converged):
    run = run_playbook(REPO / "playbooks" / "site.yml", site, inventory=INVENTORY, args=["-vvv"])
    assert run.rc == 0, run
    assert run.changed == 0, run
    secrets = secrets_of(site["antidote_namespace"]) + secrets_of(site["elasticsearch_namespace"])
    assert len(secrets) >= 2, "the Antidote cookie and the elastic password exist"
    assert_no_secret_printed("site.yml at -vvv", secrets, run.stdout + run.stderr)


def test_verify_reads_without_changing(site, converged):
    run = run_playbook(REPO / "playbooks" / "verify.yml", site, inventory=INVENTORY)
    assert run.rc == 0 and run.changed == 0, run
    assert re.search(r"Hazelcast\s+hazelcast\s+3 members", run.stdout), run


def test_teardown_keeps_claims_unless_purged(site, converged):
    claims_before = sorted(c["metadata"]["name"] for c in
                           kubectl_json("get", "pvc", "-n", site["antidote_namespace"])["items"])
    assert claims_before
    run = run_playbook(REPO / "playbooks" / "teardown.yml", site, inventory=INVENTORY)
    assert run.rc == 0, run
    assert kubectl_json("get", "statefulsets", "-n", site["antidote_namespace"])["items"] == []
    claims_after = sorted(c["metadata"]["name"] for c in
                          kubectl_json("get", "pvc", "-n", site["antidote_namespace"])["items"])
    assert claims_after == claims_before

    purge = run_playbook(REPO / "playbooks" / "teardown.yml", dict(site, datastores_purge=True), inventory=INVENTORY)
    assert purge.rc == 0, purge
    gone = kubectl("get", "namespace", site["antidote_namespace"], check=False)
    assert gone.returncode != 0 or '"Terminating"' in kubectl(
        "get", "namespace", site["antidote_namespace"], "-o", "json").stdout
