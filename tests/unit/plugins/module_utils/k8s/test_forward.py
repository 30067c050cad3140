# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LocalForward: closing it stops listening and ends its accept thread."""
import threading

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward


def accepting():
    return [thread for thread in threading.enumerate() if thread.name.endswith("(_accept_loop)")]


def test_closing_ends_the_accept_thread():
    before = len(accepting())
    with LocalForward(None, "db", "es-0", 9200):
        assert len(accepting()) == before + 1
    assert len(accepting()) == before
