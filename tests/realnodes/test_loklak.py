# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seed 001 on real nodes: playbooks/loklak.yml runs Elasticsearch 2.4.6 (three nodes discovering each other
through the headless Service, a local volume each) and loklak_server on it, from the images of
tools/images/recipes/elasticsearch2.py and loklak.py; loklak_verify pushes a marker through loklak and finds
it through search. Then the seed's persistence: the workloads torn down (claims kept) and deployed again,
and the marker is still found."""
import uuid

import pytest

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubectl, kubectl_json, recreate_pod
from tests.realnodes.diagnostics import explain
from tests.realnodes.volumes import DISK_WATERMARKS, LocalVolumes

PLAYBOOK = REPO / "playbooks" / "loklak.yml"
TEARDOWN = REPO / "playbooks" / "teardown.yml"
FACTS = "Set loklak_app (image, Service identity and address, Elasticsearch addresses)"


@pytest.fixture(scope="module")
def seed(real_cluster):
    suffix = uuid.uuid4().hex[:5]
    volumes = LocalVolumes(real_cluster)
    values = {"loklak_elasticsearch_namespace": "es-" + suffix, "loklak_namespace": "loklak-" + suffix,
              "elasticsearch_storage_class": volumes.name, "loklak_storage_class": volumes.name,
              "elasticsearch_heap_size": "256m", "loklak_service_type": "ClusterIP", "loklak_timeout": 420,
              "elasticsearch_timeout": 420, "datastores_systems": ["loklak"], "elasticsearch_config": DISK_WATERMARKS}
    yield values
    for key in ("loklak_namespace", "loklak_elasticsearch_namespace"):
        kubectl("delete", "namespace", values[key], "--wait=false", check=False)
    volumes.remove()


def namespaces(values):
    return [values["loklak_elasticsearch_namespace"], values["loklak_namespace"]]


def deploy(values, **more):
    return run_playbook_json(PLAYBOOK, dict(values, **more), timeout=1200)


def marker(run):
    return run.result(FACTS)["ansible_facts"]["loklak_app"]


@pytest.fixture(scope="module")
def first(seed):
    run = deploy(seed)
    assert not run.failed, explain(run, namespaces(seed))
    return run


def test_loklak_finds_its_marker_through_elasticsearch(first, seed):
    app = marker(first)
    assert app["verified"] is True and app["marker"]["pushed"] is True, app
    pods = kubectl_json("get", "pods", "-n", seed["loklak_elasticsearch_namespace"])["items"]
    assert len({p["spec"]["nodeName"] for p in pods if p["status"].get("podIP")}) >= 2
    pods += kubectl_json("get", "pods", "-n", seed["loklak_namespace"])["items"]
    restarts = {p["metadata"]["name"]: [c["restartCount"] for c in p["status"]["containerStatuses"]] for p in pods}
    assert all(count == 0 for counts in restarts.values() for count in counts), (
        "loklak waits for Elasticsearch and its startup probe for loklak: nothing crash-loops", restarts)


def test_second_run_changes_nothing_and_finds_the_marker_without_pushing(first, seed):
    again = deploy(seed)
    assert not again.failed and again.changed == 0, explain(again, namespaces(seed))
    assert marker(again)["verified"] is True and marker(again)["marker"]["pushed"] is False


@pytest.mark.fault
def test_a_deleted_elasticsearch_node_is_healed(first, seed):
    namespace = seed["loklak_elasticsearch_namespace"]
    name = sorted(p["metadata"]["name"] for p in kubectl_json("get", "pods", "-n", namespace)["items"])[0]
    recreate_pod(namespace, name, timeout=300)
    healed = deploy(seed)
    assert not healed.failed and healed.changed == 0, explain(healed, namespaces(seed))


@pytest.mark.fault
def test_teardown_and_redeploy_keep_the_messages(first, seed):
    down = run_playbook_json(TEARDOWN, {
        "datastores_systems": ["loklak"], "loklak_namespace": seed["loklak_namespace"],
        "loklak_elasticsearch_namespace": seed["loklak_elasticsearch_namespace"]}, timeout=600)
    assert not down.failed, down
    for namespace in (seed["loklak_namespace"], seed["loklak_elasticsearch_namespace"]):
        claims = kubectl_json("get", "pvc", "-n", namespace)["items"]
        assert claims, "teardown without purge keeps the claims of " + namespace
    again = deploy(seed)
    assert not again.failed, explain(again, namespaces(seed))
    app = marker(again)
    assert app["verified"] is True and app["marker"]["pushed"] is False, "the index kept the marker: " + str(app)


def test_wrong_cluster_name_is_rejected_by_the_real_server(first, seed):
    """KWOK would call the pods Ready; real loklak cannot join a cluster of another name, its readiness
    search fails, and the role says so instead of reporting it healthy."""
    namespace = "loklak-wrong-" + uuid.uuid4().hex[:4]
    try:
        wrong = deploy(seed, loklak_namespace=namespace, loklak_elasticsearch_deploy=False,
                       loklak_elasticsearch_cluster_name="not-the-cluster", loklak_timeout=150)
        assert wrong.failed, wrong
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
