# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_class without a cluster: the rendered manifests, and bad input failing before any API call.

Rendering runs the role's own validate.yml and render.yml (templates/manifests.yaml.j2) through
ansible-playbook and reads the documents it would apply. Bad input runs the whole role with a
kubeconfig that does not exist: the run must stop in validation, before the first Kubernetes call.
"""
import json

import pytest

pytestmark = pytest.mark.slow

RENDER_PLAYBOOK = """\
- name: Render the storage_class manifests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Validate the input
      ansible.builtin.include_role:
        name: stateful.datastores.storage_class
        tasks_from: validate.yml
    - name: Render the manifests
      ansible.builtin.include_role:
        name: stateful.datastores.storage_class
        tasks_from: render.yml
    - name: Write them out
      ansible.builtin.copy:
        content: "{{ _storage_class_manifests | to_json }}"
        dest: "{{ render_output }}"
        mode: "0600"
"""

ROLE_PLAYBOOK = """\
- name: Use the storage_class role
  hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.datastores.storage_class
"""

LOCAL_VOLUMES = [
    {"node": "node-a", "path": "/mnt/disks/vol1", "size": "10Gi"},
    {"node": "node-a", "path": "/mnt/disks/vol2", "size": "10Gi"},
    {"node": "node-b.example.com", "path": "/mnt/Disks/Vol_1", "size": "500Mi", "name": "chosen-name"},
    {"node": "node-b.example.com", "path": "/srv/data", "size": "1T"},
]

LABELS = {
    "app.kubernetes.io/name": "storage-class",
    "app.kubernetes.io/instance": "fast",
    "app.kubernetes.io/component": "storage",
    "app.kubernetes.io/part-of": "stateful-datastores",
    "app.kubernetes.io/managed-by": "stateful.datastores",
}


@pytest.fixture
def render(tmp_path, playbook_runner):
    playbook = tmp_path / "render.yml"
    playbook.write_text(RENDER_PLAYBOOK)
    output = tmp_path / "manifests.json"

    def run(**variables):
        variables.setdefault("storage_class_name", "fast")
        result = playbook_runner(playbook, dict(variables, render_output=str(output)))
        assert not result.failed, result.describe()
        return json.loads(output.read_text())

    return run


@pytest.fixture
def role(tmp_path, playbook_runner):
    playbook = tmp_path / "role.yml"
    playbook.write_text(ROLE_PLAYBOOK)

    def run(**variables):
        variables.setdefault("storage_class_kubeconfig", str(tmp_path / "no-such-kubeconfig"))
        return playbook_runner(playbook, variables)

    return run


def storage_classes(docs):
    return [d for d in docs if d["kind"] == "StorageClass"]


def volumes(docs):
    return [d for d in docs if d["kind"] == "PersistentVolume"]


def test_minikube_hostpath_class_with_defaults(render):
    docs = render()

    assert docs == [{
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "fast", "labels": LABELS},
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": False,
    }]


@pytest.mark.parametrize("disk_type", ["pd-standard", "pd-balanced", "pd-ssd"])
def test_gke_class_uses_the_pd_csi_driver_with_ext4(render, disk_type):
    (sc,) = render(storage_class_mode="gke", storage_class_gke_type=disk_type)

    assert sc["provisioner"] == "pd.csi.storage.gke.io"
    assert sc["parameters"] == {"type": disk_type, "csi.storage.k8s.io/fstype": "ext4"}
    assert sc["allowVolumeExpansion"] is True
    assert sc["reclaimPolicy"] == "Retain"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"


def test_custom_class_passes_provisioner_and_parameters_as_strings(render):
    (sc,) = render(storage_class_mode="custom", storage_class_custom_provisioner="ebs.csi.aws.com",
                   storage_class_custom_parameters={"type": "gp3", "iops": 3000, "encrypted": "true"},
                   storage_class_reclaim_policy="Delete", storage_class_volume_binding_mode="Immediate",
                   storage_class_allow_volume_expansion=True)

    assert sc["provisioner"] == "ebs.csi.aws.com"
    assert sc["parameters"] == {"type": "gp3", "iops": "3000", "encrypted": "true"}
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"], sc["allowVolumeExpansion"]) == ("Delete", "Immediate", True)


def test_local_mode_renders_one_pinned_volume_per_entry(render):
    docs = render(storage_class_mode="local", storage_class_local_volumes=LOCAL_VOLUMES)

    (sc,) = storage_classes(docs)
    assert sc["provisioner"] == "kubernetes.io/no-provisioner"
    assert "parameters" not in sc
    assert sc["allowVolumeExpansion"] is False
    pvs = volumes(docs)
    assert [pv["metadata"]["name"] for pv in pvs] == [
        "fast-node-a-mnt-disks-vol1", "fast-node-a-mnt-disks-vol2", "chosen-name",
        "fast-node-b-example-com-srv-data"]
    for pv, wanted in zip(pvs, LOCAL_VOLUMES):
        spec = pv["spec"]
        assert spec["storageClassName"] == "fast"
        assert spec["capacity"] == {"storage": wanted["size"]}
        assert spec["local"] == {"path": wanted["path"]}
        assert spec["accessModes"] == ["ReadWriteOnce"]
        assert spec["volumeMode"] == "Filesystem"
        assert spec["persistentVolumeReclaimPolicy"] == "Retain"
        assert spec["nodeAffinity"] == {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [wanted["node"]]}]}]}}
        assert pv["metadata"]["labels"]["app.kubernetes.io/component"] == "local-volume"
        assert pv["metadata"]["labels"]["app.kubernetes.io/instance"] == "fast"


def test_local_volumes_are_ignored_outside_local_mode(render):
    docs = render(storage_class_mode="gke", storage_class_local_volumes=LOCAL_VOLUMES)

    assert volumes(docs) == []


def test_default_class_is_annotated_and_previous_defaults_are_unset(render):
    demote = [{"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
               "provisioner": "k8s.io/minikube-hostpath", "parameters": {},
               "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"},
              {"name": "old", "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "false"},
               "provisioner": "x.example.com", "parameters": {"tier": "1"},
               "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"}]

    docs = render(storage_class_default=True, _storage_class_demote=demote)

    ours, *others = storage_classes(docs)
    assert ours["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    # The immutable fields are repeated unchanged, so that apply-time defaulting cannot alter them.
    assert others == [
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}},
         "provisioner": "k8s.io/minikube-hostpath", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": "old", "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "false"}},
         "provisioner": "x.example.com", "parameters": {"tier": "1"}, "reclaimPolicy": "Retain",
         "volumeBindingMode": "WaitForFirstConsumer"}]


def test_not_default_means_no_annotation(render):
    (sc,) = render(storage_class_default=False)

    assert "annotations" not in sc["metadata"]


BAD_INPUT = [
    ({"storage_class_mode": "nfs"}, ["storage_class_mode", "minikube-hostpath, local, gke, custom"]),
    ({"storage_class_mode": "gke", "storage_class_gke_type": "pd-extreme"},
     ["storage_class_gke_type", "pd-standard, pd-balanced, pd-ssd"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"node": "n1", "path": "/mnt/v1"}]},
     ["size", "storage_class_local_volumes"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"path": "/mnt/v1", "size": "1Gi"}]},
     ["node", "storage_class_local_volumes"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"node": "n1", "size": "1Gi"}]},
     ["path", "storage_class_local_volumes"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"node": "n1", "path": "/mnt/v1",
                                                                      "size": "10 GB"}]},
     ["storage_class_local_volumes[0].size", "quantity", "'10 GB'"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"node": "n1", "path": "/mnt/v1",
                                                                      "size": "0Gi"}]},
     ["storage_class_local_volumes[0].size", "'0Gi'"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [{"node": "n1", "path": "mnt/v1",
                                                                      "size": "1Gi"}]},
     ["storage_class_local_volumes[0].path", "absolute", "'mnt/v1'"]),
    ({"storage_class_mode": "local"}, ["storage_class_local_volumes", "node, path, size"]),
    ({"storage_class_mode": "local", "storage_class_reclaim_policy": "Delete",
      "storage_class_local_volumes": [{"node": "n1", "path": "/mnt/v1", "size": "1Gi"}]},
     ["storage_class_reclaim_policy", "Retain"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [
        {"node": "n1", "path": "/mnt/v1", "size": "1Gi"}, {"node": "n1", "path": "/mnt/v1", "size": "2Gi"}]},
     ["storage_class_local_volumes", "n1:/mnt/v1"]),
    ({"storage_class_mode": "local", "storage_class_local_volumes": [
        {"node": "n1", "path": "/mnt/v1", "size": "1Gi", "name": "Bad_Name"}]},
     ["storage_class_local_volumes", "Bad_Name"]),
    ({"storage_class_mode": "custom"}, ["storage_class_custom_provisioner"]),
    ({"storage_class_mode": "custom", "storage_class_custom_provisioner": "x.example.com",
      "storage_class_custom_parameters": {"encrypted": True}}, ["storage_class_custom_parameters", "encrypted"]),
    ({"storage_class_name": "Fast_Disks"}, ["storage_class_name", "DNS label"]),
    ({"storage_class_volume_binding_mode": "Later"}, ["storage_class_volume_binding_mode", "WaitForFirstConsumer"]),
]


@pytest.mark.parametrize("variables,named", BAD_INPUT, ids=[str(i) for i in range(len(BAD_INPUT))])
def test_bad_input_fails_before_the_cluster_is_touched(role, variables, named):
    result = role(**variables)

    assert result.failed
    tasks = [name for name, task_result in result.results()]
    assert not [t for t in tasks if "List the StorageClasses" in t], "validation must stop before any API call"
    message = " ".join(result.failure_messages)
    for text in named:
        assert text in message, message


def test_good_input_gets_past_validation_to_the_cluster(role):
    """The counterpart of the bad-input tests: valid input reaches the first API call, the connection check
    (and fails there, with no cluster)."""
    result = role(storage_class_mode="local", storage_class_local_volumes=LOCAL_VOLUMES)

    assert result.failed
    assert [name for name, r in result.results() if r.get("failed")] == [
        "stateful.datastores.storage_class : Check the connection and the nodes of the local volumes before writing"]
