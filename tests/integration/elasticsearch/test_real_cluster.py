# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/elasticsearch/client.py against a real 3-node OpenSearch cluster (TLS, basic auth) on 127.0.0.1,
plus one separately bootstrapped node with the same cluster.name (a split), booted in parallel once per module."""
import threading
import time

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
    ClusterHealthError,
    ElasticsearchAuthError,
    ElasticsearchClient,
    ElasticsearchError,
    check_health,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from tests.servers.elasticsearch import OPENSEARCH_VERSION, Cluster, missing_tools, poll_until, start_clusters

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason="needs %s on PATH" % ", ".join(missing_tools())),
]


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    main = Cluster(tmp_path_factory.mktemp("es-main"), size=3)
    stale = Cluster(tmp_path_factory.mktemp("es-stale"), size=1, node_prefix="stale", password=main.password)
    try:
        main.launch()  # creates the CA; the stale node shares it, so one client reaches both
        stale.pki = main.pki
        start_clusters([stale], timeout=300)  # boots while main's JVMs boot
        main.wait_formed(time.monotonic() + 300)
    except BaseException:
        main.stop()
        stale.stop()
        raise
    yield main, stale
    main.stop()
    stale.stop()


@pytest.fixture(scope="module")
def main(clusters):
    return clusters[0]


def options(cluster, password=None):
    return {"username": cluster.username, "password": password or cluster.password, "ca_cert": cluster.ca_file}


def within(seconds):
    return time.monotonic() + seconds


def client(cluster, index=0):
    return ElasticsearchClient(cluster.endpoints[index], timeout=30, **options(cluster))


def test_three_nodes_green_one_uuid(main):
    result = check_health(main.endpoints, 3, "green", deadline=Deadline(60), **options(main))
    uuids = {client(main, i).info()["cluster_uuid"] for i in range(3)}
    assert result["healthy"] and result["status"] == "green" and result["number_of_nodes"] == 3
    assert uuids == {result["cluster_uuid"]}
    assert (result["distribution"], result["version"]) == ("opensearch", OPENSEARCH_VERSION)
    assert sorted(e["node_name"] for e in result["endpoints"]) == ["os-0", "os-1", "os-2"]


def test_yellow_waits_for_green_on_the_server(main):
    admin = client(main)
    assert admin.set_allocation("primaries")["changed"] is True
    created = main.request(main.nodes[0], "PUT", "/orders", {"settings": {"number_of_shards": 1, "number_of_replicas": 1}})
    assert created[0] == 200
    assert admin.health(wait_for_status="yellow", timeout=30)["status"] == "yellow"
    assert admin.flush("orders")["failed"] == 0
    outcome = {}

    def run():
        try:
            outcome["result"] = check_health(main.endpoints, 3, "green", deadline=Deadline(90), **options(main))
        except Exception as err:  # reported by the assertion below
            outcome["error"] = err

    waiter = threading.Thread(target=run)
    waiter.start()

    def health_polls_in_flight():
        tasks = admin.get("/_tasks", {"actions": "cluster:monitor/health", "detailed": "false"})
        count = sum(len(n.get("tasks", {})) for n in tasks.get("nodes", {}).values())
        return count >= 3

    poll_until(health_polls_in_flight, within(60), "check_health's long-polls to reach the servers")
    assert admin.health()["status"] == "yellow", "still yellow while check_health waits"
    assert admin.set_allocation(None) == {"changed": True, "previous": "primaries", "current": None}
    waiter.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"]["status"] == "green" and outcome["result"]["healthy"]
    main.request(main.nodes[0], "DELETE", "/orders")


def test_not_green_explains_the_unassigned_shard(main):
    main.request(main.nodes[0], "PUT", "/wide", {"settings": {"number_of_shards": 1, "number_of_replicas": 3}})
    try:
        with pytest.raises(ClusterHealthError) as caught:
            check_health(main.endpoints, 3, "green", deadline=Deadline(4), **options(main))
        message = str(caught.value)
        assert "is yellow, wanted green" in message
        assert "unassigned shard [wide][0] replica" in message and "same_shard" in message
    finally:
        main.request(main.nodes[0], "DELETE", "/wide")


def test_node_of_a_separately_bootstrapped_cluster_is_reported(clusters):
    main, stale = clusters
    with pytest.raises(ClusterHealthError) as caught:
        check_health(main.endpoints + stale.endpoints, 3, "green", deadline=Deadline(120), **options(main))
    message = str(caught.value)
    stale_uuid = client(stale).info()["cluster_uuid"]
    assert "%s (node stale-0) is in cluster_uuid %s" % (stale.endpoints[0], stale_uuid) in message
    assert "split" in message and "same name" in message
    assert caught.value.result["status"] is None, "reported from GET / alone, without waiting on health"


def test_wrong_expected_node_count(main):
    with pytest.raises(ClusterHealthError) as caught:
        check_health(main.endpoints, 4, "green", deadline=Deadline(4), **options(main))
    assert "cluster 'datastores-test' has 3 node(s) (os-0, os-1, os-2), expected 4" in str(caught.value)


def test_voting_exclusion_round_trip(main):
    admin = client(main)
    node_id = admin.node_ids()["os-2"]

    def voters():
        state = admin.get("/_cluster/state/metadata",
                          {"filter_path": "metadata.cluster_coordination.last_committed_config"})
        return state["metadata"]["cluster_coordination"]["last_committed_config"]

    assert node_id in voters()
    excluded = admin.exclude_voting(["os-2"])
    assert excluded["changed"] is True
    assert excluded["exclusions"] == [{"node_id": node_id, "node_name": "os-2"}]
    assert node_id not in voters(), "the API returns once os-2 has left the voting configuration"
    assert admin.exclude_voting(["os-2"])["changed"] is False
    cleared = admin.clear_voting_exclusions(wait_for_removal=False)
    assert cleared["changed"] is True and admin.voting_exclusions() == []
    assert check_health(main.endpoints, 3, "green", deadline=Deadline(60), **options(main))["healthy"]


def test_refused_password_is_named_but_never_shown(main):
    wrong = "wrong-" + main.password
    with pytest.raises(ElasticsearchAuthError) as caught:
        check_health(main.endpoints, 3, "green", deadline=Deadline(30), **options(main, password=wrong))
    message = str(caught.value)
    assert "HTTP 401, the credentials of user 'admin' were refused" in message
    assert main.password not in message and wrong not in message


def test_untrusted_certificate_is_refused(main):
    with pytest.raises(ElasticsearchError, match="CERTIFICATE_VERIFY_FAILED"):
        ElasticsearchClient(main.endpoints[0], username="admin", password=main.password, timeout=10).info()
