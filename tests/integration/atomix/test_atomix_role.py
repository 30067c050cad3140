# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The atomix role against the local control plane (tools/localkube), with the real controllers.

The controllers are built from the vendored upstream sources (tests/servers/atomix/build.py, cached
under ~/.cache/atomix) and run as the ServiceAccounts the role creates, so the role's RBAC is what
they get:
- cloud-v1beta2: kubernetes-controller v0.2.0-beta.5 and raft-storage-controller v0.1.1 on the host
  (they only talk to the API server);
- v1: atomix-controller v1.0.0, atomix-raft-controller v0.7.0 and one atomix-raft-node v0.7.0 per
  pod inside a sealed network namespace (tests/servers/atomix/netns.py), because the raft controller
  dials the pods.
Every test runs the real controllers; the status stand-in (tests/standins/atomix_status_player.py)
serves only tests/backends (site, molecule, the simulated demo), where no controller runs.

CRDs are cluster-scoped and shared by the tests of this module, which therefore run in order
and never at the same time as each other: every test starts from a cluster without the role's
Atomix CRDs and leaves it that way (the fixture `no_atomix_crds` removes only CRDs labelled as
installed by stateful.datastores, or created by this module).
"""
import json
import urllib.parse
import uuid

import pytest
import yaml

from tests.helpers.ansible import JsonPlaybookRun, run_playbook_json
from tests.helpers.cluster import kubeconfig_path, kubectl
from tests.servers.atomix.controllers import CloudControllers
from tests.servers.atomix.v1_runtime import V1Runtime
from tests.standins.atomix_status_player import Api

pytestmark = pytest.mark.localkube

ROLE_PLAYBOOK = """\
- name: Apply the atomix role
  hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.datastores.atomix
  post_tasks:
    - name: Hand atomix_status to the test
      ansible.builtin.debug:
        var: atomix_status
      when: atomix_status is defined
"""

OURS = "app.kubernetes.io/managed-by=stateful.datastores,app.kubernetes.io/name=atomix"
TEST_CRD_LABEL = "stateful-datastores-test=atomix"
LABEL_KEYS = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
              "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"]


class Run(JsonPlaybookRun):
    @property
    def status(self):
        return self.result("Hand atomix_status to the test")["atomix_status"]


def role(tmp_path, check=False, **variables):
    playbook = tmp_path / "role.yml"
    if not playbook.exists():
        playbook.write_text(ROLE_PLAYBOOK)
    return run_playbook_json(playbook, variables, check=check, run_class=Run)


_API = []

# Reads go through the Kubernetes client in this process: a kubectl process per read costs a second
# or more on a busy machine. plural -> API group/version.
GROUPS = {"customresourcedefinitions": "apiextensions.k8s.io/v1", "namespaces": "v1", "nodes": "v1",
          "clusterroles": "rbac.authorization.k8s.io/v1", "clusterrolebindings": "rbac.authorization.k8s.io/v1",
          "statefulsets": "apps/v1", "deployments": "apps/v1", "services": "v1", "persistentvolumeclaims": "v1",
          "serviceaccounts": "v1", "roles": "rbac.authorization.k8s.io/v1", "databases": "cloud.atomix.io/v1beta2",
          "partitions": "cloud.atomix.io/v1beta2", "clusters": "cloud.atomix.io/v1beta2", "configmaps": "v1",
          "raftstorageclasses": "storage.cloud.atomix.io/v1beta1",
          "raftclusters": "raft.atomix.io/v1beta3", "raftstores": "raft.atomix.io/v1beta3",
          "raftpartitions": "raft.atomix.io/v1beta3", "storageprofiles": "atomix.io/v3beta4", "raftreplicas": "raft.atomix.io/v1beta3", "pods": "v1"}


def _api():
    if not _API:
        _API.append(Api(kubeconfig_path()))
    return _API[0]


def get(plural, name=None, namespace=None):
    """The object, or the list's items; None for a missing object."""
    _api()
    group = GROUPS[plural]
    path = ("/api/" if group == "v1" else "/apis/") + group
    path += ("/namespaces/" + namespace if namespace else "") + "/" + plural + ("/" + name if name else "")
    found = _API[0].call("GET", path, missing_ok=True)
    return found if name or found is None else found["items"]


