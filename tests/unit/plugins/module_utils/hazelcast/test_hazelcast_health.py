# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/hazelcast/cluster.py on HTTP answers recorded from real Hazelcast 5.7.0 members."""
import http.client
import http.server
import json
import os
import threading

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.hazelcast.cluster import (
    HEALTH_PATH,
    HazelcastClusterError,
    HazelcastResponseError,
    HttpTransport,
    check_cluster,
    find_clusters,
    normalize_address,
    parse_endpoint,
    parse_health,
    parse_members,
    probe_members,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from tests.fakes.clock import FakeClock

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "hazelcast")
ERRORS = {"RemoteDisconnected": http.client.RemoteDisconnected, "ConnectionRefusedError": ConnectionRefusedError}


def recorded(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return json.load(handle)["responses"]


class RecordedTransport:
    """Answers as the recorded members did; an endpoint nobody recorded refuses the connection."""

    def __init__(self, responses):
        self.responses = responses
        self.requests = []

    def get(self, host, port, path, timeout):
        self.requests.append(("%s:%d" % (host, port), path))
        member = self.responses.get("%s:%d" % (host, port))
        if member is None:
            raise ConnectionRefusedError(111, "Connection refused")
        answer = member[path]
        if "error" in answer:
            raise ERRORS[answer["error"]]("recorded %s" % answer["error"])
        return answer["status"], answer["body"]


def run(name, expected_size, seconds=0.0, responses=None, **kwargs):
    """check_cluster over a recorded scenario (or given responses) with a fake clock."""
    responses = responses if responses is not None else recorded(name)
    clock = FakeClock()
    result = check_cluster(list(responses), expected_size, Deadline(seconds, clock), interval=1.0,
                           transport=RecordedTransport(responses), sleep=clock.sleep, **kwargs)
    return result, clock


def failure(name, expected_size, responses=None):
    with pytest.raises(HazelcastClusterError) as caught:
        run(name, expected_size, responses=responses)
    return str(caught.value), caught.value.result


def test_parse_health_reads_every_field_of_the_real_answer():
    body = recorded("migrating.json")["127.0.0.1:42431"][HEALTH_PATH]["body"]
    assert parse_health(body) == {"node_state": "ACTIVE", "cluster_state": "ACTIVE", "cluster_safe": False,
                                  "migration_queue_size": 1, "cluster_size": 2}


@pytest.mark.parametrize("body", ["Hazelcast::NodeState=ACTIVE\nHazelcast::ClusterSize=2", '{"nodeState":"ACTIVE"}', "[]"])
def test_parse_health_rejects_other_shapes(body):
    with pytest.raises(HazelcastResponseError, match="/hazelcast/health"):
        parse_health(body)


def test_parse_members_normalizes_addresses_and_marks_the_local_member():
    body = recorded("four_members.json")["127.0.0.1:49433"]["/hazelcast/rest/cluster"]["body"]
    members = parse_members(body)
    assert len(members) == 4
    assert [m["address"] for m in members if m["local"]] == ["127.0.0.1:49433"]
    assert all(m["version"] == "5.7.0" and not m["lite"] and len(m["uuid"]) == 36 for m in members)


def test_ipv6_addresses_keep_their_brackets():
    assert normalize_address("[::1]:5701") == "[::1]:5701"
    assert normalize_address("[10.0.0.7]:5701") == "10.0.0.7:5701"


@pytest.mark.parametrize("value, expected", [
    (("127.0.0.1", "5702"), ("127.0.0.1", 5702)),
    ("hz-0.hz:5703", ("hz-0.hz", 5703)),
    ("[::1]:5704", ("::1", 5704)),
    ("hz-0.hz", ("hz-0.hz", 5701)),
    ({"host": "10.0.0.1", "port": 5705}, ("10.0.0.1", 5705)),
])
def test_parse_endpoint(value, expected):
    assert parse_endpoint(value) == expected


def test_one_member_is_healthy_at_the_first_poll():
    result, clock = run("one_member.json", 1)
    assert result["healthy"] and result["cluster_size"] == 1 and result["polls"] == 1
    assert result["versions"] == ["5.7.0"] and clock.sleeps == []
    member = result["members"][0]
    assert member["ready"] is True and member["problems"] == []
    assert member["address"] == member["endpoint"]


def test_four_members_report_the_same_four_members():
    result, _clock = run("four_members.json", 4)
    assert result["healthy"] and result["cluster_size"] == 4
    assert sorted(result["member_addresses"]) == sorted(m["endpoint"] for m in result["members"])
    assert len({m["uuid"] for m in result["members"]}) == 4
    assert len(result["clusters"]) == 1


def test_too_small_expected_size_names_what_each_member_sees():
    message, result = failure("four_members.json", 3)
    assert message.startswith("Hazelcast cluster not healthy after 0.0s (4 endpoint(s), expected 3 member(s))")
    for member in result["members"]:
        assert "%s sees nodeState=ACTIVE" % member["endpoint"] in message
        assert member["problems"] == ["sees 4 member(s), expected 3"]
    assert "split" not in message and result["cluster_size"] == 4


def test_two_clusters_presented_as_one_are_reported_as_a_split():
    responses = recorded("split_two_clusters.json")
    message, result = failure("split_two_clusters.json", 4, responses)
    assert "split into 2 separate clusters" in message
    groups = [sorted(c["endpoints"]) for c in result["clusters"]]
    truth = {}
    for endpoint, answers in responses.items():
        seen = tuple(sorted(m["uuid"] for m in json.loads(answers["/hazelcast/rest/cluster"]["body"])["members"]))
        truth.setdefault(seen, []).append(endpoint)
    assert sorted(groups) == sorted(sorted(endpoints) for endpoints in truth.values())
    assert all(c["sizes"] == [2] and len(c["members"]) == 2 for c in result["clusters"])


def test_split_is_inferred_from_sizes_when_member_lists_are_disabled():
    message, result = failure("split_without_cluster_read.json", 4)
    assert "4 endpoints but each member sees at most 2 member(s): split into separate clusters" in message
    assert "CLUSTER_READ" in message and result["clusters"] == []
    assert all(m["members"] is None and "CLUSTER_READ" in m["members_error"] for m in result["members"])


def test_migrations_keep_the_cluster_unhealthy():
    message, result = failure("migrating.json", 2)
    master, joined = result["members"]
    assert master["problems"] == ["cluster not safe (backups not in sync)", "1 migration(s) pending"]
    assert joined["problems"] == ["cluster not safe (backups not in sync)"]
    assert "clusterSafe=false migrationQueueSize=1" in message


def test_a_joining_member_is_not_ready_although_it_says_active():
    message, result = failure("joining.json", 2)
    joining = [m for m in result["members"] if m["ready"] is False]
    assert len(joining) == 1 and joining[0]["node_state"] == "ACTIVE"
    assert "not ready (/hazelcast/health/ready answered 503: starting or joining)" in joining[0]["problems"]
    assert "sees 1 member(s), expected 2" in message
    assert "(not ready yet, may still be joining: %s)" % joining[0]["endpoint"] in message


def test_rest_api_disabled_gets_a_hint():
    message, result = failure("rest_api_disabled.json", 1)
    assert result["members"][0]["reachable"] is False
    assert "REST API enabled with the HEALTH_CHECK endpoint group" in message


def test_unreachable_member_is_named():
    responses = recorded("one_member.json")
    clock = FakeClock()
    with pytest.raises(HazelcastClusterError) as caught:
        check_cluster(list(responses) + ["127.0.0.1:1"], 2, Deadline(0, clock),
                      transport=RecordedTransport(responses), sleep=clock.sleep)
    assert "- 127.0.0.1:1: unreachable: ConnectionRefusedError" in str(caught.value)


def test_two_endpoints_reaching_one_member_are_reported():
    one = recorded("one_member.json")
    answers = list(one.values())[0]
    responses = {"127.0.0.1:30001": answers, "127.0.0.1:30002": answers}
    message, _result = failure(None, 1, responses)
    assert "endpoints 127.0.0.1:30001, 127.0.0.1:30002 reach the same member" in message


def test_waits_across_polls_until_healthy():
    responses = recorded("four_members.json")
    late = sorted(responses)[-1]
    transport = RecordedTransport({k: v for k, v in responses.items() if k != late})
    clock = FakeClock()

    def sleep(seconds):
        clock.sleep(seconds)
        if len(clock.sleeps) == 2:
            transport.responses[late] = responses[late]

    result = check_cluster(list(responses), 4, Deadline(30, clock), interval=1.5, transport=transport, sleep=sleep)
    assert result["healthy"] and result["polls"] == 3 and clock.sleeps == [1.5, 1.5]


def test_gives_up_at_the_deadline_without_sleeping_past_it():
    clock = FakeClock()
    responses = recorded("migrating.json")
    with pytest.raises(HazelcastClusterError, match="not healthy after 2.5s"):
        check_cluster(list(responses), 2, Deadline(2.5, clock), interval=1.0, transport=RecordedTransport(responses),
                      sleep=clock.sleep)
    assert clock.sleeps == [1.0, 1.0, 0.5]


def test_accepts_a_deadline_object():
    responses = recorded("four_members.json")
    with pytest.raises(HazelcastClusterError) as caught:
        check_cluster(list(responses), 5, Deadline(0, FakeClock()), transport=RecordedTransport(responses),
                      sleep=pytest.fail)
    assert caught.value.result["polls"] == 1


def test_find_clusters_merges_overlapping_views():
    members = [{"uuid": "a", "address": "h:1"}, {"uuid": "b", "address": "h:2"}]
    reports = [{"endpoint": "h:1", "members": members, "cluster_size": 2},
               {"endpoint": "h:2", "members": members[1:], "cluster_size": 1},
               {"endpoint": "h:3", "members": [{"uuid": "c", "address": "h:3"}], "cluster_size": 1}]
    assert find_clusters(reports) == [
        {"endpoints": ["h:1", "h:2"], "members": ["h:1", "h:2"], "sizes": [1, 2]},
        {"endpoints": ["h:3"], "members": ["h:3"], "sizes": [1]},
    ]


@pytest.fixture
def recorded_server():
    """A stdlib HTTP server on 127.0.0.1 that answers as the recorded single member did."""
    answers = list(recorded("one_member.json").values())[0]
    seen_headers = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen_headers.append(self.headers.get("Authorization"))
            answer = answers[self.path]
            body = answer["body"].encode()
            self.send_response(answer["status"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen_headers
    server.shutdown()
    server.server_close()


def test_http_transport_over_a_real_socket_with_basic_auth(recorded_server):
    port, seen_headers = recorded_server
    transport = HttpTransport(username="ops", password="s3cret")
    reports = probe_members([("127.0.0.1", port)], transport, timeout=5)
    assert reports[0]["node_state"] == "ACTIVE" and reports[0]["ready"] is True and len(reports[0]["members"]) == 1
    assert seen_headers == ["Basic b3BzOnMzY3JldA=="] * 3
