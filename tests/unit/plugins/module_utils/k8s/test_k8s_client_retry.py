# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kube.request retries what heals (429, 5xx, unreachable) within its deadline and nothing else."""
import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import Kube, KubeError


def scripted(monkeypatch, answers, deadline=30.0):
    kube = Kube.__new__(Kube)
    kube.retry_deadline = deadline
    calls, sleeps = [], []

    def once(*args):
        calls.append(args)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = [1000.0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(kube, "_once", once)
    monkeypatch.setattr(k8s_client.time, "sleep", sleep)
    monkeypatch.setattr(k8s_client.time, "monotonic", lambda: clock[0])
    return kube, calls, sleeps


def test_retry_after_is_honoured(monkeypatch):
    kube, calls, sleeps = scripted(monkeypatch, [KubeError("busy", 429, body={"_retry_after": "2"}), {"ok": 1}])
    assert kube.request("GET", "/api") == {"ok": 1}
    assert sleeps == [2.0] and len(calls) == 2


def test_server_errors_and_unreachable_back_off(monkeypatch):
    kube, calls, sleeps = scripted(monkeypatch, [KubeError("down", 0), KubeError("bad gateway", 502),
                                                 KubeError("unavailable", 503), {"ok": 1}])
    assert kube.request("GET", "/api") == {"ok": 1}
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2] <= 5.0


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_client_errors_fail_at_once(monkeypatch, status):
    kube, calls, sleeps = scripted(monkeypatch, [KubeError("no", status)])
    with pytest.raises(KubeError):
        kube.request("GET", "/api")
    assert len(calls) == 1 and sleeps == []


def test_gives_up_at_the_deadline(monkeypatch):
    kube, calls, sleeps = scripted(monkeypatch, [KubeError("busy", 429, body={"_retry_after": "20"})] * 3,
                                   deadline=30.0)
    with pytest.raises(KubeError):
        kube.request("GET", "/api")
    assert sleeps == [20.0], "a second 20 s wait would pass the 30 s deadline"


def test_the_time_spent_retrying_is_recorded_on_the_error(monkeypatch):
    kube, calls, sleeps = scripted(monkeypatch, [KubeError("down", 0)] * 50, deadline=3.0)
    with pytest.raises(KubeError) as raised:
        kube.request("GET", "/api")
    assert 0 < raised.value.retried <= 3.0 and len(calls) > 1
