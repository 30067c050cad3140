# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The loop every role relies on: apply, wait, re-apply unchanged, reach a pod through the API."""
import json
import os
import pathlib
import socket
import subprocess

import pytest

from tests.helpers.ansible import run_playbook
from tests.helpers.cluster import REPO, forward_pod_port, kubectl, kubectl_binary, kubectl_json, kubeconfig_path

pytestmark = pytest.mark.localkube
PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "loop.yml"


def test_server_reports_the_pinned_version():
    pinned = dict(line.split("=", 1) for line in (REPO / "tools" / "localkube" / "versions.env").read_text()
                  .splitlines() if line and not line.startswith("#"))
    version = json.loads(kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert version["gitVersion"] == "v" + pinned["KUBERNETES_VERSION"]


def test_rbac_denies_a_service_account_without_bindings(namespace):
    kubectl("create", "serviceaccount", "nobody", "-n", namespace)
    user = "system:serviceaccount:{}:nobody".format(namespace)
    denied = kubectl("auth", "can-i", "list", "pods", "-n", namespace, "--as", user, check=False)
    allowed_admin = kubectl("auth", "can-i", "list", "pods", "-n", namespace, check=False)
    assert denied.stdout.strip() == "no"
    assert allowed_admin.stdout.strip() == "yes"


def test_nodes_are_ready_with_zones():
    nodes = kubectl_json("get", "nodes")["items"]
    assert len(nodes) >= 3
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"].startswith("zone-")


def test_apply_wait_and_reapply_unchanged(namespace):
    first = run_playbook(PLAYBOOK, {"loop_namespace": namespace})
    assert first.rc == 0, first
    assert first.changed == 1, first
    claim = kubectl_json("get", "pvc", "data-data-0", "-n", namespace)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == namespace + "-pv-0"
    assert kubectl_json("get", "deployment", "web", "-n", namespace)["status"]["readyReplicas"] == 2
    slices = kubectl_json("get", "endpointslices", "-n", namespace, "-l", "kubernetes.io/service-name=web")
    assert sum(len(s.get("endpoints") or []) for s in slices["items"]) == 2

    second = run_playbook(PLAYBOOK, {"loop_namespace": namespace})
    assert second.rc == 0, second
    assert second.changed == 0, second
    kubectl("delete", "pv", namespace + "-pv-0", "--wait=false", check=False)
    kubectl("delete", "storageclass", namespace + "-manual", check=False)


def _pod(namespace, name):
    kubectl("run", name, "-n", namespace, "--image=registry.invalid/echo:1", "--restart=Never")
    kubectl("wait", "--for=condition=Ready", "pod/" + name, "-n", namespace, "--timeout=60s")


def test_kubectl_port_forward_reaches_a_loopback_target(namespace, echo_server):
    _pod(namespace, "echo")
    forward_pod_port(namespace, "echo", 7000, echo_server.port)
    process = subprocess.Popen([kubectl_binary(), "--kubeconfig", kubeconfig_path(), "port-forward", "-n", namespace,
                                "pod/echo", ":7000"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("Forwarding from 127.0.0.1:"), line
        local_port = int(line.split("127.0.0.1:")[1].split()[0])
        with socket.create_connection(("127.0.0.1", local_port), timeout=10) as connection:
            connection.sendall(b"ping")
            assert connection.recv(100) == b"echo:ping"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert echo_server.connections == 1


def test_python_port_forward_reaches_a_loopback_target(namespace, echo_server):
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import Kube
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward

    _pod(namespace, "echo")
    forward_pod_port(namespace, "echo", 7000, echo_server.port)
    kube = Kube({"kubeconfig": kubeconfig_path()})
    with LocalForward(kube, namespace, "echo", 7000) as (host, port):
        for message in (b"one", b"two"):
            with socket.create_connection((host, port), timeout=10) as connection:
                connection.sendall(message)
                assert connection.recv(100) == b"echo:" + message
    assert echo_server.connections == 2


def localkube_kubeconfig(profile):
    env = {name: value for name, value in os.environ.items() if not name.startswith("LOCALKUBE_")}
    env["LOCALKUBE_PROFILE"] = profile
    return subprocess.run([str(REPO / "tools" / "localkube" / "localkube"), "kubeconfig"], env=env,
                          capture_output=True, text=True, check=False)


def test_profiles_are_separate_clusters():
    """make test runs on LOCALKUBE_PROFILE=test: a state directory and ports of its own, never the demo's."""
    default, test = localkube_kubeconfig("default").stdout.strip(), localkube_kubeconfig("test").stdout.strip()
    assert default.endswith("/cluster/kubeconfig") and test.endswith("/cluster-test/kubeconfig")
    if os.environ.get("LOCALKUBE_PROFILE") == "test":
        assert kubeconfig_path() == test
        server = json.loads(pathlib.Path(test).read_text())["clusters"][0]["cluster"]["server"]
        assert server == "https://127.0.0.1:26443"
    unknown = localkube_kubeconfig("staging")
    assert unknown.returncode != 0
    assert "LOCALKUBE_PROFILE must be one of default, test, or a name" in unknown.stdout + unknown.stderr
    assert "got 'staging' (LOCALKUBE_SLOT=None)" in unknown.stdout + unknown.stderr
