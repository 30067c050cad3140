# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak_verify's logic: the marker, push-then-search, and what an unreachable backend looks like.

A loopback HTTP server plays loklak's two calls with the answers the real server gives (recorded
from loklak_server f79c657 on Elasticsearch 2.4.6, tests/integration/loklak): 200 with
search_metadata when Elasticsearch answers, 200 with an EMPTY body when it does not. The end-to-end
path through real servers is tests/integration/loklak.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from ansible_collections.stateful.datastores.plugins.module_utils.loklak.client import (
    Client,
    LoklakError,
    marker_for,
    marker_message,
    verify,
)


class FakeLoklak(object):
    """Indexes pushed statuses after `index_after` searches; `backend_up` False answers searches empty."""

    def __init__(self, backend_up=True, index_after=1):
        self.backend_up, self.index_after = backend_up, index_after
        self.pending, self.indexed, self.pushes, self.searches = [], [], 0, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, body):
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                fake.pushes += 1
                fake.pending += json.loads(form["data"][0])["statuses"]
                self._answer(json.dumps({"status": "ok", "records": 1}))

            def do_GET(self):
                word = parse_qs(urlsplit(self.path).query)["q"][0]
                fake.searches += 1
                if not fake.backend_up:
                    self._answer("")
                    return
                if fake.searches > fake.index_after:
                    fake.indexed, fake.pending = fake.indexed + fake.pending, []
                hits = [s for s in fake.indexed if word in s["text"]]
                self._answer(json.dumps({"search_metadata": {"hits": len(hits)}, "statuses": hits}))

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loklak():
    servers = []

    def make(**kwargs):
        servers.append(FakeLoklak(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_the_marker_is_one_word_and_stable_per_deployment():
    word, message_id = marker_for("loklak", "loklak")
    assert (word, message_id) == marker_for("loklak", "loklak")
    assert marker_for("web", "loklak")[0] != word
    assert word.isalnum() and message_id.isdigit() and len(message_id) == 18
    status = marker_message(word, message_id)["statuses"][0]
    assert word in status["text"] and status["id_str"] == status["post_id"] == message_id


def test_pushes_when_absent_then_finds_it(loklak):
    server = loklak(index_after=2)
    word, message_id = marker_for("ns", "app")
    result = verify(Client(server.url), word, message_id, Deadline(10), sleep=0.01)
    assert (result["found"], result["pushed"], result["backend_answered"]) == (True, True, True)
    assert server.pushes == 1 and result["searches"] >= 3


def test_a_found_marker_is_not_pushed_again(loklak):
    server = loklak(index_after=0)
    word, message_id = marker_for("ns", "app")
    verify(Client(server.url), word, message_id, Deadline(10), sleep=0.01)
    again = verify(Client(server.url), word, message_id, Deadline(10), sleep=0.01)
    assert (again["found"], again["pushed"], again["searches"]) == (True, False, 1)
    assert server.pushes == 1


def test_check_mode_only_searches(loklak):
    server = loklak()
    result = verify(Client(server.url), "nothere", "900000000000000001", Deadline(10), push=False, sleep=0.01)
    assert (result["found"], result["pushed"], server.pushes) == (False, False, 0)


def test_an_unreachable_backend_is_named_in_the_failure(loklak):
    server = loklak(backend_up=False)
    with pytest.raises(LoklakError) as caught:
        verify(Client(server.url), "sdverifyx", "900000000000000001", Deadline(0.3), sleep=0.05)
    assert "never answered a search from Elasticsearch" in str(caught.value)
    assert caught.value.result["pushed"] is True and caught.value.result["found"] is False


def test_a_server_that_is_gone_fails_after_the_deadline(loklak):
    server = loklak()
    server.close()
    with pytest.raises(OSError):
        verify(Client(server.url, timeout=1), "w", "900000000000000001", Deadline(0.2), sleep=0.05)
