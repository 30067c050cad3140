# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hazelcast role on the local control plane, verified against REAL Hazelcast 5.7.0 members.

Pods are simulated by KWOK; each pod's port 5701 is mapped (KWOK PortForward object named as the
pod) to a real member that the harness runs on 127.0.0.1. The role's hazelcast_cluster step then
talks to real Hazelcast through the real API server's port-forward. Members are started from the
test's own thread; the harness scales them in step with hazelcast_replicas (StatefulSet pod
<name>-<i> is member i of the harness, which starts and stops members in the same order).

What the members cannot show, because no container runs: that Hazelcast inside a pod discovers its
peers through the Kubernetes API with the Role given. The RBAC is proven with `kubectl auth can-i`,
and the member configuration the role applied is parsed by the real Hazelcast config builder.
"""
import concurrent.futures
import json
import shutil
import subprocess
import time
import uuid

import pytest

from tests.helpers.ansible import REPO, JsonPlaybookRun, finish_json, run_module, start_playbook_json
from tests.helpers.bad_input import every_case_playbook
from tests.helpers.cluster import forward_pod_port, kubectl, kubectl_binary, kubectl_json, kubeconfig_path
from tests.servers.hazelcast import HAZELCAST_VERSION, HazelcastCluster
from tests.servers.hazelcast.jar import ensure_jar

pytestmark = [
    pytest.mark.localkube,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs java on PATH to run Hazelcast members"),
]

NAME = "hz"
PLAYBOOK = REPO / "playbooks" / "hazelcast.yml"
VERIFY_TASK = "Verify that every member sees one cluster of hazelcast_replicas members"
PART_OF = {"app.kubernetes.io/part-of": "stateful-datastores", "app.kubernetes.io/managed-by": "stateful.datastores"}


# -- running the role ------------------------------------------------------------------------------

class RoleRun(JsonPlaybookRun):
    @property
    def fact(self):
        return self.result("Set hazelcast_cluster (members, size, version, service endpoint)")[
            "ansible_facts"]["hazelcast_cluster"]


def start_role(namespace, check=False, **variables):
    """The role started in the background, so that the test thread can run the members meanwhile."""
    values = {"hazelcast_name": NAME, "hazelcast_namespace": namespace, "hazelcast_timeout": 120}
    values.update(variables)
    return start_playbook_json(PLAYBOOK, values, check=check)


def finish(process):
    return finish_json(process, timeout=300, run_class=RoleRun)


def role(namespace, check=False, **variables):
    return finish(start_role(namespace, check=check, **variables))


# -- members and pods ------------------------------------------------------------------------------

def map_statefulset_pods(namespace, cluster, first=0):
    """Pod <NAME>-<i> -> the harness's member i, from member `first` on."""
    for index, member in enumerate(cluster.members):
        if index >= first:
            forward_pod_port(namespace, "{}-{}".format(NAME, index), 5701, member.port)


def addresses(cluster):
    return sorted("127.0.0.1:{}".format(port) for _host, port in cluster.endpoints)


def statefulset(namespace):
    return kubectl_json("get", "statefulset", NAME, "-n", namespace)


def can_i(namespace, verb, resource, *where):
    got = kubectl("auth", "can-i", verb, resource, "--as=system:serviceaccount:{}:{}".format(namespace, NAME),
                  *where, check=False)
    assert got.stdout.strip() in ("yes", "no"), got.stderr
    return got.stdout.strip() == "yes"


CONFIG_CHECK = """\
public class ConfigCheck {
    public static void main(String[] args) throws Exception {
        com.hazelcast.config.Config config = new com.hazelcast.config.YamlConfigBuilder(args[0]).build();
        com.hazelcast.config.NetworkConfig network = config.getNetworkConfig();
        System.out.println("cluster-name=" + config.getClusterName());
        System.out.println("kubernetes=" + network.getJoin().getKubernetesConfig().isEnabled()
            + " " + network.getJoin().getKubernetesConfig().getProperties());
        System.out.println("multicast=" + network.getJoin().getMulticastConfig().isEnabled());
        System.out.println("groups=" + network.getRestApiConfig().getEnabledGroups());
        System.out.println("policy=" + config.getProperty("hazelcast.shutdownhook.policy"));
        System.out.println("max-wait=" + config.getProperty("hazelcast.graceful.shutdown.max.wait"));
    }
}
"""


