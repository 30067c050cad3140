# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pods that match a label selector in one namespace, kept current by one list-and-watch while waiting."""
import threading

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

PODS_PATH = "/api/v1/namespaces/{namespace}/pods"


class PodSet(object):
    def __init__(self, kube, namespace, selector):
        self.kube, self.namespace, self.selector = kube, namespace, selector
        self.pods = {}  # name -> pod
        self.error = None
        self._changed = threading.Condition()

    def _on_event(self, kind, obj):
        with self._changed:
            if kind == "SYNC":
                self.pods = {pod["metadata"]["name"]: pod for pod in obj}
            elif kind == "ERROR":
                self.error = obj
            elif kind == "DELETED":
                self.pods.pop(obj["metadata"]["name"], None)
            else:
                self.pods[obj["metadata"]["name"]] = obj
            self._changed.notify_all()

    def list_once(self):
        listing = self.kube.get(PODS_PATH.format(namespace=self.namespace), {"labelSelector": self.selector})
        self._on_event("SYNC", listing.get("items", []))
        return self

    def wait(self, predicate, deadline):
        """Until predicate(pods) holds (True) or `deadline.remaining()` runs out (False); one watch meanwhile."""
        from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watch import list_and_watch

        self.list_once()
        if predicate(self.pods) or deadline.remaining() <= 0:
            return bool(predicate(self.pods))
        stop = threading.Event()
        thread = threading.Thread(target=list_and_watch, daemon=True,
                                  args=(self.kube, PODS_PATH.format(namespace=self.namespace),
                                        {"labelSelector": self.selector}, self._on_event, stop.is_set))
        thread.start()
        try:
            with self._changed:
                while True:
                    if self.error is not None:
                        raise KubeError("watching pods in {}: {}".format(self.namespace, self.error))
                    if predicate(self.pods):
                        return True
                    left = deadline.remaining()
                    if left <= 0:
                        return False
                    self._changed.wait(timeout=left)
        finally:
            stop.set()
