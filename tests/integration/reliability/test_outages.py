# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waits survive a cut watch and an API server restart, and finish when the object appears."""
import json
import threading

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.audit import AuditLog
from tests.helpers.cluster import kubeconfig_path, kubectl, localkube
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.localkube


class BackgroundWait(object):
    def __init__(self, args):
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(args,), daemon=True)
        self.thread.start()

    def _run(self, args):
        self.result = run_module("stateful.datastores.wait_ready", args)

    def join(self):
        self.thread.join(timeout=300)
        assert self.result is not None, "the wait never returned"
        return self.result


def _proxied_kubeconfig(tmp_path, port):
    config = json.loads(open(kubeconfig_path()).read())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:{}".format(port)
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.fault
def test_wait_resumes_after_its_watch_is_cut(namespace, tmp_path):
    api_port = int(json.loads(open(kubeconfig_path()).read())["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])
    proxy = TcpProxy(api_port)
    audit = AuditLog()
    waiting = BackgroundWait({"kubeconfig": _proxied_kubeconfig(tmp_path, proxy.port), "namespace": namespace,
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
    waiting = BackgroundWait({"namespace": namespace, "timeout": 240,
                              "objects": [{"kind": "ConfigMap", "name": "after-restart"}]})
    audit.wait_for_watch("configmaps", namespace)
    restarted = localkube("restart", "kube-apiserver", check=False)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    audit.wait_for_watch("configmaps", namespace)
    kubectl("create", "configmap", "after-restart", "-n", namespace)
    rc, result = waiting.join()
    assert rc == 0, result
    assert result["objects"][0]["state"] == "ready"