def parse_with_hazelcast(config_text, workdir):
    """Build the member configuration with the real Hazelcast YamlConfigBuilder (schema-validated)."""
    (workdir / "ConfigCheck.java").write_text(CONFIG_CHECK)
    (workdir / "hazelcast.yaml").write_text(config_text)
    got = subprocess.run(["java", "-cp", ensure_jar(), str(workdir / "ConfigCheck.java"),
                          str(workdir / "hazelcast.yaml")], capture_output=True, text=True, timeout=120, check=False)
    assert got.returncode == 0, got.stdout + got.stderr
    return dict(line.split("=", 1) for line in got.stdout.splitlines() if "=" in line)


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def members():
    """Real members behind the StatefulSet's pods (started in the test thread, stopped by PID)."""
    cluster = HazelcastCluster(1, cluster_name="role-" + uuid.uuid4().hex[:6]).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def sts_namespace():
    name = "t-hz-role-" + uuid.uuid4().hex[:6]
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def deployed(sts_namespace, members):
    """The role run once with hazelcast_replicas=1, the pod mapped to the one real member."""
    map_statefulset_pods(sts_namespace, members)
    return role(sts_namespace, hazelcast_replicas=1)


# -- StatefulSet, Kubernetes API discovery -----------------------------------------------------------