def atomix_crds():
    return sorted(c["metadata"]["name"] for c in get("customresourcedefinitions")
                  if c["spec"]["group"] == "atomix.io" or c["spec"]["group"].endswith(".atomix.io"))


def names(plural, namespace):
    return sorted(o["metadata"]["name"] for o in get(plural, namespace=namespace) or [])


def namespace_exists(name):
    return get("namespaces", name) is not None


def delete_crds(selector):
    kubectl("delete", "crd", "-l", selector, "--ignore-not-found", "--wait=true", "--timeout=90s", check=False)


@pytest.fixture(scope="module", autouse=True)
def no_atomix_crds():
    """Start and end without the Atomix CRDs that this collection (or this module) installed."""
    delete_crds(OURS)
    delete_crds(TEST_CRD_LABEL)
    yield
    delete_crds(OURS)
    delete_crds(TEST_CRD_LABEL)


@pytest.fixture
def cluster_rbac(namespace):
    """Afterwards, delete the ClusterRoles and bindings the role named after the test's namespace, if a
    failed test left them (the namespace fixture only deletes the namespace)."""
    yield
    for plural, kind in (("clusterrolebindings", "clusterrolebinding"), ("clusterroles", "clusterrole")):
        left = [o["metadata"]["name"] for o in get(plural)
                if o["metadata"]["name"].startswith(namespace + "-")
                and (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "atomix"]
        if left:
            kubectl("delete", kind, *left, "--ignore-not-found", "--wait=false", check=False)


@pytest.fixture
def cloud_controllers(namespace, cluster_rbac, tmp_path):
    """The real cloud-v1beta2 controllers for the test's namespace (built on first use, then cached)."""
    controllers = CloudControllers(kubeconfig_path(), namespace, str(tmp_path / "controllers")).start()
    yield controllers
    controllers.stop()


@pytest.fixture
def v1_runtime(namespace, cluster_rbac, tmp_path):
    """v1_runtime(): the real Atomix 1.x controllers and Raft nodes for the test's namespace, in a
    sealed network namespace (built on first use, then cached)."""
    started = []

    def start(cluster_name="raft"):
        api_port = urllib.parse.urlsplit(_api().client.configuration.host).port
        started.append(V1Runtime(kubeconfig_path(), namespace, cluster_name, str(tmp_path / "v1"), api_port).start())
        return started[-1]

    yield start
    for runtime in started:
        runtime.stop()


@pytest.fixture
def local_volumes(namespace):
    """A no-provisioner StorageClass and one 1Gi local PersistentVolume per node, for this test only."""
    nodes = sorted(n["metadata"]["name"] for n in get("nodes"))
    assert nodes
    docs = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": namespace},
             "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
             "reclaimPolicy": "Retain"}]
    for i, node in enumerate(nodes):
        docs.append({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "{}-{}".format(namespace, i)},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": namespace,
                     "local": {"path": "/mnt/localkube/{}-{}".format(namespace, i)},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}})
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    yield {"storage_class": namespace, "count": len(nodes)}
    kubectl("delete", "pv", *["{}-{}".format(namespace, i) for i in range(len(nodes))],
            "--ignore-not-found", "--wait=false", check=False)
    kubectl("delete", "storageclass", namespace, "--ignore-not-found", "--wait=false", check=False)


def assert_labelled(obj, component=None):
    labels = obj["metadata"].get("labels") or {}
    ref = "{} {}".format(obj["kind"], obj["metadata"]["name"])
    assert all(k in labels for k in LABEL_KEYS), (ref, labels)
    assert labels["app.kubernetes.io/part-of"] == "stateful-datastores", ref
    assert labels["app.kubernetes.io/managed-by"] == "stateful.datastores", ref
    if component:
        assert labels["app.kubernetes.io/component"] == component, ref


