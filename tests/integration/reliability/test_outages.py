# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waits survive a cut watch and an API server restart, and finish when the object appears; lookups retry
through an API server that drops connections."""
import json
import threading
import time

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.audit import AuditLog
from tests.helpers.cluster import kubeconfig_path, kubectl, localkube
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.localkube


class BackgroundModule(object):
    def __init__(self, args, module="stateful.datastores.wait_ready"):
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(module, args), daemon=True)
        self.thread.start()

    def _run(self, module, args):
        self.result = run_module(module, args)

    def join(self):
        self.thread.join(timeout=300)
        assert self.result is not None, "the wait never returned"
        return self.result


def _api_port():
    return int(json.loads(open(kubeconfig_path()).read())["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])


def _proxied_kubeconfig(tmp_path, port):
    config = json.loads(open(kubeconfig_path()).read())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:{}".format(port)
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.fault
def test_wait_resumes_after_its_watch_is_cut(namespace, tmp_path):
    proxy = TcpProxy(_api_port())
    audit = AuditLog()
    waiting = BackgroundModule({"kubeconfig": _proxied_kubeconfig(tmp_path, proxy.port), "namespace": namespace,
                                "timeout": 240, "objects": [{"kind": "ConfigMap", "name": "late"}]})
    try:
        audit.wait_for_watch("configmaps", namespace)
        assert proxy.cut() >= 1
        audit.wait_for_watch("configmaps", namespace)
        kubectl("create", "configmap", "late", "-n", namespace)
        rc, result = waiting.join()
    finally:
        proxy.close()
    assert rc == 0, result
    assert result["objects"][0]["state"] == "ready"


@pytest.mark.fault
def test_wait_completes_across_an_api_server_restart(namespace):
    audit = AuditLog()
    waiting = BackgroundModule({"namespace": namespace, "timeout": 240,
                                "objects": [{"kind": "ConfigMap", "name": "after-restart"}]})
    audit.wait_for_watch("configmaps", namespace)
    restarted = localkube("restart", "kube-apiserver", check=False)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    audit.wait_for_watch("configmaps", namespace)
    kubectl("create", "configmap", "after-restart", "-n", namespace)
    rc, result = waiting.join()
    assert rc == 0, result
    assert result["objects"][0]["state"] == "ready"


@pytest.mark.fault
def test_a_lookup_retries_while_the_api_server_drops_its_connections(namespace, tmp_path):
    """The roles read with the stateful.datastores.k8s_objects lookup: like the modules, it must ride out
    an API server that is restarting (here: the real server behind a proxy that closes every new connection
    until the lookup has been refused twice)."""
    kubectl("create", "configmap", "looked-up", "-n", namespace)
    proxy = TcpProxy(_api_port())
    proxy.dropping = True
    lookup = ("{{ query('stateful.datastores.k8s_objects', kind='ConfigMap', namespace='%s', resource_name='looked-up',"
              " kubeconfig='%s') | map(attribute='metadata.name') | list }}"
              % (namespace, _proxied_kubeconfig(tmp_path, proxy.port)))
    reading = BackgroundModule({"msg": lookup}, module="ansible.builtin.debug")
    try:
        deadline = time.monotonic() + 60
        while proxy.dropped < 2:
            assert time.monotonic() < deadline, "the lookup never reached the API server"
            time.sleep(0.05)
        proxy.dropping = False
        rc, result = reading.join()
    finally:
        proxy.close()
    assert rc == 0, result
    assert result["msg"] == ["looked-up"]
