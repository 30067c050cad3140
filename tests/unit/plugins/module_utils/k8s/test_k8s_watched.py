# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/k8s/watched.py and pods.py: a watched collection waited on until a condition holds."""
import copy
import json
import queue
import threading

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.pods import PodSet
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watched import Watched, wait_until


class Stream(object):
    """A watch response: the events queued so far, then the end of the stream (the watch reconnects)."""

    def __init__(self, events):
        self.events = events

    def stream(self, size, decode_content=True):
        while True:
            try:
                yield json.dumps(self.events.get(timeout=0.02)).encode() + b"\n"
            except queue.Empty:
                return

    def release_conn(self):
        pass


class FakeKube(object):
    def __init__(self, items=(), watch_error=None):
        self.items = list(items)
        self.events = queue.Queue()
        self.watch_error = watch_error

    def get(self, path, query=None):
        return {"metadata": {"resourceVersion": "1"}, "items": copy.deepcopy(self.items)}

    def request(self, method, path, query=None, stream=False, **kwargs):
        if not stream:
            return self.get(path, query)
        if self.watch_error:
            raise self.watch_error
        return Stream(self.events)


def pod(name, ready=False):
    return {"metadata": {"name": name, "resourceVersion": "2"},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def ready(pods):
    return any(p["status"]["conditions"][0]["status"] == "True" for p in pods.values())


def test_pod_set_wait_holds_once_a_watched_pod_is_ready():
    kube = FakeKube([pod("a")])
    kube.events.put({"type": "MODIFIED", "object": pod("a", ready=True)})
    pods = PodSet(kube, "ns", "app=x")
    assert pods.wait(ready, Deadline(10)) is True
    assert ready(pods.pods) and pods.error is None


def test_pod_set_wait_is_false_at_the_deadline():
    pods = PodSet(FakeKube([pod("a")]), "ns", "app=x")
    assert pods.wait(ready, Deadline(0.2)) is False
    assert list(pods.list_once().pods) == ["a"]


def test_a_refused_watch_is_raised_naming_what_was_watched():
    pods = PodSet(FakeKube([pod("a")], watch_error=KubeError("pods is forbidden", status=403)), "ns", "app=x")
    with pytest.raises(KubeError, match="watching pods in ns: pods is forbidden"):
        pods.wait(ready, Deadline(10))
    assert pods.error.status == 403


def test_wait_until_watches_several_collections_and_keeps_them_as_they_were_after():
    changed = threading.Condition()
    first, second = FakeKube([pod("a")]), FakeKube()
    collections = [Watched(first, "/api/v1/pods", changed=changed), Watched(second, "/api/v1/pods", changed=changed)]
    second.events.put({"type": "ADDED", "object": pod("b", ready=True)})
    assert wait_until(collections, lambda: all(c.synced for c in collections) and "b" in collections[1].objects,
                      Deadline(10)) is True
    first.events.put({"type": "DELETED", "object": pod("a")})
    assert not wait_until(collections, lambda: False, Deadline(0))
    assert list(collections[0].objects) == ["a"]
