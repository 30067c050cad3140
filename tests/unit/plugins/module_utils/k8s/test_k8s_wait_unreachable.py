# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wait that never reaches the API server says why at its deadline, not "not observed yet".

The API server is a stand-in that refuses every request: the fault is the absence of a server.
"""
import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.wait import Waiter, WaitError


class RefusingKube(object):
    host = "https://127.0.0.1:9"

    def request(self, method, path, query=None, **kwargs):
        raise KubeError("{} {}: cannot reach the API server at {}: [Errno 111] Connection refused"
                        .format(method, path, self.host), host=self.host)


def test_unreachable_api_server_is_named_at_the_deadline():
    waiter = Waiter(RefusingKube(), [{"kind": "StatefulSet", "name": "hz"}], default_namespace="ns", timeout=1,
                    describe_error=lambda error: "translated: " + str(error))
    with pytest.raises(WaitError) as raised:
        waiter.run()
    message = str(raised.value)
    assert "StatefulSet ns/hz: never observed: translated:" in message and "Connection refused" in message
    assert "not observed yet" not in message
