# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Lease lock of module_utils/k8s/lease.py against an API that keeps Leases the way the server does
(create conflicts, resourceVersion preconditions on replace, uid preconditions on delete)."""
import threading
import time

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s import lease as k8s_lease
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError


class Leases(object):
    def __init__(self):
        self.objects, self.version, self.lock = {}, 0, threading.Lock()

    def _store(self, name, body):
        self.version += 1
        body["metadata"].update(resourceVersion=str(self.version), uid="uid-%d" % self.version)
        self.objects[name] = body
        return body

    def request(self, method, path, query=None, body=None, retry=True):
        with self.lock:
            name = body["metadata"]["name"]
            if method == "POST":
                if name in self.objects:
                    raise KubeError("exists", status=409)
                return self._store(name, body)
            current = self.objects.get(name)
            if current is None:
                raise KubeError("gone", status=404)
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                raise KubeError("conflict", status=409)
            return self._store(name, body)

    def get(self, path, missing_ok=False):
        return self.objects.get(path.rsplit("/", 1)[1])

    def delete(self, path, uid=None):
        with self.lock:
            name = path.rsplit("/", 1)[1]
            if name in self.objects and self.objects[name]["metadata"]["uid"] == uid:
                del self.objects[name]


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(k8s_lease, "POLL_S", 0.01)


def test_two_holders_never_overlap_and_both_finish():
    api, inside, overlaps = Leases(), [], []

    def step():
        with k8s_lease.held(api, "ns", "rec-lock", 5, "step", []):
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=step) for _thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1, 1, 1, 1] and api.objects == {}


def test_the_block_gets_the_seconds_it_waited():
    api = Leases()
    with k8s_lease.held(api, "ns", "rec-lock", 5, "step", []) as waited:
        assert waited < 1
        assert api.objects["rec-lock"]["spec"]["leaseDurationSeconds"] == 5 + k8s_lease.MARGIN_S


def test_an_expired_lease_of_a_dead_run_is_taken_over():
    api = Leases()
    api._store("rec-lock", k8s_lease._lease("ns", "rec-lock", "dead/1", 1))
    api.objects["rec-lock"]["spec"]["renewTime"] = "2020-01-01T00:00:00.000000Z"
    with k8s_lease.held(api, "ns", "rec-lock", 5, "step", []):
        assert api.objects["rec-lock"]["spec"]["holderIdentity"] != "dead/1"


def test_a_current_lease_times_out_naming_its_holder():
    api = Leases()
    api._store("rec-lock", k8s_lease._lease("ns", "rec-lock", "other-host/42", 600))
    with pytest.raises(k8s_lease.LeaseTimeout, match="antidote_connect waited 0 s for Lease ns/rec-lock, held by "
                                                     "other-host/42"):
        with k8s_lease.held(api, "ns", "rec-lock", 0.05, "antidote_connect", []):
            pass
    assert api.objects["rec-lock"]["spec"]["holderIdentity"] == "other-host/42", "another's lease stays"


def test_a_lease_taken_over_after_expiry_is_not_deleted_by_the_old_holder():
    api = Leases()
    with k8s_lease.held(api, "ns", "rec-lock", 5, "step", []):
        api.objects["rec-lock"]["metadata"]["uid"] = "someone-else"
    assert "rec-lock" in api.objects


def test_credentials_without_leases_run_unprotected_with_a_warning_naming_the_permission():
    class NoLeases(Leases):
        def request(self, method, path, query=None, body=None, retry=True):
            raise KubeError("forbidden", status=403)

    warnings, ran = [], []
    with k8s_lease.held(NoLeases(), "ns", "rec-lock", 5, "antidote_dc", warnings) as waited:
        ran.append(waited)
    assert ran == [0.0]
    assert warnings == ["antidote_dc ran without the Lease ns/rec-lock that keeps two runs from acting at once: "
                        "these credentials may not create it (grant get, create, update and delete on "
                        "coordination.k8s.io leases in ns)"]
