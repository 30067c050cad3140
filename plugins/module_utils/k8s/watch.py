# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List then watch one collection, surviving expired resourceVersions (410) and dropped connections."""
import json
import time

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

WATCH_SECONDS = 50
TRANSIENT = (OSError, ValueError)
try:
    from urllib3.exceptions import HTTPError as Urllib3Error
    TRANSIENT = TRANSIENT + (Urllib3Error,)
except ImportError:  # pragma: no cover - urllib3 comes with the kubernetes client
    pass


class WatchStopped(Exception):
    pass


def _lines(response):
    pending = b""
    for chunk in response.stream(4096, decode_content=True):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield line


def list_and_watch(kube, path, query, on_event, stopped, reconnect_delay=0.2):
    """Call on_event("SYNC", items) after every (re)list and on_event(type, obj) for each change.

    Runs until stopped() is true. Transient failures reconnect with backoff, each passed as
    on_event("RETRYING", error) so that a wait can say why nothing was observed; a 410 relists.
    Errors that will not heal (403, 404 on the collection) are passed as on_event("ERROR", KubeError).
    """
    position = {"resourceVersion": None}
    failures = 0
    while not stopped():
        try:
            if position["resourceVersion"] is None:
                listing = kube.request("GET", path, query, retry=False)
                position["resourceVersion"] = listing.get("metadata", {}).get("resourceVersion")
                on_event("SYNC", listing.get("items", []))
            _watch(kube, path, query, position, on_event, stopped)
            failures = 0
        except KubeError as error:
            if error.status in (401, 403, 404, 422):
                on_event("ERROR", error)
                return
            if error.status == 410:
                position["resourceVersion"] = None
                continue
            failures += 1
            on_event("RETRYING", error)
            time.sleep(min(5.0, reconnect_delay * (2 ** min(failures, 5))))
        except WatchStopped:
            return
        except TRANSIENT as error:
            failures += 1
            on_event("RETRYING", error)
            time.sleep(min(5.0, reconnect_delay * (2 ** min(failures, 5))))


def _watch(kube, path, query, position, on_event, stopped):
    """Stream changes after position["resourceVersion"], advancing it with every event seen."""
    watch_query = dict(query or {})
    watch_query.update({"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": str(WATCH_SECONDS)})
    if position["resourceVersion"]:
        watch_query["resourceVersion"] = position["resourceVersion"]
    response = kube.request("GET", path, watch_query, stream=True, timeout=(10, WATCH_SECONDS + 10), retry=False)
    try:
        for line in _lines(response):
            if stopped():
                raise WatchStopped()
            event = json.loads(line)
            obj = event.get("object") or {}
            kind = event.get("type")
            if kind == "ERROR":
                raise KubeError(obj.get("message", "watch error"), status=obj.get("code", 500),
                                reason=obj.get("reason", ""))
            position["resourceVersion"] = obj.get("metadata", {}).get("resourceVersion",
                                                                      position["resourceVersion"])
            if kind != "BOOKMARK":
                on_event(kind, obj)
    finally:
        response.release_conn()
