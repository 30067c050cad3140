# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage_class role against the local control plane (tools/localkube).

local mode end to end: the StorageClass and its pinned PersistentVolumes appear, a second run and
a check-mode run change nothing, a StatefulSet of 3 gets its claims Bound through the class on the
volumes' nodes, scaling it down to 1 keeps every claim, and bad input stops before anything is
created. Also the immutable-field guard (refuse, or recreate when allowed) and the default-class
switch. Every cluster-scoped object gets a unique name and is deleted at the end.
"""
import uuid

import pytest

from tests.helpers.ansible import run_playbook_json
from tests.helpers.cluster import kubeconfig_path, kubectl, kubectl_json, localkube

pytestmark = pytest.mark.localkube

ROLE_PLAYBOOK = """\
- name: Apply the storage_class role
  hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.datastores.storage_class
"""

WORKLOAD_PLAYBOOK = """\
- name: A StatefulSet that claims its volumes through the class
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply the headless Service and the StatefulSet and wait until the StatefulSet is ready
      kubernetes.core.k8s:
        state: present
        apply: true
        server_side_apply:
          field_manager: storage-class-test
        wait: true
        wait_sleep: 1
        wait_timeout: 180
        definition:
          - apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: "{{ test_namespace }}"}
            spec:
              clusterIP: None
              selector: {app: db}
              ports: [{name: pb, port: 8087}]
          - apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db, namespace: "{{ test_namespace }}"}
            spec:
              serviceName: db
              replicas: "{{ test_replicas | int }}"
              podManagementPolicy: Parallel
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec:
                  containers:
                    - name: db
                      image: registry.invalid/antidote:test
                      resources: {requests: {cpu: 10m, memory: 16Mi}}
                      volumeMounts: [{name: data, mountPath: /antidote-data}]
              volumeClaimTemplates:
                - metadata: {name: data}
                  spec:
                    accessModes: [ReadWriteOnce]
                    storageClassName: "{{ test_storage_class }}"
                    resources: {requests: {storage: 1Gi}}