def assert_controllers_secure(namespace, deployments):
    for name in deployments:
        deployment = get("deployments", name, namespace)
        assert_labelled(deployment)
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["capabilities"]["drop"] == ["ALL"], (name, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert set(container["resources"]) == {"requests", "limits"}, (name, container["name"])
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
        binding = get("clusterrolebindings", "{}-{}".format(namespace, name))
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
        rules = get("clusterroles", "{}-{}".format(namespace, name))["rules"]
        assert rules and all("*" not in r["verbs"] and "*" not in r["resources"] for r in rules), rules


BAD_INPUT = [
    ({"atomix_generation": "v2"}, ["atomix_generation", "v1", "cloud-v1beta2"]),
    ({"atomix_state": "deleted"}, ["atomix_state", "present", "absent"]),
    ({"atomix_replicas": "three"}, ["atomix_replicas", "int"]),
    ({"atomix_replicas": 0}, ["atomix_replicas must be 1 to 9"]),
    ({"atomix_clusters": 33}, ["atomix_clusters must be 1 to 32"]),
    ({"atomix_name": "Raft_DB"}, ["atomix_name must be a DNS label"]),
    ({"atomix_namespace": "-atomix"}, ["atomix_namespace must be a DNS label"]),
    ({"atomix_replication_factor": 5}, ["atomix_replication_factor must be unset (null) or 1 to atomix_replicas (3)"]),
    ({"atomix_storage_size": "lots"}, ["atomix_storage_size must be a positive Kubernetes quantity"]),
    ({"atomix_node_image": "atomix/raft-node:latest"}, ["pinned", "atomix_node_image"]),
    ({"atomix_controller_resources": {"requests": {"cpu": "1"}}}, ["atomix_controller_resources", "'limits'"]),
    ({"atomix_purge": True}, ["atomix_purge", "atomix_state: absent"]),
    ({"atomix_image_pull_policy": "Sometimes"}, ["atomix_image_pull_policy", "IfNotPresent"]),
]


def test_bad_input_fails_before_anything_is_created(tmp_path):
    """Every case runs the whole role (in one ansible-playbook run, a block and rescue per case)
    against the live cluster, in a namespace of its own that must never appear."""
    suffix = uuid.uuid4().hex[:6]
    tasks = []
    for i, case in enumerate(BAD_INPUT):
        case_vars = {"atomix_namespace": "atomix-bad-{}-{}".format(suffix, i)}
        case_vars.update(case[0])
        tasks.append({"name": "Case {}".format(i), "block": [
            {"name": "Run the role, case {}".format(i),
             "ansible.builtin.include_role": {"name": "stateful.datastores.atomix"}, "vars": case_vars},
            {"name": "Record that case {} passed".format(i),
             "ansible.builtin.set_fact": {"outcomes": "{{ outcomes + [{'case': %d, 'failed': false}] }}" % i}}],
            "rescue": [{"name": "Record the failure of case {}".format(i), "ansible.builtin.set_fact": {
                "outcomes": "{{ outcomes + [{'case': %d, 'failed': true, 'task': ansible_failed_task.name, "
                            "'msg': ansible_failed_result.msg | default('')}] }}" % i}}]})
    tasks.append({"name": "Hand the outcomes to the test", "ansible.builtin.debug": {"var": "outcomes"}})
    playbook = tmp_path / "bad.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Bad input", "hosts": "localhost", "gather_facts": False,
                                         "vars": {"outcomes": []}, "tasks": tasks}], sort_keys=False))
    crds_before = atomix_crds()

    run = run_playbook_json(playbook, run_class=Run)

    assert not run.failed, run
    outcomes = run.result("Hand the outcomes to the test")["outcomes"]
    assert [o["case"] for o in outcomes] == list(range(len(BAD_INPUT)))
    for outcome, (variables, expected) in zip(outcomes, BAD_INPUT):
        assert outcome["failed"], (variables, outcome)
        # It stopped in validation: the argument specs or validate.yml, before any Kubernetes call.
        assert outcome["task"] in ("Validating arguments against arg spec 'main' - Atomix on Kubernetes, controllers, "
                                   "CRDs and Raft storage, waited on until ready.",
                                   "Fail on values the argument specs cannot check"), (variables, outcome)
        for text in expected:
            assert text in outcome["msg"], (variables, text, outcome["msg"])
    assert [i for i in range(len(BAD_INPUT)) if namespace_exists("atomix-bad-{}-{}".format(suffix, i))] == []
    assert atomix_crds() == crds_before


