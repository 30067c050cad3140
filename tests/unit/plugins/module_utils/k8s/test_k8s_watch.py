# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""list_and_watch keeps a collection current through dropped connections and expired versions."""
import json

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watch import list_and_watch
from tests.fakes import kube as fake


class FakeStream(object):
    def __init__(self, events, then=None):
        self.lines = b"".join(json.dumps(e).encode() + b"\n" for e in events)
        self.then = then

    def stream(self, size, decode_content=True):
        for start in range(0, len(self.lines), 7):
            yield self.lines[start:start + 7]
        if self.then:
            raise self.then

    def release_conn(self):
        pass


class FakeKube(fake.FakeKube):
    @property
    def kwargs(self):
        return [call.options for call in self.calls]


def pod(name, version):
    return {"metadata": {"name": name, "resourceVersion": str(version)}}


def run(script, stop_after):
    kube = FakeKube(script=script)
    seen = []
    kube.retrying = []

    def on_event(kind, payload):
        (kube.retrying if kind == "RETRYING" else seen).append((kind, payload))

    list_and_watch(kube, "/api/v1/pods", {}, on_event, lambda: len(seen) >= stop_after, reconnect_delay=0.001)
    return kube, seen


def test_watch_resumes_from_the_last_version_after_a_dropped_connection():
    script = [
        {"metadata": {"resourceVersion": "10"}, "items": [pod("a", 10)]},
        FakeStream([{"type": "ADDED", "object": pod("b", 11)}], then=ConnectionResetError("reset")),
        FakeStream([{"type": "MODIFIED", "object": pod("b", 12)}]),
    ]
    kube, seen = run(script, stop_after=3)
    assert [event[0] for event in seen] == ["SYNC", "ADDED", "MODIFIED"]
    assert kube.calls[1]["resourceVersion"] == "10"
    assert kube.calls[2]["resourceVersion"] == "11", "resumed after the last event it saw"


def test_expired_resource_version_relists():
    script = [
        {"metadata": {"resourceVersion": "10"}, "items": []},
        FakeStream([{"type": "ERROR", "object": {"code": 410, "reason": "Expired", "message": "too old"}}]),
        {"metadata": {"resourceVersion": "50"}, "items": [pod("c", 50)]},
        FakeStream([{"type": "DELETED", "object": pod("c", 51)}]),
    ]
    kube, seen = run(script, stop_after=3)
    assert [event[0] for event in seen] == ["SYNC", "SYNC", "DELETED"]
    assert seen[1][1][0]["metadata"]["name"] == "c"
    assert "watch" not in kube.calls[2], "a 410 is followed by a fresh LIST"


def test_transient_api_errors_are_retried_and_bookmarks_are_silent():
    script = [
        KubeError("overloaded", status=429),
        {"metadata": {"resourceVersion": "5"}, "items": []},
        FakeStream([{"type": "BOOKMARK", "object": pod("x", 9)}, {"type": "ADDED", "object": pod("d", 10)}]),
    ]
    kube, seen = run(script, stop_after=2)
    assert [event[0] for event in seen] == ["SYNC", "ADDED"]
    assert [error.status for _kind, error in kube.retrying] == [429], "each retry is reported, for the waiter"


def test_list_is_not_retried_inside_the_client_so_the_waiter_hears_at_once():
    script = [KubeError("connection refused", status=0), {"metadata": {"resourceVersion": "5"}, "items": []},
              FakeStream([{"type": "ADDED", "object": pod("d", 10)}])]
    kube, seen = run(script, stop_after=2)
    assert kube.retrying[0][1].status == 0 and seen[0][0] == "SYNC"
    assert kube.kwargs[0].get("retry") is False


def test_forbidden_is_reported_not_retried():
    script = [KubeError("pods is forbidden", status=403)]
    kube, seen = run(script, stop_after=1)
    assert seen[0][0] == "ERROR" and seen[0][1].status == 403
    assert len(kube.calls) == 1