"""


@pytest.fixture(scope="module", autouse=True)
def cluster_up():
    """`localkube up` is idempotent: it starts what is missing and waits until the API is ready."""
    started = localkube("up", check=False)
    assert started.returncode == 0, started.stdout + started.stderr


@pytest.fixture
def playbooks(tmp_path):
    (tmp_path / "role.yml").write_text(ROLE_PLAYBOOK)
    (tmp_path / "workload.yml").write_text(WORKLOAD_PLAYBOOK)
    return tmp_path


@pytest.fixture
def cleanup():
    """Cluster-scoped objects to delete after the test: [(kind, name)]."""
    objects = []
    yield objects
    for kind, name in objects:
        kubectl("delete", kind, name, "--ignore-not-found", "--wait=false", check=False)


def role(playbooks, check=False, env=None, **variables):
    return run_playbook_json(playbooks / "role.yml", variables, check=check, env=env)


def exists(kind, name):
    got = kubectl("get", kind, name, "-o", "name", check=False)
    if got.returncode == 0:
        return True
    assert "NotFound" in got.stderr, got.stderr
    return False


def labelled(kind, instance):
    return kubectl_json("get", kind, "-l", "app.kubernetes.io/instance=" + instance)["items"]


def test_local_mode_statefulset_claims_bind_and_survive_scale_down(playbooks, namespace, cleanup):
    suffix = uuid.uuid4().hex[:6]
    name = "sd-local-" + suffix
    nodes = sorted(n["metadata"]["name"] for n in kubectl_json("get", "nodes")["items"])
    assert len(nodes) >= 1
    volumes = [{"node": node, "path": "/mnt/disks/{}-{}".format(suffix, i), "size": "2Gi"}
               for node in nodes for i in (1, 2)]
    pv_names = ["{}-{}-mnt-disks-{}-{}".format(name, node, suffix, i) for node in nodes for i in (1, 2)]
    cleanup.extend([("storageclass", name)] + [("pv", pv) for pv in pv_names])
    variables = {"storage_class_name": name, "storage_class_mode": "local", "storage_class_local_volumes": volumes}

    # Check mode on an empty cluster: reports the creation, creates nothing.
    dry = role(playbooks, check=True, **variables)
    assert not dry.failed, dry
    assert dry.changed > 0, dry
    assert not exists("storageclass", name)
    assert labelled("pv", name) == []

    # The kubeconfig comes from storage_class_kubeconfig alone: the environment points nowhere.
    nowhere = str(playbooks / "no-kubeconfig")
    first = role(playbooks, env={"K8S_AUTH_KUBECONFIG": nowhere, "KUBECONFIG": nowhere},
                 storage_class_kubeconfig=kubeconfig_path(), **variables)
    assert not first.failed, first
    assert first.changed > 0
    sc = kubectl_json("get", "storageclass", name)
    assert sc["provisioner"] == "kubernetes.io/no-provisioner"
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Retain", "WaitForFirstConsumer")
    assert sc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stateful.datastores"
    pvs = {pv["metadata"]["name"]: pv for pv in labelled("pv", name)}
    assert sorted(pvs) == sorted(pv_names)
    for volume, pv_name in zip(volumes, pv_names):
        spec = pvs[pv_name]["spec"]
        assert spec["local"]["path"] == volume["path"]
        assert spec["storageClassName"] == name and spec["capacity"]["storage"] == "2Gi"
        term = spec["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert (term["key"], term["values"]) == ("kubernetes.io/hostname", [volume["node"]])
    fields = kubectl_json("get", "storageclass", name, "--show-managed-fields")["metadata"]["managedFields"]
    assert [(f["manager"], f["operation"]) for f in fields] == [("stateful.datastores", "Apply")]

    again = role(playbooks, **variables)
    assert not again.failed, again
    assert again.changed == 0, again
    checked = role(playbooks, check=True, **variables)
    assert not checked.failed, checked
    assert checked.changed == 0, checked

    # A StatefulSet of 3 binds three of the volumes, each on its pod's node.
    workload = {"test_namespace": namespace, "test_storage_class": name}
    up = run_playbook_json(playbooks / "workload.yml", dict(workload, test_replicas=3))
    assert not up.failed, up
    claims = kubectl_json("get", "pvc", "-n", namespace)["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-db-0", "data-db-1", "data-db-2"]
    assert {c["status"]["phase"] for c in claims} == {"Bound"}
    assert {c["spec"]["storageClassName"] for c in claims} == {name}
    bound = {c["metadata"]["name"]: c["spec"]["volumeName"] for c in claims}
    assert set(bound.values()) <= set(pv_names) and len(set(bound.values())) == 3
    pods = {p["metadata"]["name"]: p for p in kubectl_json("get", "pods", "-n", namespace)["items"]}
    for claim, pv_name in bound.items():
        pod = pods["db-" + claim.rsplit("-", 1)[1]]
        assert pod["spec"]["nodeName"] == volumes[pv_names.index(pv_name)]["node"], (claim, pv_name)

    # The role leaves bound volumes alone: still no change.
    after_binding = role(playbooks, **variables)
    assert after_binding.changed == 0, after_binding

    # Scaling down to 1 keeps every claim and its volume.
    down = run_playbook_json(playbooks / "workload.yml", dict(workload, test_replicas=1))
    assert not down.failed, down
    running = [p["metadata"]["name"] for p in kubectl_json("get", "pods", "-n", namespace)["items"]
               if not p["metadata"].get("deletionTimestamp")]
    assert running == ["db-0"]
    claims = kubectl_json("get", "pvc", "-n", namespace)["items"]
    assert {c["metadata"]["name"]: (c["status"]["phase"], c["spec"]["volumeName"]) for c in claims} == {
        claim: ("Bound", pv_name) for claim, pv_name in bound.items()}


def test_bad_input_creates_nothing(playbooks, cleanup):
    name = "sd-bad-" + uuid.uuid4().hex[:6]
    cleanup.append(("storageclass", name))
    volumes = [{"node": "localkube-node-0", "path": "/mnt/disks/ok", "size": "1Gi"},
               {"node": "localkube-node-0", "path": "/mnt/disks/bad", "size": "1 GB"}]

    result = role(playbooks, storage_class_name=name, storage_class_mode="local", storage_class_local_volumes=volumes)

    assert result.failed
    assert "storage_class_local_volumes[1].size" in result.messages and "'1 GB'" in result.messages
    assert not exists("storageclass", name)
    assert labelled("pv", name) == []


def test_immutable_change_is_refused_then_recreated_when_allowed(playbooks, cleanup):
    name = "sd-custom-" + uuid.uuid4().hex[:6]
    cleanup.append(("storageclass", name))
    base = {"storage_class_name": name, "storage_class_mode": "custom",
            "storage_class_custom_provisioner": "example.com/none", "storage_class_custom_parameters": {"tier": "1"}}
    created = role(playbooks, **base)
    assert not created.failed, created
    uid = kubectl_json("get", "storageclass", name)["metadata"]["uid"]
    changed = {**base, "storage_class_custom_parameters": {"tier": "2"}, "storage_class_volume_binding_mode": "Immediate"}

    refused = role(playbooks, **changed)

    assert refused.failed
    assert "StorageClass '{}'".format(name) in refused.messages
    assert 'parameters: current {"tier": "1"}, wanted {"tier": "2"}' in refused.messages
    assert 'volumeBindingMode: current "WaitForFirstConsumer", wanted "Immediate"' in refused.messages
    assert "provisioner" not in refused.messages.split("fields Kubernetes does not let change:")[1].split(".")[0]
    assert "storage_class_allow_recreate" in refused.messages
    assert kubectl_json("get", "storageclass", name)["metadata"]["uid"] == uid

    dry = role(playbooks, check=True, storage_class_allow_recreate=True, **changed)
    assert not dry.failed, dry
    assert dry.changed > 0
    sc = kubectl_json("get", "storageclass", name)
    assert (sc["metadata"]["uid"], sc["parameters"]) == (uid, {"tier": "1"})

    recreated = role(playbooks, storage_class_allow_recreate=True, **changed)
    assert not recreated.failed, recreated
    sc = kubectl_json("get", "storageclass", name)
    assert sc["metadata"]["uid"] != uid
    assert (sc["parameters"], sc["volumeBindingMode"]) == ({"tier": "2"}, "Immediate")
    assert role(playbooks, storage_class_allow_recreate=True, **changed).changed == 0


def default_classes():
    return sorted(sc["metadata"]["name"] for sc in kubectl_json("get", "storageclass")["items"]
                  if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class")
                  == "true")


def test_default_class_moves_from_the_previous_default(playbooks, cleanup):
    if default_classes():
        pytest.skip("the cluster already has a default StorageClass ({}) that this test must not change"
                    .format(", ".join(default_classes())))
    first, second = ("sd-default-{}-{}".format(uuid.uuid4().hex[:6], n) for n in ("a", "b"))
    cleanup.extend([("storageclass", first), ("storageclass", second)])
    common = {"storage_class_mode": "custom", "storage_class_custom_provisioner": "example.com/none",
              "storage_class_default": True}

    made_first = role(playbooks, storage_class_name=first, **common)
    assert not made_first.failed, made_first
    assert default_classes() == [first]

    made_second = role(playbooks, storage_class_name=second, **common)
    assert not made_second.failed, made_second
    assert default_classes() == [second]
    annotations = kubectl_json("get", "storageclass", first)["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "false"
    assert role(playbooks, storage_class_name=second, **common).changed == 0

    # Dropping the default flag removes the annotation this role set.
    unset = role(playbooks, storage_class_name=second, **{**common, "storage_class_default": False})
    assert not unset.failed, unset
    assert default_classes() == []


def pv_phase(name, timeout=60):
    return kubectl_json("get", "pv", name).get("status", {}).get("phase")


def wait_phase(name, phase, timeout=60):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pv_phase(name) == phase:
            return
        kubectl("wait", "pv/" + name, "--for=jsonpath={.status.phase}=" + phase, "--timeout=5s", check=False)
    raise AssertionError("PersistentVolume {} never {}: {}".format(name, phase, pv_phase(name)))


def test_volumes_released_by_a_purge_are_reused_only_when_asked(playbooks, namespace, cleanup):
    """teardown.yml -e datastores_purge=true deletes the claims; the Retain volumes stay Released until reused."""
    name = "sd-released-" + uuid.uuid4().hex[:6]
    pv = name + "-vol"
    cleanup.extend([("storageclass", name), ("pv", pv)])
    variables = {"storage_class_name": name, "storage_class_mode": "local",
                 "storage_class_local_volumes": [{"node": "localkube-node-1", "path": "/mnt/disks/r", "size": "1Gi",
                                                  "name": pv}]}
    assert not role(playbooks, **variables).failed
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": name, "volumeName": pv,
                      "resources": {"requests": {"storage": "1Gi"}}}}
    import json
    kubectl("apply", "-f", "-", stdin=json.dumps(claim))
    wait_phase(pv, "Bound")
    kubectl("delete", "pvc", "data", "-n", namespace, "--wait=true")
    wait_phase(pv, "Released")

    kept = role(playbooks, storage_class_reuse_released_volumes=False, **variables)  # inventories/local says true
    assert not kept.failed and pv_phase(pv) == "Released"
    assert "storage_class_reuse_released_volumes" in kept.result("Say which volumes stay Released and how to reuse them")["msg"]

    dry = role(playbooks, check=True, storage_class_reuse_released_volumes=True, **variables)
    assert not dry.failed and pv_phase(pv) == "Released", dry

    reused = role(playbooks, storage_class_reuse_released_volumes=True, **variables)
    assert not reused.failed, reused
    assert "Make the Released volumes Available again (their claims are gone; files on the node stay)" in \
        " ".join(reused.changed_tasks())
    wait_phase(pv, "Available")
    again = role(playbooks, storage_class_reuse_released_volumes=True, **variables)
    assert not again.failed and again.changed == 0, again
    kubectl("apply", "-f", "-", stdin=json.dumps(claim))
    wait_phase(pv, "Bound")
