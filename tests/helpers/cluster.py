# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test access to the local control plane: kubectl, namespaces, KWOK port-forward targets, local volumes."""
import contextlib
import json
import pathlib
import re
import select
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
LOCALKUBE = REPO / "tools" / "localkube" / "localkube"


def localkube(*args, check=True):
    return subprocess.run([str(LOCALKUBE)] + list(args), capture_output=True, text=True, check=check)


def kubeconfig_path():
    return localkube("kubeconfig").stdout.strip()


def kubectl_binary():
    from tools.localkube.localkube_lib.versions import bin_dir
    return str(bin_dir() / "kubectl")


def kubectl(*args, stdin=None, check=True, timeout=120):
    command = [kubectl_binary(), "--kubeconfig", kubeconfig_path()] + list(args)
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError("kubectl {} failed ({}): {}".format(" ".join(args), result.returncode, result.stderr))
    return result


def kubectl_json(*args):
    return json.loads(kubectl(*(list(args) + ["-o", "json"])).stdout)


def recreate_pod(namespace, name, timeout=60):
    """Delete a controller's pod and wait until its replacement (another UID) is Ready.

    Not `kubectl delete --wait`: when the controller recreates the name at once, that wait can miss it."""
    old = kubectl_json("get", "pod", name, "-n", namespace)["metadata"]["uid"]
    kubectl("delete", "pod", name, "-n", namespace, "--wait=false")
    deadline = time.monotonic() + timeout
    while True:
        current = kubectl("get", "pod", name, "-n", namespace, "--ignore-not-found", "-o", "jsonpath={.metadata.uid}")
        if current.stdout.strip() not in ("", old):
            break
        assert time.monotonic() < deadline, "pod {}/{} was not recreated within {}s".format(namespace, name, timeout)
        time.sleep(0.2)
    kubectl("wait", "--for=condition=Ready", "pod/" + name, "-n", namespace, "--timeout={}s".format(timeout))


@contextlib.contextmanager
def port_forward(namespace, pod, port, timeout=60):
    """`kubectl port-forward` to a pod's port on 127.0.0.1 (a free local port); yields that local port.

    On real nodes the API server hands the stream to the node's kubelet, which dials the pod inside the node's
    sealed network namespace: nothing on the host dials a pod address."""
    command = [kubectl_binary(), "--kubeconfig", kubeconfig_path(), "port-forward", "-n", namespace,
               "--address", "127.0.0.1", "pod/" + pod, ":{}".format(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        readable = select.select([process.stdout], [], [], timeout)[0]
        line = process.stdout.readline() if readable else ""
        found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) ->", line)
        assert found, "kubectl port-forward to {}/{}:{} did not start: {!r}".format(namespace, pod, port, line)
        yield int(found.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


def apply(manifest):
    return kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))


def forward_pod_port(namespace, pod, port, target_port, target_address="127.0.0.1"):
    """Make port-forwards to the simulated pod's `port` reach target_address:target_port (KWOK PortForward)."""
    apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
           "metadata": {"name": pod, "namespace": namespace},
           "spec": {"forwards": [{"ports": [int(port)],
                                  "target": {"port": int(target_port), "address": target_address}}]}})


def forward_pod_ports(namespace, pod, targets, target_address="127.0.0.1"):
    """Like forward_pod_port, for several ports of one pod: `targets` maps pod port -> loopback port.

    KWOK reads one PortForward object per pod (named as the pod), so all of its ports go in one object.
    """
    forwards = [{"ports": [int(port)], "target": {"port": int(target), "address": target_address}}
                for port, target in sorted(targets.items())]
    apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
           "metadata": {"name": pod, "namespace": namespace}, "spec": {"forwards": forwards}})


def forward_pod_ports_cluster(namespace, pod, targets, target_address="127.0.0.1"):
    """Like forward_pod_ports, through a cluster-scoped KWOK ClusterPortForward that selects the pod by
    namespace and name, so it can be made before the namespace exists. Returns the object's name."""
    name = "{}.{}".format(namespace, pod)
    forwards = [{"ports": [int(port)], "target": {"port": int(target), "address": target_address}}
                for port, target in sorted(targets.items())]
    apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": name},
           "spec": {"selector": {"matchNamespaces": [namespace], "matchNames": [pod]}, "forwards": forwards}})
    return name


def local_volumes(storage_class, count_per_node):
    """PersistentVolumes of `storage_class`, `count_per_node` on every (simulated) node."""
    nodes = [node["metadata"]["name"] for node in kubectl_json("get", "nodes")["items"]]
    return [
        {"apiVersion": "v1", "kind": "PersistentVolume",
         "metadata": {"name": "{0}-{1}-{2}".format(storage_class, node, index)},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                  "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class,
                  "local": {"path": "/mnt/localkube/{0}-{1}".format(storage_class, index)},
                  "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                      {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}
        for node in nodes for index in range(count_per_node)]


@contextlib.contextmanager
def local_storage(storage_class, count_per_node):
    """StorageClass `storage_class` (no provisioner, WaitForFirstConsumer) and its PersistentVolumes on every
    (simulated) node, for pods that claim volumes; both removed afterwards."""
    volumes = local_volumes(storage_class, count_per_node)
    try:
        apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": storage_class},
               "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
               "reclaimPolicy": "Retain"})
        apply({"apiVersion": "v1", "kind": "List", "items": volumes})
        yield storage_class
    finally:
        kubectl("delete", "storageclass", storage_class, "--wait=false", check=False)
        kubectl("delete", "persistentvolume", *[volume["metadata"]["name"] for volume in volumes], "--wait=false",
                check=False)
