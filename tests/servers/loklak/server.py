# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real loklak server (built by build.py) in a sealed namespace, run as the image runs it.

The working directory is what the image's /loklak_server holds: the built bin/, conf/, html/, ssi/,
installation/, build/ and test/queries (linked from the cache) and data/, which is the pod's volume
and outlives the process. data/settings/customized_config.properties is the file the role renders
into its ConfigMap, written here unchanged.
"""

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.servers.loklak.build import RUNTIME_PATHS, ensure_dist


class Server(object):
    def __init__(self, namespace, workdir, properties, port=80):
        self.namespace, self.port = namespace, port
        self.workdir = Path(workdir)
        dist = ensure_dist()
        for relative in list(RUNTIME_PATHS) + ["build"]:
            target = self.workdir / relative
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(dist / relative)
        self.settings = self.workdir / "data" / "settings"
        self.settings.mkdir(parents=True, exist_ok=True)
        if properties is not None:
            self.write_settings(properties)
        self.relay = namespace.relay(("127.0.0.1", port))
        self.process = None

    def write_settings(self, properties):
        (self.settings / "customized_config.properties").write_text(properties)

    def start(self, timeout=180.0):
        log = open(self.workdir / "loklak.out", "ab")
        (self.workdir / "data" / "loklak.pid").unlink(missing_ok=True)
        self.process = subprocess.Popen(self.namespace.command([str(self.workdir / "bin" / "start.sh"), "-Idn"]),
                                        stdout=log, stderr=subprocess.STDOUT, cwd=str(self.workdir))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("loklak exited (%s):\n%s" % (self.process.returncode, self.log_tail()))
            try:
                if self.get("/api/status.json", timeout=3)[0] == 200:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise TimeoutError("loklak did not answer /api/status.json in %.0f s:\n%s" % (timeout, self.log_tail()))

    def get(self, path, timeout=10.0):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.relay.port, path), timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def push_messages(self, word, count):
        """Push `count` messages that contain `word`, oldest first (loklak drops a timeline going back in time)."""
        now = datetime.now(timezone.utc)
        statuses, ids = [], []
        for index in range(count):
            stamp = (now - timedelta(minutes=count - index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            message_id = str(980000000000000000 + int(now.timestamp()) * 100 + index)
            ids.append(message_id)
            statuses.append({"created_at": stamp, "timestamp": stamp, "screen_name": "seed_user",
                             "text": "seed message %d %s" % (index, word), "id_str": message_id,
                             "post_id": message_id, "link": "https://twitter.com/seed_user/status/" + message_id,
                             "user": {"screen_name": "seed_user", "user_id": "2", "name": "Seed"}})
        body = urllib.parse.urlencode({"data": json.dumps({"search_metadata": {"query": word},
                                                           "statuses": statuses})}).encode()
        with urllib.request.urlopen("http://127.0.0.1:%d/api/push.json" % self.relay.port, data=body,
                                    timeout=30) as answer:
            assert json.loads(answer.read())["status"] == "ok"
        return ids

    def ids_for(self, word):
        answer = self.get("/api/search.json?" + urllib.parse.urlencode({"q": word, "source": "cache", "count": 50}))[1]
        return [status["id_str"] for status in (answer or {}).get("statuses", [])]

    def wait_for_hits(self, word, count, timeout=60.0):
        """Search until `count` messages with `word` come back (loklak indexes pushed messages in the background)."""
        deadline = time.monotonic() + timeout
        found = []
        while time.monotonic() < deadline:
            found = self.ids_for(word)
            if len(found) >= count:
                break
            time.sleep(0.5)
        return len(found)

    def log_tail(self, lines=40):
        path = self.workdir / "loklak.out"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self):
        self.stop()
        self.relay.close()
