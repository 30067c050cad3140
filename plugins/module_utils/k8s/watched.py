# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A collection kept current by list_and_watch, and waiting until a condition on one or several holds."""
import threading

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watch import list_and_watch


class Watched(object):
    """The objects of one collection by name; `changed` (a Condition) may be shared to wait on several at once."""

    def __init__(self, kube, path, query=None, resource=None, changed=None, what=None):
        self.kube, self.path, self.query = kube, path, dict(query or {})
        self.resource = resource  # stamps its kind and apiVersion on listed objects, which lack them
        self.what = what or path
        self.objects = {}  # name -> object
        self.synced = False
        self.error = None  # a failure that watching again will not heal (403, 404)
        self.unreachable = None  # the last transient failure since the last successful list
        self.changed = changed or threading.Condition()

    def _on_event(self, kind, payload):
        with self.changed:
            if kind == "RETRYING":
                self.unreachable = payload
            elif kind == "SYNC":
                for obj in payload if self.resource else ():
                    obj.setdefault("kind", self.resource.kind)
                    obj.setdefault("apiVersion", self.resource.api_version)
                self.objects = {obj["metadata"]["name"]: obj for obj in payload}
                self.synced, self.unreachable = True, None
            elif kind == "ERROR":
                self.error = payload
            elif kind == "DELETED":
                self.objects.pop(payload["metadata"]["name"], None)
            else:
                self.objects[payload["metadata"]["name"]] = payload
            self.changed.notify_all()

    def list_once(self):
        listing = self.kube.get(self.path, self.query)
        self._on_event("SYNC", listing.get("items", []))
        return self

    def wait(self, predicate, deadline):
        """Until predicate(objects) holds (True) or `deadline.remaining()` runs out (False); one watch meanwhile."""
        def holds():
            if self.error is not None:
                raise KubeError("watching {}: {}".format(self.what, self.error))
            return predicate(self.objects)
        return wait_until([self], holds, deadline)


def wait_until(collections, holds, deadline):
    """Watch every collection until holds() is true (True) or the deadline passes (False).

    The collections share one Condition; holds() is asked with it held, at first and after each change.
    Once this returns, the collections stay as they were: events that arrive later are dropped.
    """
    changed = collections[0].changed
    with changed:
        if holds():
            return True
        if deadline.remaining() <= 0:
            return False
        stop = threading.Event()
        for collection in collections:
            threading.Thread(target=list_and_watch, daemon=True,
                             args=(collection.kube, collection.path, collection.query,
                                   _unless(stop, collection), stop.is_set)).start()
        try:
            while not holds():
                left = deadline.remaining()
                if left <= 0:
                    return False
                changed.wait(timeout=left)
            return True
        finally:
            stop.set()


def _unless(stop, collection):
    def on_event(kind, payload):
        with collection.changed:
            if not stop.is_set():
                collection._on_event(kind, payload)
    return on_event
