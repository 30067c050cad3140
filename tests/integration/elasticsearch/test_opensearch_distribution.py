# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The elasticsearch role with elasticsearch_distribution=opensearch on localkube, against REAL OpenSearch 2.19.1.

KWOK runs the pods; three real OpenSearch nodes (tests/servers/elasticsearch, from Maven Central) stand
behind their port-forwards. The nodes run with what the role made and rendered: the admin password from
the role's Secret, the role's CA-signed certificate, and the role's own plugins.security.* settings from
the opensearch.yml in its ConfigMap (TLS on HTTP and transport from certs/tls.crt, tls.key and ca.crt,
nodes_dn naming the subject of the certificate the role generated, the security index initialised from
the configuration files). The harness keeps its loopback addresses, ports and data paths (the role's
0.0.0.0 and /usr/share/opensearch/data are for a pod). elasticsearch_health then verifies the cluster
as the admin user, through the real port-forward, with TLS checked against the pods' DNS names.

Not run here: the opensearchproject/opensearch image (no container runs under KWOK). The init container's
command does run: with bash, against the real distribution and its own plugins/opensearch-security/tools/
hash.sh; the internal_users.yml it writes is the one the nodes start with, so the admin login that
elasticsearch_health uses proves the hash it made.
"""
import base64
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tests.helpers.ansible import REPO, finish_json, start_playbook_json
from tests.helpers.cluster import apply, forward_pod_port, kubectl, kubectl_json
from tests.servers.elasticsearch import OPENSEARCH_VERSION, Cluster, Pki, ensure_distribution, missing_tools

pytestmark = [
    pytest.mark.localkube,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason="needs %s on PATH" % ", ".join(missing_tools())),
]

PODS = ["os-0", "os-1", "os-2"]
FACT_TASK = "Set elasticsearch_cluster (health, version, nodes, endpoints, Secrets, volumes)"
APPLY_TASK = "Apply the ConfigMaps, Services, StatefulSet and PodDisruptionBudget and wait for the pods"


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    namespace = "t-os-" + uuid.uuid4().hex[:6]
    storage_class = namespace + "-local"
    apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": storage_class},
           "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
           "reclaimPolicy": "Retain"})
    nodes = [node["metadata"]["name"] for node in kubectl_json("get", "nodes")["items"]]
    volumes = [{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "%s-%s" % (storage_class, node)},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                         "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class,
                         "local": {"path": "/mnt/localkube/%s" % storage_class},
                         "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                             {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}
               for node in nodes]
    apply({"apiVersion": "v1", "kind": "List", "items": volumes})
    state = {"namespace": namespace, "storage_class": storage_class, "workdir": tmp_path_factory.mktemp("os"),
             "cluster": None}
    try:
        yield state
    finally:
        if state["cluster"] is not None:
            state["cluster"].stop(grace=10)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        kubectl("delete", "storageclass", storage_class, "--wait=false", check=False)
        kubectl("delete", "persistentvolume", *[v["metadata"]["name"] for v in volumes], "--wait=false", check=False)


def _wait_for(what, found, process, timeout=180):
    deadline = time.monotonic() + timeout
    while not found():
        assert process.poll() is None, "the playbook ended before %s existed:\n%s" % (what, process.stdout.read()[-3000:])
        assert time.monotonic() < deadline, "%s not there within %ds" % (what, timeout)
        time.sleep(0.5)


def _exists(kind, name, namespace):
    return kubectl("get", kind, name, "-n", namespace, check=False).returncode == 0


def run_security_init_container(namespace, workdir, password):
    """The role's init container command, run with bash against the real distribution (its own hash.sh):
    the internal_users.yml it writes is the one the nodes start with."""
    init = kubectl_json("get", "statefulset", "os", "-n", namespace)["spec"]["template"]["spec"]["initContainers"][0]
    home = str(ensure_distribution())
    target = workdir / "security"
    shutil.copytree(Path(home) / "plugins" / "opensearch-security" / "config", workdir / "config" / "opensearch-security")
    target.mkdir()
    command = init["command"][-1].replace("/usr/share/opensearch/config", str(workdir / "config")) \
        .replace("/usr/share/opensearch", home).replace("/mnt/security", str(target))
    env = dict(os.environ, OPENSEARCH_ADMIN_PASSWORD=password)
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    users = (target / "internal_users.yml").read_text()
    assert password not in users and yaml.safe_load(users)["admin"]["hash"].startswith("$2")
    assert (target / "roles_mapping.yml").is_file()  # the image's other security files came along
    return users


def test_the_role_runs_opensearch_with_its_own_security_settings(place):
    namespace = place["namespace"]
    variables = {"elasticsearch_distribution": "opensearch", "elasticsearch_version": OPENSEARCH_VERSION,
                 "elasticsearch_name": "os", "elasticsearch_namespace": namespace,
                 "elasticsearch_storage_class": place["storage_class"], "elasticsearch_timeout": 300}
    process = start_playbook_json(REPO / "playbooks" / "elasticsearch.yml", variables)
    try:
        for kind, name in (("secret", "os-credentials"), ("secret", "os-certs"), ("configmap", "os-config"),
                           ("statefulset", "os")):
            _wait_for("%s/%s" % (kind, name), lambda k=kind, n=name: _exists(k, n, namespace), process)
        rendered = yaml.safe_load(kubectl_json("get", "configmap", "os-config", "-n", namespace)["data"]["opensearch.yml"])
        security = {k: v for k, v in rendered.items() if k.startswith("plugins.security.")}
        secret = {k: base64.b64decode(v) for k, v in
                  kubectl_json("get", "secret", "os-certs", "-n", namespace)["data"].items()}
        password = base64.b64decode(
            kubectl_json("get", "secret", "os-credentials", "-n", namespace)["data"]["password"]).decode()
        pki = place["workdir"] / "pki"
        pki.mkdir()
        for source, target in (("ca.crt", "ca.pem"), ("tls.crt", "node.pem"), ("tls.key", "node.key")):
            (pki / target).write_bytes(secret[source])
        users = run_security_init_container(namespace, place["workdir"], password)
        cluster = Cluster(place["workdir"] / "nodes", size=3, node_prefix="os", cluster_name="os", password=password,
                          admin_user="admin", pki=Pki(pki), nodes_dn=rendered["plugins.security.nodes_dn"],
                          extra_settings=security, internal_users_yml=users)
        place["cluster"] = cluster
        cluster.launch()
        for pod, node in zip(PODS, cluster.nodes):
            forward_pod_port(namespace, pod, 9200, node.http_port)
        cluster.wait_formed(time.monotonic() + 300)
        run = finish_json(process, timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert run.rc == 0, run
    # The security settings the nodes ran with are the role's, TLS and authentication on.
    assert security["plugins.security.disabled"] is False and security["plugins.security.ssl.http.enabled"] is True
    assert security["plugins.security.ssl.http.pemcert_filepath"] == "certs/tls.crt"
    assert security["plugins.security.nodes_dn"] == ["CN=os,OU=%s,O=stateful-datastores" % namespace]
    fact = run.result(FACT_TASK)["ansible_facts"]["elasticsearch_cluster"]
    assert (fact["distribution"], fact["version"], fact["healthy"], fact["number_of_nodes"]) == (
        "opensearch", OPENSEARCH_VERSION, True, 3)
    assert fact["image"] == "docker.io/opensearchproject/opensearch:" + OPENSEARCH_VERSION
    assert fact["bootstrapped"] is True
    bootstrap = [r["object"] for r in run.result(APPLY_TASK)["resources"] if r["name"] == "os-bootstrap"]
    assert bootstrap[0]["data"] == {"cluster.initial_cluster_manager_nodes": "os-0,os-1,os-2"}
    pod = kubectl_json("get", "statefulset", "os", "-n", namespace)["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["name"] == "security-config"
    # A wrong password is refused by the real nodes: authentication is on.
    assert cluster.request(cluster.nodes[0], "GET", "/", auth=False)[0] == 401

    # The role's readiness script, run against a real node with the admin password.
    script = place["workdir"] / "readiness.sh"
    script.write_text(kubectl_json("get", "configmap", "os-config", "-n", namespace)["data"]["readiness.sh"])
    env = dict(os.environ, POD_NAME="os-0", PROBE_PORT=str(cluster.nodes[0].http_port), PROBE_CA=str(pki / "ca.pem"),
               OPENSEARCH_ADMIN_PASSWORD=password)
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
