# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/elasticsearch/client.py on answers recorded from real OpenSearch 2.19.1 nodes.

Fixtures: tests/unit/fixtures/elasticsearch/ (re-record with tests/servers/elasticsearch/record_fixtures.py).
Node shutdown answers are not recordable on OpenSearch; those follow the Elasticsearch reference.
"""
import base64
import copy
import http.server
import json
import os
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import (
    ClusterHealthError,
    ElasticsearchAuthError,
    ElasticsearchClient,
    ElasticsearchError,
    ElasticsearchUnsupportedError,
    check_health,
    parse_version,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from tests.fakes.clock import FakeClock

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "elasticsearch")
PASSWORD = "Xq7-not-in-any-message"


def recorded(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return json.load(handle)["endpoints"]


class FakeTransport:
    """Serves answers keyed "METHOD /path"; a value may be a list (one per call, the last repeats)."""

    def __init__(self, answers):
        self.answers = copy.deepcopy(answers)
        self.calls = []

    def __call__(self, method, target, body, headers, timeout):
        parts = urlsplit(target)
        self.calls.append({"method": method, "path": parts.path, "query": parse_qs(parts.query),
                           "body": json.loads(body) if body else None, "headers": headers, "timeout": timeout})
        answer = self.answers.get("%s %s" % (method, parts.path))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer is None:
            return 404, b'{"error": {"type": "not_in_fixture", "reason": "no fixture"}, "status": 404}'
        if isinstance(answer, Exception):
            raise answer
        body = answer["body"]
        return answer["status"], (body if isinstance(body, str) else json.dumps(body)).encode()

    def paths(self, method=None):
        return [c["path"] for c in self.calls if method in (None, c["method"])]


def clients(endpoints, **options):
    made = {}
    for i, (label, answers) in enumerate(sorted(endpoints.items())):
        made[label] = ElasticsearchClient("https://127.0.0.1:%d" % (9200 + i), username="admin", password=PASSWORD,
                                          transport=FakeTransport(answers), **options)
    return made


def uuid_of(endpoints, label):
    return endpoints[label]["GET /"]["body"]["cluster_uuid"]


# ---------------------------------------------------------------------- check_health
def test_green_cluster_reports_one_uuid_and_every_node():
    endpoints = recorded("green_three_nodes.json")
    made = clients(endpoints)
    clock = FakeClock()
    result = check_health(list(made.values()), 3, deadline=Deadline(30, clock), clock=clock, sleep=clock.sleep)
    assert result["healthy"] is True
    assert result["cluster_uuid"] == uuid_of(endpoints, "node0")
    assert (result["status"], result["number_of_nodes"], result["cluster_name"]) == ("green", 3, "datastores-test")
    assert (result["distribution"], result["version"]) == ("opensearch", "2.19.1")
    assert sorted(e["node_name"] for e in result["endpoints"]) == ["os-0", "os-1", "os-2"]
    assert result["problems"] == [] and clock.sleeps == []


def test_health_uses_the_servers_long_poll_within_the_deadline():
    made = clients(recorded("green_three_nodes.json"))
    clock = FakeClock()
    check_health(list(made.values()), 3, wait_for_status="yellow", deadline=Deadline(30, clock), clock=clock)
    for client in made.values():
        (call,) = [c for c in client._transport.calls if c["path"] == "/_cluster/health"]
        assert call["query"]["wait_for_status"] == ["yellow"]
        assert call["query"]["wait_for_nodes"] == ["3"]
        server_wait = int(call["query"]["timeout"][0].rstrip("ms"))
        assert 25000 <= server_wait < 30000, "server-side wait must end before the deadline"
        assert call["timeout"] > server_wait / 1000.0, "the socket must outlast the server's wait"


def test_foreign_cluster_is_named_at_once_without_waiting_on_health():
    endpoints = recorded("foreign_node.json")
    made = clients(endpoints)
    clock = FakeClock()
    with pytest.raises(ClusterHealthError) as caught:
        check_health(list(made.values()), 3, deadline=Deadline(60, clock), clock=clock, sleep=clock.sleep)
    message = str(caught.value)
    stale_uuid, main_uuid = uuid_of(endpoints, "stale0"), uuid_of(endpoints, "node0")
    assert stale_uuid != main_uuid
    assert "(node stale-0) is in cluster_uuid %s, not %s: split" % (stale_uuid, main_uuid) in message
    assert "3 endpoint(s)" in message and "never join" in message
    assert all("/_cluster/health" not in c.paths() for c in (m._transport for m in made.values()))
    assert clock.sleeps == []
    assert caught.value.result["status"] is None and caught.value.result["number_of_nodes"] is None
    split = [e for e in caught.value.result["endpoints"] if e["cluster_uuid"] == stale_uuid]
    assert [e["node_name"] for e in split] == ["stale-0"]


def test_node_of_another_cluster_name_is_called_foreign():
    endpoints = recorded("foreign_node.json")
    endpoints["stale0"]["GET /"]["body"]["cluster_name"] = "billing"
    with pytest.raises(ClusterHealthError, match=r"foreign cluster 'billing'"):
        check_health(list(clients(endpoints).values()), 3, deadline=Deadline(60, FakeClock()), clock=FakeClock())


def test_wrong_node_count_lists_the_nodes_that_are_there():
    endpoints = recorded("wrong_node_count.json")
    clock = FakeClock()
    with pytest.raises(ClusterHealthError) as caught:
        check_health(list(clients(endpoints).values()), 4, deadline=Deadline(20, clock), clock=clock, sleep=clock.sleep)
    assert "cluster 'datastores-test' has 3 node(s) (os-0, os-1, os-2), expected 4" in str(caught.value)
    assert caught.value.result["number_of_nodes"] == 3
    assert caught.value.result["endpoints"][0]["timed_out"] is True


def test_yellow_cluster_explains_the_unassigned_shard():
    endpoints = recorded("yellow_unassigned_replica.json")
    clock = FakeClock()
    with pytest.raises(ClusterHealthError) as caught:
        check_health(list(clients(endpoints).values()), 3, deadline=Deadline(20, clock), clock=clock, sleep=clock.sleep)
    message = str(caught.value)
    assert "is yellow, wanted green (unassigned shards 1" in message
    assert "unassigned shard [logs][0] replica" in message
    assert "same_shard: a copy of this shard is already allocated to this node" in message
    assert caught.value.result["allocation_explanation"]["index"] == "logs"


def test_membership_only_accepts_any_status():
    endpoints = recorded("green_three_nodes.json")
    made = clients(endpoints)
    result = check_health(list(made.values()), 3, wait_for_status=None,
                          deadline=Deadline(10, FakeClock()), clock=FakeClock())
    assert result["healthy"]
    (call,) = [c for c in made["node0"]._transport.calls if c["path"] == "/_cluster/health"]
    assert "wait_for_status" not in call["query"]


def test_unreachable_endpoint_is_retried_until_the_deadline_then_named():
    endpoints = recorded("green_three_nodes.json")
    endpoints["node2"] = {"GET /": ConnectionRefusedError(111, "Connection refused")}
    made = clients(endpoints)
    clock = FakeClock()
    with pytest.raises(ClusterHealthError) as caught:
        check_health(list(made.values()), 3, deadline=Deadline(5, clock), clock=clock, sleep=clock.sleep, interval=1.0)
    assert "GET https://127.0.0.1:9202/: [Errno 111] Connection refused" in str(caught.value)
    assert len(made["node2"]._transport.paths()) >= 2, "a refused connection is asked again"
    assert sum(clock.sleeps) <= 5.0


def test_node_still_joining_is_identified_after_the_long_poll():
    endpoints = recorded("green_three_nodes.json")
    joined = endpoints["node1"]["GET /"]
    joining = copy.deepcopy(joined)
    joining["body"]["cluster_uuid"] = "_na_"
    endpoints["node1"]["GET /"] = [joining, joined]
    clock = FakeClock()
    result = check_health(list(clients(endpoints).values()), 3,
                          deadline=Deadline(10, clock), clock=clock, sleep=clock.sleep)
    assert result["healthy"] and result["cluster_uuid"] == joined["body"]["cluster_uuid"]
    assert clock.sleeps == [], "the long-poll answer is enough, no second round"


def test_refused_credentials_fail_at_once_without_the_password():
    anonymous = recorded("day2.json")["anonymous"]
    made = clients({"node0": anonymous})
    with pytest.raises(ElasticsearchAuthError) as caught:
        check_health(list(made.values()), 3, deadline=Deadline(60, FakeClock()), clock=FakeClock())
    message = str(caught.value)
    assert "HTTP 401, the credentials of user 'admin' were refused" in message
    token = base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    assert PASSWORD not in message and token not in message and PASSWORD not in repr(caught.value.__dict__)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        check_health(["https://127.0.0.1:9200"], 3, wait_for_status="blue")
    with pytest.raises(ValueError):
        check_health(["https://127.0.0.1:9200"], 0)
    with pytest.raises(ValueError):
        check_health([], 3)


# ---------------------------------------------------------------------- client details
def test_credentials_in_the_url_are_moved_out_of_it():
    transport = FakeTransport(recorded("green_three_nodes.json")["node0"])
    client = ElasticsearchClient("https://admin:%s@127.0.0.1:9243/es/" % PASSWORD, transport=transport)
    assert client.url == "https://127.0.0.1:9243/es" and PASSWORD not in client.url
    with pytest.raises(ElasticsearchError) as caught:
        client.get("/missing")
    assert PASSWORD not in str(caught.value)
    assert transport.calls[0]["path"] == "/es/missing"
    expected = "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    assert transport.calls[0]["headers"]["Authorization"] == expected


def test_parse_version():
    assert parse_version("8.11.3") == (8, 11, 3)
    assert parse_version("7.15.2-SNAPSHOT") == (7, 15, 2)
    assert parse_version(None) == ()


def test_allocation_explain_is_none_when_nothing_is_unassigned():
    client = clients({"n": recorded("green_three_nodes.json")["node0"]})["n"]
    assert client.allocation_explain() is None


# ---------------------------------------------------------------------- day 2
def test_exclude_voting_posts_only_what_is_missing():
    state = recorded("day2.json")["node0"]["GET /_cluster/state/metadata"]
    empty = {"status": 200, "body": {}}
    client = clients({"n": {"GET /_cluster/state/metadata": [empty, state, state, state],
                            "POST /_cluster/voting_config_exclusions": {"status": 200, "body": ""}}})["n"]
    first = client.exclude_voting(["os-2"])
    assert first["changed"] is True and [e["node_name"] for e in first["exclusions"]] == ["os-2"]
    (post,) = [c for c in client._transport.calls if c["method"] == "POST"]
    assert post["query"]["node_names"] == ["os-2"] and post["query"]["timeout"] == ["30000ms"]
    again = client.exclude_voting("os-2")
    assert again["changed"] is False
    assert len([c for c in client._transport.calls if c["method"] == "POST"]) == 1


def test_clear_voting_exclusions_round_trip():
    state = recorded("day2.json")["node0"]["GET /_cluster/state/metadata"]
    client = clients({"n": {"GET /_cluster/state/metadata": [state, {"status": 200, "body": {}}],
                            "DELETE /_cluster/voting_config_exclusions": {"status": 200, "body": ""}}})["n"]
    cleared = client.clear_voting_exclusions(wait_for_removal=False)
    assert cleared["changed"] and cleared["previous"][0]["node_name"] == "os-2"
    (delete,) = [c for c in client._transport.calls if c["method"] == "DELETE"]
    assert delete["query"]["wait_for_removal"] == ["false"]
    assert client.clear_voting_exclusions()["changed"] is False


def test_set_allocation_changes_only_when_needed():
    day2 = recorded("day2.json")["node0"]
    unset = {"status": 200, "body": {"persistent": {}, "transient": {}}}
    client = clients({"n": {"GET /_cluster/settings": [unset, day2["GET /_cluster/settings"]],
                            "PUT /_cluster/settings": day2["PUT /_cluster/settings"]}})["n"]
    assert client.set_allocation("primaries") == {"changed": True, "previous": None, "current": "primaries"}
    (put,) = [c for c in client._transport.calls if c["method"] == "PUT"]
    assert put["body"] == {"persistent": {"cluster.routing.allocation.enable": "primaries"}}
    assert client.set_allocation("primaries")["changed"] is False
    with pytest.raises(ValueError):
        client.set_allocation("some")


def test_set_allocation_clears_a_transient_override():
    stuck = {"status": 200, "body": {"persistent": {}, "transient": {"cluster.routing.allocation.enable": "none"}}}
    client = clients({"n": {"GET /_cluster/settings": stuck, "PUT /_cluster/settings": {"status": 200, "body": {}}}})["n"]
    assert client.set_allocation(None)["previous"] == "none"
    (put,) = [c for c in client._transport.calls if c["method"] == "PUT"]
    assert put["body"] == {"persistent": {"cluster.routing.allocation.enable": None},
                           "transient": {"cluster.routing.allocation.enable": None}}


def test_flush_reports_shard_failures():
    day2 = recorded("day2.json")["node0"]
    assert clients({"n": day2})["n"].flush() == {"failed": 0, "successful": 3, "total": 3}
    failed = {"status": 200, "body": {"_shards": {"total": 2, "successful": 1, "failed": 1, "failures": [
        {"index": "logs", "shard": 0, "reason": {"type": "x", "reason": "disk"}}]}}}
    with pytest.raises(ElasticsearchError, match="flush failed on 1 shard"):
        clients({"n": {"POST /_flush": failed}})["n"].flush()


ES8_INFO = {"status": 200, "body": {"name": "es-0", "cluster_name": "es", "cluster_uuid": "u1",
                                    "version": {"number": "8.11.3", "build_flavor": "default"}}}


def test_node_shutdown_is_refused_on_opensearch():
    client = clients({"n": recorded("green_three_nodes.json")["node0"]})["n"]
    assert client.supports_node_shutdown() is False
    with pytest.raises(ElasticsearchUnsupportedError, match="opensearch 2.19.1 has no node shutdown API"):
        client.put_node_shutdown("abc", "upgrade")


def test_node_shutdown_restart_on_elasticsearch_8():
    status = {"status": 200, "body": {"nodes": [{"node_id": "abc", "type": "RESTART", "reason": "upgrade",
                                                 "status": "COMPLETE", "shard_migration": {"status": "COMPLETE"}}]}}
    client = clients({"n": {"GET /": ES8_INFO, "PUT /_nodes/abc/shutdown": {"status": 200, "body": {"acknowledged": True}},
                            "GET /_nodes/abc/shutdown": status,
                            "DELETE /_nodes/abc/shutdown": [{"status": 200, "body": {"acknowledged": True}},
                                                            {"status": 404, "body": {"error": {"type": "resource_not_found_exception"}}}]}})["n"]
    assert client.supports_node_shutdown() is True
    assert client.put_node_shutdown("abc", "upgrade", allocation_delay="10m") == {"acknowledged": True}
    (put,) = [c for c in client._transport.calls if c["method"] == "PUT"]
    assert put["body"] == {"type": "restart", "reason": "upgrade", "allocation_delay": "10m"}
    assert client.node_shutdown_status("abc")[0]["status"] == "COMPLETE"
    assert client.delete_node_shutdown("abc") is True
    assert client.delete_node_shutdown("abc") is False
    with pytest.raises(ValueError):
        client.put_node_shutdown("abc", "scale down", shutdown_type="remove", allocation_delay="5m")


# ---------------------------------------------------------------------- real HTTP on 127.0.0.1
class _Handler(http.server.BaseHTTPRequestHandler):
    expected = "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode()

    def do_GET(self):  # noqa: N802 (http.server naming)
        if self.headers.get("Authorization") != self.expected:
            self._send(401, b"Unauthorized", "text/plain")
        elif self.path.startswith("/es/_cluster/health"):
            self._send(408, json.dumps({"cluster_name": "c", "status": "red", "timed_out": True}).encode())
        else:
            self._send(200, json.dumps({"name": "n", "cluster_uuid": "u", "version": {"number": "8.11.3"}}).encode())

    def _send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/es" % server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_transport_sends_basic_auth_and_reads_408(local_server):
    client = ElasticsearchClient(local_server, username="admin", password=PASSWORD, timeout=5)
    assert client.info()["cluster_uuid"] == "u"
    assert client.health(wait_for_status="green", timeout=1)["timed_out"] is True


def test_http_transport_wrong_password_message(local_server):
    client = ElasticsearchClient(local_server, username="admin", password="wrong-" + PASSWORD, timeout=5)
    with pytest.raises(ElasticsearchAuthError) as caught:
        client.info()
    assert "HTTP 401, the credentials of user 'admin' were refused (Unauthorized)" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_something_else_on_the_port_is_named():
    endpoints = {"n": {"GET /": {"status": 200, "body": "<html>welcome to nginx</html>"}}}
    clock = FakeClock()
    with pytest.raises(ClusterHealthError, match="GET / did not answer like Elasticsearch: <html>welcome"):
        check_health(list(clients(endpoints).values()), 1, deadline=Deadline(2, clock), clock=clock, sleep=clock.sleep)
