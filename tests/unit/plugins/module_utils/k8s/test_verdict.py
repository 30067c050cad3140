# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts, object references, times and Events."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import evaluate
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import (
    READY,
    Verdict,
    event_view,
    object_ref,
    parse_time,
)
from tests.helpers.readiness_fixtures import load


def test_object_ref_namespaced_and_cluster_scoped():
    assert object_ref(load("statefulset_ready")) == "StatefulSet db/antidote-dc1"
    assert object_ref(load("crd_established")) == "CustomResourceDefinition raftprotocols.atomix.io"
    assert object_ref(load("namespace_active")) == "Namespace db"


def test_object_ref_without_name_or_kind():
    assert object_ref({"kind": "Pod", "metadata": {"generateName": "web-", "namespace": "db"}}) == "Pod db/web-<unnamed>"
    assert object_ref({}) == "Object <unnamed>"


def test_verdict_fields_and_helpers():
    verdict = evaluate(load("pod_crashloop"))
    assert verdict._fields == ("state", "reason", "message", "ref", "pod")
    assert verdict.failed and not verdict.ready
    assert verdict.pod == "antidote-dc1-2"
    assert verdict.detail.startswith("container antidote is in CrashLoopBackOff")
    assert evaluate(load("pod_ready")).ready
    assert Verdict(READY, "Ready", "no prefix").detail == "no prefix"


# --- times and events ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-11-22T00:14:25Z", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    ("2026-11-22T00:13:51.057414Z", datetime(2026, 11, 22, 0, 13, 51, 57414, tzinfo=timezone.utc)),
    ("2026-11-22T02:14:25+02:00", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    ("2026-11-21T22:44:25-01:30", datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)),
    (None, None),
    ("yesterday", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_event_view_core_v1():
    event = next(e for e in load("events_core_v1") if e["reason"] == "ProvisioningFailed")
    view = event_view(event)
    assert view.when == datetime(2026, 11, 22, 0, 14, 25, tzinfo=timezone.utc)
    assert (view.type, view.reason, view.count) == ("Warning", "ProvisioningFailed", 4)
    assert view.regarding == "PersistentVolumeClaim db/data-hazelcast-0"


def test_event_view_events_k8s_io_and_scheduler_event():
    event = next(e for e in load("events_events_k8s_io_v1") if e["reason"] == "FailedScheduling")
    view = event_view(event)
    assert view.message.startswith("0/3 nodes are available")
    assert view.when is not None and view.count == 1
    core = next(e for e in load("events_core_v1") if e["reason"] == "FailedScheduling")
    assert event_view(core).when == event_view(
        next(e for e in load("events_events_k8s_io_v1") if e["metadata"]["uid"] == core["metadata"]["uid"])).when


def test_event_view_series_wins():
    event = copy.deepcopy(load("events_events_k8s_io_v1")[0])
    last = parse_time(event["eventTime"]) + timedelta(minutes=5)
    event["series"] = {"count": 7, "lastObservedTime": last.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    view = event_view(event)
    assert (view.count, view.when) == (7, last)
