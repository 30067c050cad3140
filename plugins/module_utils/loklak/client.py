# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak's own API, end to end: a marker message pushed (/api/push.json) and found again through search
(/api/search.json?source=cache), which loklak answers from Elasticsearch. Both calls go loklak -> Elasticsearch
-> loklak, so a found marker proves the whole path, and finding it without pushing proves that the index kept it.

The marker is derived from the deployment's identity (one message per namespace and name, with a fixed id),
so pushing it again overwrites the same document: a second run finds it and writes nothing.
"""
import hashlib
import json
import time
from datetime import datetime, timezone

from http.client import HTTPConnection
from urllib.parse import urlencode, urlsplit

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError


class LoklakError(DatastoresError):
    """loklak did not answer as expected; ``result`` has what was seen."""


def marker_for(namespace, name):
    """(search word, message id) for one deployment: stable, one word, numeric id as loklak expects."""
    digest = hashlib.sha256(("%s/%s" % (namespace, name)).encode()).hexdigest()
    return "sdverify" + digest[:12], str(900000000000000000 + int(digest[12:26], 16) % 99999999999999999)


def marker_message(word, message_id, now=None):
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    user = {"screen_name": "stateful_datastores", "user_id": "1", "name": "stateful.datastores"}
    status = {"created_at": stamp, "timestamp": stamp, "screen_name": user["screen_name"],
              "text": "stateful.datastores verification %s" % word,
              "link": "https://twitter.com/%s/status/%s" % (user["screen_name"], message_id),
              "id_str": message_id, "post_id": message_id, "user": user}
    return {"search_metadata": {"query": word}, "statuses": [status]}


class Client(object):
    """HTTP/1.1 without "Connection: close": loklak then marks where each body ends (length or chunks), so an
    answer is complete without waiting for the connection to close, which a port-forward tunnel may not pass on."""

    def __init__(self, base_url, timeout=10.0, connection_class=HTTPConnection):
        self.base_url, self.timeout, self.connection_class = base_url.rstrip("/"), timeout, connection_class
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname, parts.port or 80

    def _call(self, path, data=None):
        body = urlencode(data).encode() if data is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection = self.connection_class(self.host, self.port, timeout=self.timeout)
        try:
            connection.request("POST" if body else "GET", path, body=body, headers=headers)
            answer = connection.getresponse()
            status, text = answer.status, answer.read().decode("utf-8", "replace")
        finally:
            connection.close()
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        return status, parsed, text

    def push(self, message):
        status, parsed, text = self._call("/api/push.json", {"data": json.dumps(message)})
        if status != 200 or not isinstance(parsed, dict) or parsed.get("status") != "ok":
            raise LoklakError("loklak at %s refused the push (HTTP %s): %s" % (self.base_url, status, text[:300]))
        return parsed

    def search(self, word):
        """The statuses that loklak finds for `word` in its index; None when it could not ask Elasticsearch."""
        status, parsed, _text = self._call("/api/search.json?" + urlencode(
            {"q": word, "source": "cache", "count": "10", "minified": "true"}))
        # Without Elasticsearch loklak answers 200 with an empty body: that is not "no hits".
        if status != 200 or not isinstance(parsed, dict) or "search_metadata" not in parsed:
            return None
        return parsed.get("statuses") or []


def verify(client, word, message_id, deadline, push=True, sleep=1.0, clock=time.monotonic):
    """Find the marker; push it first when it is not found and `push`; wait until search finds it.

    Returns {found, pushed, marker, message_id, searches, elapsed}; raises LoklakError on timeout.
    """
    started = clock()
    result = {"found": False, "pushed": False, "marker": word, "message_id": message_id, "searches": 0,
              "backend_answered": False}

    def search():
        result["searches"] += 1
        while True:  # a server that is still starting (or a port-forward being set up) refuses connections
            try:
                statuses = client.search(word)
                break
            except (OSError, ValueError):
                if deadline.remaining() <= sleep:
                    raise
                time.sleep(sleep)
        if statuses is not None:
            result["backend_answered"] = True
        return any(word in (status.get("text") or "") for status in statuses or [])

    result["found"] = search()
    if not result["found"] and push:
        client.push(marker_message(word, message_id))
        result["pushed"] = True
        # loklak queues pushed messages and indexes them in the background (seconds).
        while not result["found"] and deadline.remaining() > 0:
            time.sleep(min(sleep, max(deadline.remaining(), 0)))
            result["found"] = search()
    result["elapsed"] = round(clock() - started, 3)
    if push and not result["found"]:
        cause = ("its searches found nothing" if result["backend_answered"]
                 else "it never answered a search from Elasticsearch (empty answers: the backend is unreachable)")
        raise LoklakError("loklak at %s: the marker message %s was pushed but not found through search within the "
                          "deadline; %s" % (client.base_url, word, cause), result)
    return result
