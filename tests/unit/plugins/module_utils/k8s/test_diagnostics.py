# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure messages built from verdicts, Events and container logs."""

import copy

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.diagnostics import (
    MAX_LINE_CHARS,
    explain,
    failing_containers,
    headline,
    log_tail,
    merge_events,
    recent_events,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import Verdict, evaluate
from tests.helpers.readiness_fixtures import load


def crashloop_verdict():
    pods = load("statefulset_rolling_pods")[:2] + [load("pod_crashloop")]
    return evaluate(load("statefulset_rolling"), pods=pods)


def core_event(reason, message, when, count=1, name="antidote-dc1-2", etype="Warning"):
    return {"apiVersion": "v1", "kind": "Event", "type": etype, "reason": reason, "message": message,
            "count": count, "firstTimestamp": when, "lastTimestamp": when, "eventTime": None,
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "db", "name": name},
            "metadata": {"name": f"{name}.{reason}", "namespace": "db", "creationTimestamp": when}}


# --- headline -----------------------------------------------------------------------------------


@pytest.mark.parametrize("verdict, expected", [
    (crashloop_verdict(),
     "StatefulSet db/antidote-dc1 failed (CrashLoopBackOff): pod antidote-dc1-2: container antidote is in "
     "CrashLoopBackOff (restarted 4 times, last exit code 1 (Error)); 2/3 replicas ready, revision "
     "antidote-dc1-b989b7f55 not yet rolled out (1/3 replicas updated)"),
    (evaluate(load("statefulset_rolling")),
     "StatefulSet db/antidote-dc1 is not ready (ReplicasNotReady): 2/3 replicas ready, revision "
     "antidote-dc1-b989b7f55 not yet rolled out (1/3 replicas updated)"),
    (evaluate(load("job_complete")),
     "Job db/create-dc is ready (Complete): Reached expected number of succeeded pods"),
    (Verdict("failed", "Forbidden", "StatefulSet db/antidote-dc1: statefulsets.apps is forbidden"),
     "StatefulSet db/antidote-dc1 failed (Forbidden): statefulsets.apps is forbidden"),
    (Verdict("waiting", "NotFound", "StatefulSet db/antidote-dc1 does not exist yet"),
     "StatefulSet db/antidote-dc1 does not exist yet (NotFound)"),
])
def test_headline_starts_with_object_and_reason(verdict, expected):
    assert headline(verdict) == expected
    assert "timed out" not in headline(verdict)


def test_explain_without_events_or_logs_is_the_headline():
    verdict = evaluate(load("pod_unschedulable"))
    assert explain(verdict) == headline(verdict)
    assert explain(verdict, [], {}) == headline(verdict)
    assert explain(verdict).startswith("Pod db/es-master-0 failed (Unschedulable): cannot be scheduled: "
                                       "0/3 nodes are available: 3 Insufficient cpu.")


# --- events -------------------------------------------------------------------------------------


def test_events_keep_the_last_ten_oldest_first():
    events = load("events_core_v1") + load("events_kubelet_crashloop")
    text = explain(crashloop_verdict(), events)
    lines = text.splitlines()
    assert lines[1] == f"Events (last 10 of {len(merge_events(events))}, oldest first):"
    event_lines = lines[2:12]
    assert len(event_lines) == 10
    times = [line.split()[0] for line in event_lines]
    assert times == sorted(times)
    assert event_lines[-1] == (
        "  2026-11-22T00:16:40Z Warning BackOff Pod db/antidote-dc1-2 (x12): Back-off restarting failed "
        "container antidote in pod antidote-dc1-2_db(ef2df511-3489-43d6-ab3f-6111ea1499ca)")
    assert "  2026-11-22T00:14:25Z Warning ProvisioningFailed PersistentVolumeClaim db/data-hazelcast-0 (x4): " \
           'storageclass.storage.k8s.io "fast-ssd" not found' in event_lines


def test_events_are_deduplicated_by_reason_and_message():
    events = load("events_kubelet_crashloop")
    doubled = events + copy.deepcopy(events)
    doubled[-1]["lastTimestamp"] = "2026-11-22T00:18:00Z"
    views = recent_events(doubled)
    assert len(views) == len(events)
    backoff = views[-1]
    assert (backoff.reason, backoff.count) == ("BackOff", 24)
    assert backoff.when.strftime("%H:%M:%S") == "00:18:00"


def test_both_event_api_shapes_merge_into_one_line():
    core = [e for e in load("events_core_v1") if e["reason"] == "FailedScheduling"]
    new = [e for e in load("events_events_k8s_io_v1") if e["reason"] == "FailedScheduling"]
    alone = recent_events(core)
    views = recent_events(core + new)
    assert [(v.reason, v.message) for v in views] == [(v.reason, v.message) for v in alone]
    assert [v.count for v in views] == [2 * v.count for v in alone]
    assert all(v.message.startswith("0/3 nodes are available") for v in views)