def test_cloud_generation_converges_idempotently_and_tears_down(tmp_path, namespace, cloud_controllers):
    """Seed 004's generation against the real controllers (kubernetes-controller v0.2.0-beta.5 and
    raft-storage-controller v0.1.1, on the host as the role's ServiceAccounts): a Database of 2
    clusters with 2 partitions each, on a RaftStorageClass of 2 replicas. Every status the role
    waits for is written by them; teardown runs while they keep running."""
    variables = {"atomix_generation": "cloud-v1beta2", "atomix_namespace": namespace, "atomix_clusters": 2,
                 "atomix_partitions": 2, "atomix_replicas": 2, "atomix_wait_timeout": 120}

    first = role(tmp_path, **variables)
    assert not first.failed, (first, cloud_controllers.errors, cloud_controllers.logs())
    assert first.changed > 0
    assert cloud_controllers.errors == [] and cloud_controllers.exited() == [], cloud_controllers.logs()

    # The CRDs of one upstream release, Established, labelled; Database and RaftStorageClass as the seed writes them.
    crds = ["clusters.cloud.atomix.io", "databases.cloud.atomix.io", "partitions.cloud.atomix.io",
            "raftstorageclasses.storage.cloud.atomix.io", "storagecontrollers.cloud.atomix.io"]
    assert atomix_crds() == crds
    for name in crds:
        crd = get("customresourcedefinitions", name)
        assert_labelled(crd, "crd")
        assert any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
    for name in ("databases", "clusters", "partitions"):
        assert get("customresourcedefinitions", name + ".cloud.atomix.io")["spec"]["versions"][0][
            "subresources"] == {"status": {}}
    database = get("databases", "raft", namespace)
    assert database["spec"]["clusters"] == 2
    assert database["spec"]["template"]["spec"]["partitions"] == 2
    assert database["spec"]["template"]["spec"]["storage"] == {
        "group": "storage.cloud.atomix.io", "version": "v1beta1", "kind": "RaftStorageClass", "name": "raft",
        "namespace": namespace}
    assert database["status"] == {"readyClusters": 2}
    storage = get("raftstorageclasses", "raft", namespace)
    assert storage["spec"] == {"image": "atomix/raft-replica:v0.1.0-beta.1", "imagePullPolicy": "IfNotPresent",
                               "replicas": 2}
    assert_labelled(database, "database")
    assert_labelled(storage, "storage")
    assert_controllers_secure(namespace, ["atomix-controller", "raft-storage-controller"])
    images = {d: get("deployments", d, namespace)["spec"]["template"]["spec"]["containers"][0]["image"]
              for d in ("atomix-controller", "raft-storage-controller")}
    assert images == {"atomix-controller": "atomix/kubernetes-controller:v0.2.0-beta.5",
                      "raft-storage-controller": "atomix/raft-storage-controller:v0.1.1"}

    # What the real controllers made: Clusters owned by the Database; per Cluster a StatefulSet of
    # `replicas` ready pods, a ConfigMap, a Service and a headless Service, and its Partitions, whose
    # ids run across the database.
    database_uid = database["metadata"]["uid"]
    clusters = {c["metadata"]["name"]: c for c in get("clusters", namespace=namespace)}
    assert sorted(clusters) == ["raft-1", "raft-2"]
    for cluster in clusters.values():
        assert [o["uid"] for o in cluster["metadata"]["ownerReferences"]] == [database_uid]
        assert cluster["status"] == {"readyPartitions": 2}
    assert names("statefulsets", namespace) == ["raft-1", "raft-2"]
    for sts in get("statefulsets", namespace=namespace):
        assert (sts["spec"]["replicas"], sts["status"].get("readyReplicas")) == (2, 2), sts["metadata"]["name"]
        owner = sts["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["uid"]) == ("Cluster", clusters[sts["metadata"]["name"]]["metadata"]["uid"])
    services = {s["metadata"]["name"]: s for s in get("services", namespace=namespace)}
    for cluster in ("raft-1", "raft-2"):
        assert [p["port"] for p in services[cluster]["spec"]["ports"]] == [5678]
        assert [p["port"] for p in services[cluster + "-hs"]["spec"]["ports"]] == [5678, 5679]
        assert services[cluster + "-hs"]["spec"]["clusterIP"] == "None"
    assert {"raft-1", "raft-2"} <= set(names("configmaps", namespace))
    partition_names = ["raft-1-1", "raft-1-2", "raft-2-3", "raft-2-4"]
    partitions = get("partitions", namespace=namespace)
    assert sorted((p["metadata"]["name"], p["spec"]["partitionId"], p["status"]["ready"]) for p in partitions) == [
        (name, int(name.rsplit("-", 1)[1]), True) for name in partition_names]

    status = first.status
    assert status["generation"] == "cloud-v1beta2"
    assert status["database"] == {"kind": "Database", "name": "raft", "ready": True, "status": {"readyClusters": 2}}
    assert status["statefulsets"] == [{"name": "raft-{}".format(i), "replicas": 2, "ready_replicas": 2} for i in (1, 2)]
    assert [(s["name"], s["ports"]) for s in status["services"]] == [
        ("raft-1", [5678]), ("raft-1-hs", [5678, 5679]), ("raft-2", [5678]), ("raft-2-hs", [5678, 5679])]
    assert [(p["name"], p["ready"]) for p in status["partitions"]] == [(name, True) for name in partition_names]

    again = role(tmp_path, **variables)
    assert not again.failed, again
    assert again.changed == 0, again

    # Teardown with the CRDs while the controllers run: nothing of the generation is left, the namespace stays.
    assert cloud_controllers.exited() == [], cloud_controllers.logs()
    gone = role(tmp_path, atomix_state="absent", atomix_remove_crds=True, **variables)
    assert not gone.failed, (gone, cloud_controllers.logs())
    assert gone.changed > 0
    assert atomix_crds() == []
    for kind in ("statefulsets", "services", "deployments", "serviceaccounts", "roles"):
        assert [n for n in names(kind, namespace) if n != "default"] == [], kind
    assert [n for n in names("configmaps", namespace) if n != "kube-root-ca.crt"] == []
    assert get("clusterroles", namespace + "-atomix-controller") is None
    assert namespace_exists(namespace)


def test_refuses_to_mix_generations(tmp_path):
    """With a cloud.atomix.io CRD installed, asking for v1 stops before anything is applied."""
    assert atomix_crds() == []
    foreign = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "databases.cloud.atomix.io", "labels": {"stateful-datastores-test": "atomix"}},
        "spec": {"group": "cloud.atomix.io", "scope": "Namespaced",
                 "names": {"kind": "Database", "plural": "databases", "singular": "database", "listKind": "DatabaseList"},
                 "versions": [{"name": "v1beta2", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]}}
    kubectl("apply", "-f", "-", stdin=json.dumps(foreign))
    target = "atomix-mix-" + uuid.uuid4().hex[:6]
    try:
        # Without persistence the preflight has no StorageClass to find, so the generation check is what fails.
        run = role(tmp_path, atomix_generation="v1", atomix_namespace=target, atomix_persistence=False)

        assert run.failed, run
        message = run.messages
        assert "atomix_generation is v1" in message, message
        assert "databases.cloud.atomix.io (group cloud.atomix.io, serves v1beta2: generation cloud-v1beta2)" in message
        assert "Set atomix_generation: cloud-v1beta2" in message, message
        assert "Nothing was applied" in message, message
        assert [n.split(" : ")[-1] for n, r in run.tasks if r.get("failed")] == ["Refuse to mix Atomix generations"]
        assert [n for n, r in run.tasks if r.get("changed")] == []
        assert atomix_crds() == ["databases.cloud.atomix.io"]
        assert not namespace_exists(target)
    finally:
        delete_crds(TEST_CRD_LABEL)


