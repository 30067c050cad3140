# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts on Kubernetes objects, and the small readers of objects and Events they are built with.

A `Verdict` is one of three states:

- ``ready``: the object is what was asked for.
- ``waiting``: not yet, and waiting may still help.
- ``failed``: waiting will not help; stop now and report. These are the fail-fast states.
"""

import re
from datetime import datetime, timedelta, timezone
from typing import Any, List, NamedTuple, Optional

READY = "ready"
WAITING = "waiting"
FAILED = "failed"


class Verdict(NamedTuple):
    """The state of one object.

    ``message`` always starts with ``ref`` ("Kind namespace/name: ..."). ``pod`` names the pod
    (same namespace) whose state decided the verdict, when one did, so that its events and logs
    can be fetched.
    """

    state: str
    reason: str
    message: str
    ref: str = ""
    pod: Optional[str] = None

    @property
    def ready(self) -> bool:
        return self.state == READY

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    @property
    def detail(self) -> str:
        """The message without the leading object reference."""
        prefix = self.ref + ": "
        return self.message[len(prefix):] if self.ref and self.message.startswith(prefix) else self.message


class EventView(NamedTuple):
    """A core/v1 or events.k8s.io/v1 Event reduced to what a reader needs."""

    when: Optional[datetime]
    type: str
    reason: str
    message: str
    count: int
    kind: str
    namespace: str
    name: str

    @property
    def regarding(self) -> str:
        return _ref(self.kind, self.namespace, self.name)


class Inputs(NamedTuple):
    pods: List[dict]
    endpoint_slices: List[dict]
    events: List[EventView]


# --- small accessors ------------------------------------------------------------------------


def dig(obj: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ref(kind: str, namespace: Optional[str], name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def object_ref(obj: dict) -> str:
    """Return "Kind namespace/name", or "Kind name" for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or (meta.get("generateName", "") + "<unnamed>")
    return _ref(obj.get("kind") or "Object", meta.get("namespace"), name)


def make_verdict(state: str, reason: str, obj: dict, detail: str, pod: Optional[str] = None) -> Verdict:
    ref = object_ref(obj)
    return Verdict(state, reason, f"{ref}: {detail}", ref, pod)


def status_word(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value).strip().capitalize()


def find_condition(obj: dict, ctype: str) -> Optional[dict]:
    for cond in dig(obj, "status", "conditions", default=[]):
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def is_true(cond: Optional[dict]) -> bool:
    return cond is not None and status_word(cond.get("status")) == "True"


def is_false(cond: Optional[dict]) -> bool:
    return cond is not None and status_word(cond.get("status")) == "False"


def condition_text(cond: dict) -> str:
    reason, message = cond.get("reason"), cond.get("message")
    if reason and message:
        return f"{reason}: {message}"
    return reason or message or ""


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def generation_pending(obj: dict) -> Optional[str]:
    generation = as_int(dig(obj, "metadata", "generation"))
    observed = as_int(dig(obj, "status", "observedGeneration"))
    if generation and observed < generation:
        return f"generation {generation} not yet observed by its controller (observed {observed})"
    return None


def stale_condition(obj: dict, cond: dict) -> Optional[str]:
    generation = as_int(dig(obj, "metadata", "generation"))
    observed = as_int(cond.get("observedGeneration"))
    if generation and observed and observed < generation:
        return (f"condition {cond.get('type')} describes generation {observed}, "
                f"not the current generation {generation}")
    return None


# --- time and events ------------------------------------------------------------------------

_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(text: Any) -> Optional[datetime]:
    """Parse a metav1.Time or MicroTime string ("2024-05-01T10:00:00Z", "...00.123456Z")."""
    if not isinstance(text, str):
        return None
    match = _TIME.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    when = datetime(year, month, day, hour, minute, second, micros, tzinfo=timezone.utc)
    offset = match.group(8)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        when -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return when


def event_view(event: dict) -> EventView:
    """Normalise a core/v1 Event or an events.k8s.io/v1 Event."""
    about = event.get("regarding") or event.get("involvedObject") or {}
    series = event.get("series") or {}
    when = None
    for text in (series.get("lastObservedTime"), event.get("lastTimestamp"),
                 event.get("deprecatedLastTimestamp"), event.get("eventTime"),
                 event.get("firstTimestamp"), event.get("deprecatedFirstTimestamp"),
                 dig(event, "metadata", "creationTimestamp")):
        when = parse_time(text)
        if when:
            break
    count = as_int(series.get("count")) or as_int(event.get("count")) or as_int(event.get("deprecatedCount")) or 1
    return EventView(
        when=when,
        type=event.get("type") or "",
        reason=event.get("reason") or "",
        message=(event.get("message") or event.get("note") or "").strip(),
        count=count,
        kind=about.get("kind") or "",
        namespace=about.get("namespace") or "",
        name=about.get("name") or "",
    )
