# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server's audit log of watch starts (localkube writes it): proof that a waiter is watching."""
import json
import pathlib
import time

from tests.helpers.cluster import localkube


class AuditLog(object):
    def __init__(self):
        home = pathlib.Path(localkube("kubeconfig").stdout.strip()).parent
        self.path = home / "logs" / "audit.log"
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def _entries(self):
        with open(str(self.path), "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def read(self):
        """Every complete entry written since the last read (or since this object was made)."""
        return list(self._entries())

    def wait_for_watch(self, resource, namespace, timeout=180.0):
        """Block until a watch on `resource` in `namespace` starts after the last call; return its entry."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self._entries():
                ref = entry.get("objectRef", {})
                if entry.get("verb") == "watch" and ref.get("resource") == resource \
                        and ref.get("namespace") == namespace:
                    return entry
            time.sleep(0.05)
        raise AssertionError("no watch on {} in {} within {}s".format(resource, namespace, timeout))