def test_events_without_time_come_first_and_limits_apply():
    events = [core_event("Late", "b", "2026-11-22T00:20:00Z"), core_event("Undated", "a", None)]
    events[1]["metadata"].pop("creationTimestamp")
    views = recent_events(events)
    assert [v.reason for v in views] == ["Undated", "Late"]
    assert [v.reason for v in recent_events(events, limit=1)] == ["Late"]
    assert recent_events(events, limit=0) == []
    text = explain(crashloop_verdict(), events)
    assert "  (no time) Warning Undated Pod db/antidote-dc1-2: a" in text
    assert "Events (2, oldest first):" in text


def test_event_count_shown_only_when_repeated():
    text = explain(crashloop_verdict(), [core_event("BackOff", "Back-off restarting", "2026-11-22T00:20:00Z")])
    assert text.splitlines()[-1] == "  2026-11-22T00:20:00Z Warning BackOff Pod db/antidote-dc1-2: Back-off restarting"


def test_explain_max_events():
    events = [core_event(f"R{i}", "m", f"2026-11-22T00:2{i}:00Z") for i in range(5)]
    text = explain(crashloop_verdict(), events, max_events=2)
    assert "Events (last 2 of 5, oldest first):" in text
    assert "R3" in text and "R4" in text and "R2" not in text


# --- logs ---------------------------------------------------------------------------------------


def test_log_tail_keeps_the_last_twenty_lines():
    text = "\n".join(f"2026-11-22 00:16:{i:02d} [error] line {i}" for i in range(57)) + "\n"
    tail, total = log_tail(text)
    assert total == 57 and len(tail) == 20
    assert tail[0].endswith("line 37") and tail[-1].endswith("line 56")
    assert log_tail("", 20) == ([], 0)
    assert log_tail("a\nb", 0) == ([], 2)


def test_explain_includes_each_container_log():
    logs = {
        "antidote-dc1-2/antidote": "\n".join(f"line {i}" for i in range(30)),
        "antidote-dc1-2/wait-for-peers": "nslookup: can't resolve 'antidote-dc1-0.antidote-dc1'\n",
        "antidote-dc1-1/antidote": "",
    }
    lines = explain(crashloop_verdict(), None, logs).splitlines()
    assert lines[1] == "Logs of antidote-dc1-1/antidote: (empty)"
    assert lines[2] == "Logs of antidote-dc1-2/antidote (last 20 of 30 lines):"
    assert lines[3] == "  | line 10" and lines[22] == "  | line 29"
    assert lines[23] == "Logs of antidote-dc1-2/wait-for-peers (1 lines):"
    assert lines[24] == "  | nslookup: can't resolve 'antidote-dc1-0.antidote-dc1'"


def test_long_log_lines_are_clipped():
    tail, _total = log_tail("x" * (MAX_LINE_CHARS + 50))
    assert tail == ["x" * MAX_LINE_CHARS + " ..."]


def test_explain_events_before_logs():
    text = explain(crashloop_verdict(), load("events_kubelet_crashloop"), {"antidote-dc1-2/antidote": "boom"})
    assert text.index("Events (") < text.index("Logs of antidote-dc1-2/antidote")
    assert text.startswith("StatefulSet db/antidote-dc1 failed (CrashLoopBackOff): ")


# --- which containers' logs to fetch ------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("pod_crashloop", [("antidote", "CrashLoopBackOff")]),
    ("pod_crashloop_oomkilled", [("antidote", "CrashLoopBackOff")]),
    ("pod_init_crashloop", [("wait-for-peers", "CrashLoopBackOff")]),
    ("pod_run_container_error", [("antidote", "RunContainerError")]),
    ("pod_not_ready", [("antidote", "NotReady")]),
    ("pod_evicted", [("antidote", "Error")]),
    ("pod_ready", []),
    ("pod_succeeded", []),
    ("pod_container_creating", []),
    ("pod_image_pull_backoff", []),
    ("pod_err_image_pull_not_found", []),
    ("pod_err_image_pull_transient", []),
    ("pod_invalid_image_name", []),
    ("pod_create_container_config_error", []),
    ("pod_create_container_error", []),
    ("pod_unschedulable", []),
])
def test_failing_containers(name, expected):
    assert failing_containers(load(name)) == expected


def test_failing_containers_running_again_after_oom():
    pod = load("pod_crashloop_oomkilled")
    status = pod["status"]["containerStatuses"][0]
    status.update(state={"running": {"startedAt": "2026-11-22T00:17:00Z"}}, started=True, ready=True)
    assert failing_containers(pod) == [("antidote", "OOMKilled")]


def test_failing_containers_skips_successful_init_containers():
    pod = load("pod_init_crashloop")
    pod["status"]["initContainerStatuses"][0].update(
        state={"terminated": {"exitCode": 0, "reason": "Completed"}}, lastState={}, restartCount=0)
    assert failing_containers(pod) == []