def test_v1_converges_on_the_real_controllers_and_tears_down_while_they_run(tmp_path, namespace, v1_runtime):
    """Atomix 1.x against the real controllers (atomix-controller v1.0.0, atomix-raft-controller v0.7.0)
    and real Raft nodes (atomix-raft-node v0.7.0, one per pod), all in a sealed network namespace:
    RaftCluster of 3 replicas (emptyDir), RaftStore of 2 partitions. Every state the role waits for is
    written by the controller after it has bootstrapped the Raft groups on the nodes. Teardown runs
    while the controllers run (they hold the pods and RaftReplicas with finalizers)."""
    variables = {"atomix_generation": "v1", "atomix_namespace": namespace, "atomix_replicas": 3,
                 "atomix_partitions": 2, "atomix_persistence": False, "atomix_wait_timeout": 120}
    assert atomix_crds() == []
    runtime = v1_runtime()
    # The seal, proven by `ip route get` (nothing sent): only lo, no route but loopback and the pod range.
    assert runtime.seal_report["links"] == ["lo"]
    assert all("unreachable" in runtime.seal_report[a] for a in ("1.1.1.1", "10.96.0.1")), runtime.seal_report

    first = role(tmp_path, **variables)
    assert not first.failed, (first.messages, runtime.errors, runtime.logs())
    assert first.changed > 0
    assert runtime.errors == [] and runtime.exited() == [], runtime.logs()
    # The Raft groups really formed: every RaftReplica Ready, each partition with a leader and a term.
    replicas = get("raftreplicas", namespace=namespace)
    assert sorted((r["metadata"]["name"], r["status"]["state"]) for r in replicas) == [
        ("raft-{}-{}".format(p, m), "Ready") for p in (1, 2) for m in (1, 2, 3)]
    for partition in get("raftpartitions", namespace=namespace):
        assert partition["status"]["leader"]["name"] and partition["status"]["term"] >= 1, partition["status"]
    assert get("raftclusters", "raft", namespace)["status"]["state"] == "Ready"
    assert get("raftstores", "raft", namespace)["status"]["state"] == "Ready"
    assert first.status["database"]["ready"] is True
    assert [(p["name"], p["state"]) for p in first.status["partitions"]] == [("raft-1", "Ready"), ("raft-2", "Ready")]
    # The role's logging.yaml is in the format the runtime reads: the controllers log.
    logs = runtime.logs(tail=None)
    assert "Starting the Manager" in logs["atomix-raft-controller"] and "Starting the Manager" in logs["atomix-controller"]

    again = role(tmp_path, **variables)
    assert not again.failed, again
    assert again.changed == 0, again

    assert runtime.exited() == [], runtime.logs()
    gone = role(tmp_path, atomix_state="absent", atomix_remove_crds=True, **variables)
    assert not gone.failed, (gone.messages, runtime.logs())
    assert gone.changed > 0
    assert atomix_crds() == []
    for kind in ("statefulsets", "deployments", "pods"):
        assert names(kind, namespace) == [], kind


