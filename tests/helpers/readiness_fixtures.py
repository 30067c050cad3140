# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness fixtures (objects as the API server returns them) and the edits the readiness tests make to them."""

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "readiness"


def load(name):
    with open(FIXTURES / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)


def set_waiting(pod, reason, message=None, restarts=None):
    status = pod["status"]["containerStatuses"][0]
    status["state"] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    if restarts is not None:
        status["restartCount"] = restarts
    return pod


def set_unschedulable(pod, message, reason="Unschedulable"):
    pod["status"]["conditions"][0].update(reason=reason, message=message)
    return pod


def cond(ctype, status, reason=None, message=None, observed=None):
    found = {"type": ctype, "status": status, "lastTransitionTime": "2026-11-22T00:20:00Z"}
    if reason:
        found["reason"] = reason
    if message:
        found["message"] = message
    if observed is not None:
        found["observedGeneration"] = observed
    return found
