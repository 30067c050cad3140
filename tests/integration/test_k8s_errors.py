# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes failures in words, from the real API server and from an address where none listens."""
import time

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.ports import free_port

pytestmark = pytest.mark.localkube


def test_wait_ready_against_an_unreachable_api_server_says_connection_refused():
    address = "https://127.0.0.1:{}".format(free_port())
    started = time.monotonic()
    rc, result = run_module("stateful.datastores.wait_ready", {
        "host": address, "api_key": "unused", "validate_certs": False, "namespace": "ns", "timeout": 3,
        "objects": [{"kind": "StatefulSet", "name": "hz"}]})
    assert rc != 0 and time.monotonic() - started < 60
    assert "StatefulSet ns/hz: never observed" in result["msg"], result["msg"]
    assert "cannot reach the Kubernetes API server at {}: connection refused".format(address) in result["msg"]
    assert "not observed yet" not in result["msg"]


def test_k8s_apply_does_not_retry_an_object_the_api_server_cannot_convert(namespace):
    """The API server answers a quantity such as "2 GB" in a server-side apply with a 500 that never heals."""
    started = time.monotonic()
    rc, result = run_module("stateful.datastores.k8s_apply", {"namespace": namespace, "wait_timeout": 300, "definition": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
         "spec": {"containers": [{"name": "main", "image": "registry.invalid/x",
                                  "resources": {"limits": {"memory": "2 GB"}}}]}}]})
    assert rc != 0 and time.monotonic() - started < 30
    assert "quantities must match" in result["msg"] and "not retried" in result["msg"]
    assert "retried for" not in result["msg"]


def test_k8s_apply_retries_an_unreachable_api_server_within_wait_timeout_only():
    started = time.monotonic()
    rc, result = run_module("stateful.datastores.k8s_apply", {
        "host": "https://127.0.0.1:{}".format(free_port()), "api_key": "unused", "validate_certs": False,
        "namespace": "ns", "wait_timeout": 4,
        "definition": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]})
    elapsed = time.monotonic() - started
    assert rc != 0 and elapsed < 40, elapsed  # not the fixed 60 s it used to retry
    assert "connection refused" in result["msg"] and "retried for" in result["msg"]
