# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records, from an independent watch, when a Deployment became ready: the reference for wait latency.

The watch runs in a thread of the bench process (the kubernetes client, not the collection's code),
and is established before the caller changes anything: the constructor returns only once the watch
delivered the Deployment's current state. The moment noted is when the event that shows the
Deployment ready arrived here, so the reference includes the API server's own delivery delay, as
both waiters do; a kubectl watch in a subprocess added its start-up and pipe delays instead, which
lagged by seconds on a loaded machine and made latencies come out negative.
"""
import threading
import time

from tests.helpers.cluster import kubeconfig_path


def is_ready(deployment):
    """Ready by the stricter of both waiters' rules: every replica updated, ready and available."""
    spec, status, meta = deployment.get("spec", {}), deployment.get("status") or {}, deployment.get("metadata", {})
    want = spec.get("replicas")
    return bool(want) and all(status.get(key) == want for key in
                              ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")) \
        and status.get("observedGeneration") == meta.get("generation") and not status.get("unavailableReplicas")


class ReadinessClock(object):
    """Watches one Deployment and notes the wall time (time.time()) the event showing it ready arrived."""

    def __init__(self, namespace, name, timeout=300):
        from kubernetes import client, config, watch

        self.ready_at = None
        self.events = 0
        self.error = None
        self._ready = threading.Event()
        self._started = threading.Event()
        self._api = client.AppsV1Api(config.new_client_from_config(config_file=kubeconfig_path()))
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, args=(namespace, name, timeout), daemon=True)
        self._thread.start()
        if not self._started.wait(60):
            self._watch.stop()
            raise RuntimeError("readiness clock: no event from the watch on {}/{} within 60 s ({})".format(
                namespace, name, self.error))

    def _run(self, namespace, name, timeout):
        try:
            for event in self._watch.stream(self._api.list_namespaced_deployment, namespace,
                                            field_selector="metadata.name=" + name, timeout_seconds=timeout):
                now = time.time()
                self.events += 1
                ready = is_ready(event.get("raw_object") or {})
                self._started.set()
                if ready and self.ready_at is None:
                    self.ready_at = now
                    self._ready.set()
                    break
        except Exception as error:  # pylint: disable=broad-except  # reported by close()
            self.error = error
        finally:
            self._started.set()
            self._watch.stop()

    def close(self, timeout=30.0):
        """Wait (up to timeout) for the ready moment, then stop watching."""
        self._ready.wait(timeout)
        self._watch.stop()
        return self.ready_at
