# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records, from an independent watch, when a Deployment became ready: the reference for wait latency."""
import json
import subprocess
import threading
import time

from tests.helpers.cluster import kubeconfig_path, kubectl_binary


class ReadinessClock(object):
    """Watches one Deployment with kubectl and notes the wall time its ready replicas reached the spec."""

    def __init__(self, namespace, name):
        self.ready_at = None
        self._ready = threading.Event()
        self._process = subprocess.Popen(
            [kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "deployment", name, "-n", namespace,
             "--watch", "--output-watch-events", "-o", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        decoder = json.JSONDecoder()
        buffer = ""
        for line in self._process.stdout:
            buffer += line
            try:
                event, end = decoder.raw_decode(buffer.lstrip())
            except ValueError:
                continue
            buffer = buffer.lstrip()[end:]
            obj = event.get("object", {})
            want = obj.get("spec", {}).get("replicas")
            status = obj.get("status", {})
            if self.ready_at is None and want and status.get("readyReplicas") == want \
                    and status.get("observedGeneration") == obj["metadata"].get("generation"):
                self.ready_at = time.time()
                self._ready.set()

    def close(self, timeout=15.0):
        """Stop watching, after the ready moment was seen (the watch may lag a busy machine)."""
        self._ready.wait(timeout)
        self._process.terminate()
        self._process.wait(timeout=10)