def test_v1_converges_idempotently_and_teardown_keeps_claims_unless_purged(tmp_path, namespace, v1_runtime,
                                                                           local_volumes):
    """Atomix 1.x with persistence against the real controllers and Raft nodes: claims, fsGroup, keep and
    purge. The role's fsGroup patch rolls the Raft pods that the raft controller had already bootstrapped;
    upstream v0.7.0 keeps the Watch of a replaced pod (keyed by its DNS name) and would leave a replica
    NotReady for good, so the role restarts the raft controller when a replica is still not Ready 30 s after
    the roll. The runtime restarts the controller's process when its Deployment's pod is replaced, as a kubelet
    would. Every replica ends Ready either way."""
    variables = {"atomix_generation": "v1", "atomix_namespace": namespace, "atomix_replicas": 3,
                 "atomix_partitions": 2, "atomix_storage_class": local_volumes["storage_class"],
                 "atomix_wait_timeout": 120}
    assert local_volumes["count"] >= 3
    assert atomix_crds() == []

    # Check mode on a cluster without the CRDs or the namespace: reports what it would create, creates nothing.
    fresh = {**variables, "atomix_namespace": "atomix-dry-" + uuid.uuid4().hex[:6]}
    dry_fresh = role(tmp_path, check=True, **fresh)
    assert not dry_fresh.failed, dry_fresh
    assert [n.split(" : ")[-1] for n, r in dry_fresh.tasks if r.get("changed")] == [
        "Apply the CRDs and wait until they are Established",
        "Apply the namespace and the controllers and wait until the controllers are ready"], dry_fresh
    assert atomix_crds() == []
    assert not namespace_exists(fresh["atomix_namespace"])

    runtime = v1_runtime()
    first = role(tmp_path, **variables)
    assert not first.failed, (first, runtime.errors, runtime.logs())
    assert first.changed > 0
    assert runtime.errors == [], runtime.errors
    replicas = get("raftreplicas", namespace=namespace)
    assert sorted((r["metadata"]["name"], r["status"]["state"]) for r in replicas) == [
        ("raft-{}-{}".format(p, m), "Ready") for p in (1, 2) for m in (1, 2, 3)]

    assert atomix_crds() == ["datastores.atomix.io", "raftclusters.raft.atomix.io", "raftpartitions.raft.atomix.io",
                             "raftreplicas.raft.atomix.io", "raftstores.raft.atomix.io", "storageprofiles.atomix.io"]
    cluster = get("raftclusters", "raft", namespace)
    assert cluster["spec"]["replicas"] == 3
    assert cluster["spec"]["persistence"] == {"enabled": True, "storageClass": namespace, "size": "1Gi",
                                              "accessModes": ["ReadWriteOnce"]}
    assert cluster["spec"]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert cluster["status"]["state"] == "Ready"
    assert cluster["spec"]["averageRTT"] == "10ms"  # upstream's default: the nodes refuse an RTT of 0
    replica_status = get("customresourcedefinitions", "raftreplicas.raft.atomix.io")["spec"]["versions"][0][
        "schema"]["openAPIV3Schema"]["properties"]["status"]
    assert (replica_status["default"], replica_status["properties"]["state"]["enum"]) == ({}, ["NotReady", "Ready"])
    # The controller's StatefulSet gets the nodes' fsGroup, so that a fresh claim is writable.
    pod_security = get("statefulsets", "raft", namespace)["spec"]["template"]["spec"]["securityContext"]
    assert (pod_security["fsGroup"], pod_security["fsGroupChangePolicy"]) == (65532, "OnRootMismatch")
    raft_rules = get("clusterroles", "{}-atomix-raft-controller".format(namespace))["rules"]
    assert any(r["resources"] == ["pods"] and {"update", "patch"} <= set(r["verbs"]) for r in raft_rules)
    store = get("raftstores", "raft", namespace)
    assert (store["spec"]["partitions"], store["spec"]["cluster"]) == (2, {"name": "raft"})
    assert store["status"]["state"] == "Ready"
    profile = get("storageprofiles", "raft", namespace)
    assert profile["spec"]["routes"] == [{"store": {"name": "raft", "namespace": namespace}}]
    for obj in (cluster, store, profile):
        assert_labelled(obj)
    assert_controllers_secure(namespace, ["atomix-controller", "atomix-raft-controller"])
    raft_controller = get("deployments", "atomix-raft-controller", namespace)
    env = {e["name"]: e.get("value") for e in raft_controller["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DEFAULT_NODE_IMAGE"] == "atomix/raft-node:v0.7.0"

    claims = ["atomix-data-raft-0", "atomix-data-raft-1", "atomix-data-raft-2"]
    assert names("persistentvolumeclaims", namespace) == claims
    assert {c["status"]["phase"] for c in get("persistentvolumeclaims", namespace=namespace)} == {"Bound"}
    status = first.status
    assert status["database"]["kind"] == "RaftStore" and status["database"]["ready"] is True
    assert status["statefulsets"] == [{"name": "raft", "replicas": 3, "ready_replicas": 3}]
    assert [(s["name"], s["ports"]) for s in status["services"]] == [("raft", [5678, 5679]),
                                                                     ("raft-hs", [5678, 5679])]
    assert [(p["name"], p["state"]) for p in status["partitions"]] == [("raft-1", "Ready"), ("raft-2", "Ready")]

    again = role(tmp_path, **variables)
    assert not again.failed, again
    assert again.changed == 0, again
    dry = role(tmp_path, check=True, **variables)
    assert not dry.failed, dry
    assert dry.changed == 0, dry

    # Teardown without purge, while the controllers run: the database, what it produced and the controllers
    # go, the claims stay.
    kept = role(tmp_path, atomix_state="absent", **variables)
    assert not kept.failed, (kept, runtime.logs())
    assert kept.changed > 0
    assert names("raftclusters", namespace) == []
    assert names("statefulsets", namespace) == []
    assert names("deployments", namespace) == []
    assert names("persistentvolumeclaims", namespace) == claims

    # With purge (and the CRDs): the claims go too.
    purged = role(tmp_path, atomix_state="absent", atomix_purge=True, atomix_remove_crds=True, **variables)
    assert not purged.failed, purged
    assert purged.changed > 0
    assert names("persistentvolumeclaims", namespace) == []
    assert atomix_crds() == []