def test_statefulset_converges_with_rbac_enforced(deployed, sts_namespace, members):
    assert not deployed.failed, deployed
    assert deployed.changed > 0, deployed
    fact = deployed.fact
    assert fact["healthy"] is True and fact["size"] == 1 and fact["expected_size"] == 1, fact
    assert fact["version"] == HAZELCAST_VERSION
    assert [(m["pod"], m["address"]) for m in fact["members"]] == [("hz-0", addresses(members)[0])]
    assert fact["endpoint"] == "hz.{}.svc.cluster.local:5701".format(sts_namespace)
    verified = deployed.result(VERIFY_TASK)
    assert verified["changed"] is False and verified["source"] == "port-forward"

    sts = statefulset(sts_namespace)
    assert sts["spec"]["replicas"] == 1 and sts["spec"]["serviceName"] == "hz-members"
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "docker.io/hazelcast/hazelcast:" + HAZELCAST_VERSION
    assert container["readinessProbe"]["httpGet"]["path"] == "/hazelcast/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/hazelcast/health/node-state"
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["terminationGracePeriodSeconds"] == 630 and pod["serviceAccountName"] == "hz"
    assert set(container["resources"]) == {"requests", "limits"}

    services = {s["metadata"]["name"]: s for s in kubectl_json("get", "services", "-n", sts_namespace)["items"]}
    assert services["hz"]["spec"]["ports"][0]["port"] == 5701
    assert services["hz"]["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
    assert services["hz-members"]["spec"]["clusterIP"] == "None"
    assert services["hz-members"]["spec"]["publishNotReadyAddresses"] is True
    pdb = kubectl_json("get", "pdb", "hz", "-n", sts_namespace)
    assert pdb["spec"]["maxUnavailable"] == 1

    managed = kubectl_json("get", "sa,role,rolebinding,configmap,service,statefulset,pdb", "-n", sts_namespace,
                           "-l", "app.kubernetes.io/instance=hz")["items"]
    assert sorted(o["kind"] for o in managed) == sorted([
        "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "Service", "StatefulSet",
        "PodDisruptionBudget"])
    for obj in managed:
        labels = obj["metadata"]["labels"]
        assert {k: labels.get(k) for k in PART_OF} == PART_OF, obj["metadata"]
        assert labels["app.kubernetes.io/name"] == "hazelcast" and labels.get("app.kubernetes.io/component")


def test_service_account_lists_discovery_objects_only_in_its_namespace(deployed, sts_namespace):
    assert not deployed.failed, deployed
    here = ("-n", sts_namespace)
    allowed = [(verb, resource) + here for verb, resource in (
        ("list", "endpoints"), ("get", "endpoints"), ("list", "endpointslices.discovery.k8s.io"),
        ("get", "endpointslices.discovery.k8s.io"), ("list", "pods"), ("get", "pods"), ("list", "services"))]
    denied = [("watch", "pods") + here, ("create", "pods") + here, ("list", "secrets") + here,
              ("list", "nodes"), ("list", "namespaces")]
    for resource in ("endpoints", "endpointslices.discovery.k8s.io", "pods", "services"):
        denied += [("list", resource, "-n", "default"), ("list", resource, "--all-namespaces")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip(allowed + denied, pool.map(lambda args: can_i(sts_namespace, *args), allowed + denied)))
    assert [question for question in allowed if not answers[question]] == []
    assert [question for question in denied if answers[question]] == []
    role_rules = kubectl_json("get", "role", "hz-discovery", "-n", sts_namespace)["rules"]
    assert sorted(v for rule in role_rules for v in rule["verbs"]) == ["get", "get", "list", "list"]
    bound = kubectl_json("get", "clusterrolebindings")["items"]
    assert not [b for b in bound for s in b.get("subjects") or []
                if s.get("kind") == "ServiceAccount" and s.get("namespace") == sts_namespace]


def test_second_run_changes_nothing_and_check_mode_changes_nothing(deployed, sts_namespace, members):
    assert not deployed.failed, deployed
    members.scale_to(1)
    again = role(sts_namespace, hazelcast_replicas=1)
    assert not again.failed, again
    assert again.changed == 0, again
    assert again.fact["size"] == 1

    version = statefulset(sts_namespace)["metadata"]["resourceVersion"]
    dry = role(sts_namespace, check=True, hazelcast_replicas=2)
    assert not dry.failed, dry
    assert dry.changed > 0, dry  # the apply would change the replicas ...
    sts = statefulset(sts_namespace)  # ... but nothing changed
    assert (sts["spec"]["replicas"], sts["metadata"]["resourceVersion"]) == (1, version)
    # In check mode the members are asked once: one member, two expected, reported, not failed.
    assert dry.fact["healthy"] is False and dry.fact["size"] == 1, dry.fact


def test_applied_member_config_is_accepted_by_real_hazelcast(deployed, sts_namespace, tmp_path):
    assert not deployed.failed, deployed
    config = kubectl_json("get", "configmap", "hz-config", "-n", sts_namespace)["data"]["hazelcast.yaml"]
    parsed = parse_with_hazelcast(config, tmp_path)
    assert parsed["cluster-name"] == "hz"
    assert parsed["kubernetes"] == "true {service-name=hz-members, namespace=%s}" % sts_namespace
    assert parsed["multicast"] == "false"
    assert sorted(parsed["groups"].strip("[]").split(", ")) == ["CLUSTER_READ", "HEALTH_CHECK"]
    assert (parsed["policy"], parsed["max-wait"]) == ("GRACEFUL", "600")


def test_module_asks_endpoints_directly_without_kubernetes(members):
    """The AWX-in-cluster / LoadBalancer path: member addresses given, no API server involved."""
    rc, result = run_module("stateful.datastores.hazelcast_cluster",
                            {"endpoints": addresses(members), "timeout": 60},
                            env={"K8S_AUTH_KUBECONFIG": "/nonexistent", "KUBECONFIG": "/nonexistent"})
    assert rc == 0, result
    assert result["changed"] is False and result["source"] == "endpoints" and result["workload"] is None
    assert result["healthy"] is True and result["cluster_size"] == len(members.members)
    assert sorted(result["member_addresses"]) == addresses(members)
    assert [m["endpoint"] for m in result["members"]] == addresses(members)


def test_scale_1_2_4_2_each_step_verified_on_real_members(deployed, sts_namespace, members, capsys):
    assert not deployed.failed, deployed
    members.scale_to(1)
    timings = []
    for replicas in (2, 4, 2):
        before = len(members.members)
        started = time.monotonic()
        run = start_role(sts_namespace, hazelcast_replicas=replicas)  # the scale request
        if replicas > before:
            members.scale_to(replicas, wait=False)  # the new pods' members start while the role waits
            map_statefulset_pods(sts_namespace, members, first=before)
        else:
            members.scale_to(replicas)  # the removed pods' members stop
        done = finish(run)
        seconds = time.monotonic() - started
        assert not done.failed, done
        fact = done.fact
        assert fact["healthy"] is True and fact["size"] == replicas, fact
        assert [m["pod"] for m in fact["members"]] == ["hz-{}".format(i) for i in range(replicas)]
        assert sorted(m["address"] for m in fact["members"]) == addresses(members)
        assert len({m["uuid"] for m in fact["members"]}) == replicas
        assert statefulset(sts_namespace)["spec"]["replicas"] == replicas
        verify = done.result(VERIFY_TASK)
        timings.append((before, replicas, seconds, verify["elapsed"], verify["polls"]))
    with capsys.disabled():
        for before, replicas, seconds, elapsed, polls in timings:
            print("\nhazelcast role: scale {0} -> {1}: {2:.1f}s from the scale request to a verified cluster of {1} "
                  "(hazelcast_cluster waited {3:.1f}s, {4} poll(s), real members, real port-forward)".format(
                      before, replicas, seconds, elapsed, polls))


def test_two_clusters_behind_one_statefulset_are_reported_as_a_split(deployed, sts_namespace, members, capsys):
    assert not deployed.failed, deployed
    size = len(members.members)  # the StatefulSet has as many replicas (see the tests above)
    other = HazelcastCluster(1, cluster_name="other-" + uuid.uuid4().hex[:6]).start()
    stray = addresses(other)[0]
    try:
        forward_pod_port(sts_namespace, "hz-{}".format(size), 5701, other.members[0].port)
        split = role(sts_namespace, hazelcast_replicas=size + 1, hazelcast_timeout=12)
    finally:
        other.stop()
    assert split.failed, split
    message = "\n".join(split.failure_messages)
    with capsys.disabled():
        print("\nhazelcast role: the failure reported for two clusters behind one StatefulSet:\n" + message)
    assert "split into 2 separate clusters" in message, message
    assert "StatefulSet {}/hz".format(sts_namespace) in message
    assert "{{hz-{}:5701}} see members [{}]".format(size, stray) in message, message
    main = ", ".join("hz-{}:5701".format(i) for i in range(size))
    assert "{{{}}} see members [{}]".format(main, ", ".join(addresses(members))) in message, message
    for index in range(size + 1):
        assert "- hz-{}:5701 (member 127.0.0.1:".format(index) in message, message
    verify = split.result(VERIFY_TASK)
    assert len(verify["clusters"]) == 2
    assert sorted(len(c["endpoints"]) for c in verify["clusters"]) == sorted([1, size])


# -- input validation ---------------------------------------------------------------------------------

BAD_INPUT = [
    ("hazelcast_name", {"hazelcast_name": "Hazel_Cast"}),
    ("hazelcast_name", {"hazelcast_name": "h" * 53}),
    ("hazelcast_namespace", {"hazelcast_namespace": "Not A Namespace"}),
    ("hazelcast_replicas", {"hazelcast_replicas": 0}),
    ("hazelcast_replicas", {"hazelcast_replicas": "four"}),
    ("hazelcast_discovery", {"hazelcast_discovery": "multicast"}),
    ("hazelcast_workload_kind", {"hazelcast_workload_kind": "DaemonSet"}),
    ("hazelcast_service_type", {"hazelcast_service_type": "ExternalName"}),
    ("hazelcast_resources", {"hazelcast_resources": {"requests": {"memory": "lots"}}}),
    ("hazelcast_resources", {"hazelcast_resources": {"request": {"cpu": "1"}}}),
    ("hazelcast_timeout", {"hazelcast_timeout": 0}),
    ("hazelcast_graceful_shutdown_seconds", {"hazelcast_graceful_shutdown_seconds": -5}),
    ("hazelcast_pdb_max_unavailable", {"hazelcast_pdb_max_unavailable": 0}),
    ("hazelcast_run_as_user", {"hazelcast_run_as_user": 0}),
    ("hazelcast_image", {"hazelcast_image": "hazelcast/hazelcast 5.7.0"}),
    ("hazelcast_cluster_domain", {"hazelcast_cluster_domain": "cluster local", "hazelcast_discovery": "dns"}),
]
CHOICES = {
    "hazelcast_discovery": ["kubernetes", "dns"],
    "hazelcast_workload_kind": ["StatefulSet", "Deployment"],
    "hazelcast_service_type": ["ClusterIP", "NodePort", "LoadBalancer"],
}
VALIDATION_TASKS = ("Validating arguments against arg spec", "Fail on values the argument specs cannot check")


def test_bad_input_fails_before_anything_is_created(namespace, tmp_path):
    playbook = tmp_path / "bad-input.yml"
    playbook.write_text(json.dumps(every_case_playbook(
        "hazelcast", {"hazelcast_name": NAME, "hazelcast_namespace": namespace}, BAD_INPUT)))
    run = finish(start_playbook_json(playbook))
    assert run.rc == 0, run  # every failure was rescued
    results = run.result("Report every case")["bad_input_results"]
    assert len(BAD_INPUT) >= 10 and sorted(results, key=int) == [str(i) for i in range(len(BAD_INPUT))]
    for index, (variable, variables) in enumerate(BAD_INPUT):
        outcome = results[str(index)]
        assert outcome != "PASSED", (variable, variables)
        assert outcome["task"].startswith(VALIDATION_TASKS), (variable, outcome)
        assert variable in outcome["msg"], (variable, outcome)
        for allowed in CHOICES.get(variable, []):
            assert allowed in outcome["msg"], (variable, outcome)
    assert "at least 1" in results["3"]["msg"] and "int" in results["4"]["msg"]
    left = kubectl("get", "all,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets,endpoints",
                   "-n", namespace, "-o", "name").stdout.split()
    # What every namespace gets from the controllers: the default ServiceAccount and the root CA ConfigMap.
    assert set(left) <= {"serviceaccount/default", "configmap/kube-root-ca.crt"}, left


# -- Deployment, DNS discovery ------------------------------------------------------------------------

def watch_pod_names(namespace, count, timeout=120):
    """Pod names of the Deployment as they are created (kubectl get --watch), until `count` are seen."""
    command = [kubectl_binary(), "--kubeconfig", kubeconfig_path(), "get", "pods", "-n", namespace,
               "-l", "app.kubernetes.io/instance=" + NAME, "--watch", "-o", "name",
               "--request-timeout={}s".format(timeout)]
    names = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as watch:
        try:
            for line in watch.stdout:
                name = line.strip().split("/", 1)[-1]
                if name and name not in names:
                    names.append(name)
                if len(names) == count:
                    break
        finally:
            watch.terminate()
            watch.wait(timeout=10)
    assert len(names) == count, names
    return names


def test_deployment_with_dns_discovery_converges(namespace, members, tmp_path):
    dns_deployment = {"hazelcast_workload_kind": "Deployment", "hazelcast_discovery": "dns"}
    # Check mode on an empty namespace: reports what it would create, creates nothing, does not fail.
    dry = role(namespace, check=True, hazelcast_replicas=2, **dns_deployment)
    assert not dry.failed and dry.changed > 0, dry
    assert dry.fact["healthy"] is False and dry.fact["problems"] == ["Deployment {}/hz not found".format(namespace)]
    assert kubectl("get", "deployments,services,configmaps", "-n", namespace, "-l", "app.kubernetes.io/instance=hz",
                   "-o", "name").stdout.split() == []

    members.scale_to(2)
    run = start_role(namespace, hazelcast_replicas=2, **dns_deployment)
    pods = watch_pod_names(namespace, 2)  # random names: mapped once they exist
    for pod, member in zip(pods, members.members):
        forward_pod_port(namespace, pod, 5701, member.port)
    done = finish(run)
    assert not done.failed, done
    fact = done.fact
    assert fact["healthy"] is True and fact["size"] == 2 and fact["workload_kind"] == "Deployment", fact
    assert sorted(m["pod"] for m in fact["members"]) == sorted(pods)
    assert sorted(m["address"] for m in fact["members"]) == addresses(members)

    deployment = kubectl_json("get", "deployment", NAME, "-n", namespace)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert kubectl_json("get", "roles,rolebindings", "-n", namespace)["items"] == []
    assert kubectl("get", "statefulset", NAME, "-n", namespace, check=False).returncode != 0
    headless = kubectl_json("get", "service", "hz-members", "-n", namespace)["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    config = kubectl_json("get", "configmap", "hz-config", "-n", namespace)["data"]["hazelcast.yaml"]
    parsed = parse_with_hazelcast(config, tmp_path)
    assert parsed["kubernetes"] == "true {service-dns=hz-members.%s.svc.cluster.local}" % namespace
