# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure messages that say why an object is not ready.

`explain()` turns a readiness `Verdict` plus what the caller fetched about it (Events, container
log tails) into one message. It starts with the object and the reason, never with "timed out".
`failing_containers()` tells the caller which containers' logs are worth fetching.
"""

from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Tuple

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import (
    EventView,
    Verdict,
    event_view,
)

MAX_EVENTS = 10
MAX_LOG_LINES = 20
MAX_LINE_CHARS = 400
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)

_STATE_WORDS = {"ready": "is ready", "waiting": "is not ready", "failed": "failed"}
_NO_LOG_REASONS = frozenset({
    "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "ImageInspectError",
    "SignatureValidationFailed", "CreateContainerConfigError", "CreateContainerError",
    "ContainerCreating", "PodInitializing",
})


def headline(verdict: Verdict) -> str:
    """'StatefulSet db/x is not ready (ReplicasNotReady): 2/3 replicas ready, ...'.

    A verdict built without ``ref`` is taken to start with its subject, up to the first ": ".
    """
    state = _STATE_WORDS.get(verdict.state, verdict.state)
    if verdict.ref:
        subject, detail = verdict.ref, verdict.detail
    elif ": " in verdict.message:
        subject, detail = verdict.message.split(": ", 1)
    else:
        return f"{verdict.message} ({verdict.reason})"
    return f"{subject} {state} ({verdict.reason}): {detail}"


def _format_time(when: Optional[datetime]) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else "(no time)"


def merge_events(events: Iterable[dict]) -> List[EventView]:
    """Events merged by reason and message (counts summed, newest time kept), oldest first."""
    merged: Dict[Tuple[str, str], EventView] = {}
    for view in (event_view(e) for e in events if isinstance(e, dict)):
        key = (view.reason, view.message)
        seen = merged.get(key)
        if seen is None:
            merged[key] = view
            continue
        newer = view if _when(view) >= _when(seen) else seen
        merged[key] = newer._replace(count=seen.count + view.count)
    return sorted(merged.values(), key=_when)


def recent_events(events: Iterable[dict], limit: int = MAX_EVENTS) -> List[EventView]:
    """The newest `limit` merged events, oldest first."""
    merged = merge_events(events)
    return merged[-limit:] if limit > 0 else []


def _when(view: EventView) -> datetime:
    return view.when or _EPOCH


def _event_line(view: EventView) -> str:
    times = f" (x{view.count})" if view.count > 1 else ""
    subject = f" {view.regarding}" if view.name else ""
    kind = view.type or "Normal"
    return f"  {_format_time(view.when)} {kind} {view.reason}{subject}{times}: {view.message}"


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " ..."


def log_tail(text: str, limit: int = MAX_LOG_LINES) -> Tuple[List[str], int]:
    """The last `limit` lines of `text` and how many lines it had."""
    lines = (text or "").rstrip("\n").splitlines()
    return [_clip(line.rstrip()) for line in lines[-limit:]] if limit > 0 else [], len(lines)


def _log_section(source: str, text: str, limit: int) -> List[str]:
    tail, total = log_tail(text, limit)
    if not tail:
        return [f"Logs of {source}: (empty)"]
    shown = f"last {len(tail)} of {total} lines" if total > len(tail) else f"{total} lines"
    return [f"Logs of {source} ({shown}):"] + [f"  | {line}" for line in tail]


def explain(verdict: Verdict, events: Optional[Iterable[dict]] = None,
            container_logs: Optional[Dict[str, str]] = None,
            max_events: int = MAX_EVENTS, max_lines: int = MAX_LOG_LINES) -> str:
    """One message for a verdict: headline, recent events, then the tail of each container log.

    events: Event dicts (core/v1 or events.k8s.io/v1) about the object and its pods.
    container_logs: {"pod/container": "log text"}.
    """
    lines = [headline(verdict)]
    merged = merge_events(events or [])
    views = merged[-max_events:] if max_events > 0 else []
    if views:
        shown = f"last {len(views)} of {len(merged)}" if len(merged) > len(views) else f"{len(views)}"
        lines.append(f"Events ({shown}, oldest first):")
        lines.extend(_event_line(v) for v in views)
    for source in sorted(container_logs or {}):
        lines.extend(_log_section(source, container_logs[source], max_lines))
    return "\n".join(lines)


def _statuses(pod: dict) -> List[dict]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def _log_reason(cstatus: dict) -> Optional[str]:
    state = cstatus.get("state") or {}
    waiting, running, done = state.get("waiting"), state.get("running"), state.get("terminated")
    last = (cstatus.get("lastState") or {}).get("terminated")
    if waiting and waiting.get("reason") not in _NO_LOG_REASONS:
        return waiting.get("reason") or "Waiting"
    if done and done.get("exitCode") not in (0, None):
        return done.get("reason") or "Error"
    if running is not None and last and last.get("exitCode") not in (0, None):
        return last.get("reason") or "Restarted"
    if running is not None and not cstatus.get("ready"):
        return "NotReady"
    return None


def failing_containers(pod: dict) -> List[Tuple[str, str]]:
    """(container name, reason) for each container of `pod` whose logs may say what is wrong.

    Init containers come first. A container is listed when it is crash-looping or waiting for any
    reason other than an image or configuration problem (those have no logs), when it exited
    with a non-zero code, when it runs again after a failed run (reason: the last run's, e.g.
    OOMKilled; fetch with previous=True), or when it runs but is not ready ("NotReady").
    """
    found = []
    for cstatus in _statuses(pod):
        reason = _log_reason(cstatus)
        if reason and cstatus.get("name"):
            found.append((cstatus["name"], reason))
    return found
