# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a workload needs from a node, on the real nodes: probes, logs, exec, port-forward, pod-to-pod across
nodes, Services through kube-proxy, DNS through CoreDNS, the API server from a pod, and local volumes that
keep their data when the pod goes."""
import socket
import subprocess
import uuid

import pytest

from tests.helpers.cluster import apply, kubectl, kubectl_binary, kubeconfig_path
from tests.helpers.ports import free_port

BUSYBOX = "localhost/localkube/busybox:1.35"


def pod(namespace, name, node, command, labels=None, probe_port=None, volumes=None):
    container = {"name": "main", "image": BUSYBOX, "imagePullPolicy": "Never", "command": ["sh", "-c", command],
                 "securityContext": {"runAsUser": 65534, "runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]}}}
    spec = {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [container]}
    if probe_port:
        container["readinessProbe"] = {"httpGet": {"path": "/host.txt", "port": probe_port}, "periodSeconds": 1}
    if volumes:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": volumes}}]
        spec["securityContext"] = {"fsGroup": 65534}
    return {"apiVersion": "v1", "kind": "Pod", "spec": spec,
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}}


def ready(namespace, *names, timeout=90):
    kubectl("wait", "--for=condition=Ready", "-n", namespace, "--timeout={}s".format(timeout),
            *["pod/" + n for n in names])


def in_pod(namespace, name, *command):
    return kubectl("exec", "-n", namespace, name, "--", *command).stdout.strip()


@pytest.fixture(scope="module")
def web(request):
    namespace = "realnodes-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", namespace)
    kubectl("wait", "--for=jsonpath={.metadata.name}=default", "serviceaccount/default", "-n", namespace,
            "--timeout=60s")
    httpd = "echo starting httpd; mkdir -p /tmp/www; hostname > /tmp/www/host.txt; exec httpd -f -p 8080 -h /tmp/www"
    apply(pod(namespace, "web", "localkube-node-0", httpd, labels={"app": "web"}, probe_port=8080))
    apply(pod(namespace, "client", "localkube-node-1", "exec sleep 100000"))
    for service, cluster_ip in (("web", None), ("web-headless", "None")):
        spec = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        if cluster_ip:
            spec["clusterIP"] = cluster_ip
        apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": service, "namespace": namespace},
               "spec": spec})
    ready(namespace, "web", "client")
    yield namespace
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def pod_ip(namespace, name):
    return kubectl("get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.podIP}").stdout


def test_pods_on_different_nodes_get_addresses_of_their_nodes(web, real_cluster):
    assert pod_ip(web, "web").startswith(real_cluster.plan.pod_cidr(0).rsplit(".", 2)[0] + ".0.")
    assert pod_ip(web, "client").startswith(real_cluster.plan.pod_cidr(1).rsplit(".", 2)[0] + ".1.")


def test_logs_and_exec_go_through_the_kubelet(web):
    assert kubectl("logs", "web", "-n", web).stdout.splitlines()[0] == "starting httpd"
    assert in_pod(web, "web", "cat", "/tmp/www/host.txt") == "web"


def test_port_forward_reaches_the_container(web):
    port = free_port()
    forward = subprocess.Popen([kubectl_binary(), "--kubeconfig", kubeconfig_path(), "port-forward", "-n", web,
                                "pod/web", "{}:8080".format(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert "Forwarding from 127.0.0.1" in forward.stdout.readline()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET /host.txt HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := connection.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.") and reply.rstrip().endswith(b"web")
    finally:
        forward.terminate()
        forward.wait()


def test_pod_to_pod_across_nodes(web):
    assert in_pod(web, "client", "wget", "-qO-", "http://{}:8080/host.txt".format(pod_ip(web, "web"))) == "web"


def test_service_by_cluster_ip_and_by_dns_name(web):
    cluster_ip = kubectl("get", "service", "web", "-n", web, "-o", "jsonpath={.spec.clusterIP}").stdout
    assert in_pod(web, "client", "wget", "-qO-", "http://{}/host.txt".format(cluster_ip)) == "web"
    assert in_pod(web, "client", "wget", "-qO-", "http://web/host.txt") == "web"
    hairpin = in_pod(web, "web", "wget", "-qO-", "http://{}/host.txt".format(cluster_ip))
    assert hairpin == "web", "a pod reaches itself through its own Service"


def test_headless_service_resolves_to_the_pod(web):
    answer = in_pod(web, "client", "nslookup", "web-headless.{}.svc.cluster.local".format(web))
    assert pod_ip(web, "web") in answer


def test_api_server_through_the_kubernetes_service(web):
    answer = in_pod(web, "client", "wget", "-qO-", "--no-check-certificate", "https://kubernetes.default.svc/livez")
    assert answer == "ok"


def test_local_volume_keeps_its_data_when_the_pod_goes(web, real_cluster):
    path = real_cluster.home / "volumes" / uuid.uuid4().hex[:8]
    path.mkdir(parents=True)
    name = "pv-" + web
    apply({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "", "claimRef": {"namespace": web, "name": "data"}, "local": {"path": str(path)},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["localkube-node-2"]}]}]}}}})
    apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": web},
           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": name,
                    "resources": {"requests": {"storage": "1Gi"}}}})
    apply(pod(web, "writer", "localkube-node-2", "date +%s%N > /data/first; exec sleep 100000", volumes="data"))
    ready(web, "writer")
    written = in_pod(web, "writer", "cat", "/data/first")
    kubectl("delete", "pod", "writer", "-n", web, "--wait=true")
    apply(pod(web, "reader", "localkube-node-2", "exec sleep 100000", volumes="data"))
    ready(web, "reader")
    assert written and in_pod(web, "reader", "cat", "/data/first") == written
    assert (path / "first").read_text().strip() == written
    kubectl("delete", "pod", "reader", "-n", web, "--wait=false")
    kubectl("delete", "pv", name, "--wait=false", check=False)
