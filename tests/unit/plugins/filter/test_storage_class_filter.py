# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage_class role's decisions: changed immutable fields, default classes to demote, local volume checks."""
from ansible_collections.stateful.datastores.plugins.filter.storage_class import FilterModule

FILTERS = FilterModule().filters()
DEFAULT = "storageclass.kubernetes.io/is-default-class"
BETA = "storageclass.beta.kubernetes.io/is-default-class"
WANTED = {"provisioner": "p", "parameters": {}, "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate"}


def test_changes_of_the_existing_class_count_server_defaults():
    classes = [{"metadata": {"name": "mine"}, "provisioner": "p", "parameters": None}]
    found = FILTERS["storage_class_inspection"](classes, "mine", WANTED)
    assert found == {"exists": True, "demote": [],
                     "changes": [{"field": "reclaimPolicy", "current": "Delete", "wanted": "Retain"}]}
    assert FILTERS["storage_class_inspection"](classes, "new", WANTED) == {"exists": False, "changes": [],
                                                                           "demote": []}


def test_other_default_classes_are_demoted_with_their_fields_as_they_are():
    classes = [{"metadata": {"name": "old", "annotations": {DEFAULT: "true", BETA: "true"}}, "provisioner": "q"},
               {"metadata": {"name": "plain", "annotations": None}, "provisioner": "q"},
               {"metadata": {"name": "mine", "annotations": {DEFAULT: "true"}}, "provisioner": "p"}]
    found = FILTERS["storage_class_inspection"](classes, "mine", WANTED, True)["demote"]
    assert found == [{"name": "old", "annotations": {DEFAULT: "false", BETA: "false"}, "provisioner": "q",
                      "parameters": {}, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}]
    assert FILTERS["storage_class_inspection"](classes, "mine", WANTED, False)["demote"] == []


def test_local_volume_checks_name_each_entry():
    found = FILTERS["storage_class_volume_checks"]([{"node": 7, "path": "/a", "size": "1Gi"}])
    assert found["inputs"] == [
        {"variable": "storage_class_local_volumes[0].path", "value": "/a", "type": "absolute_path"},
        {"variable": "storage_class_local_volumes[0].size", "value": "1Gi", "type": "quantity",
         "example": "10Gi, 500Mi or 1T"}]
    assert found["nodes"] == [{"kind": "Node", "name": "7", "msg": (
        'storage_class_local_volumes[0].node: node "7" does not exist in this cluster; use a name that kubectl get '
        "nodes lists (the value of the node's kubernetes.io/hostname label)")}]


def test_clashing_and_invalid_volume_names():
    volumes = [{"node": "n", "path": "/a"}, {"node": "n", "path": "/a"}, {"node": "m", "path": "/a"}]
    found = FILTERS["storage_class_pv_clashes"](iter(["pv-a", "pv-a", "Bad_Name", "pv-a"]), volumes)
    assert found == {"duplicates": ["pv-a", "n:/a"], "bad_names": ["Bad_Name"]}


def test_default_classes_by_the_ga_annotation():
    classes = [{"metadata": {"name": "a", "annotations": {DEFAULT: "true"}}},
               {"metadata": {"name": "b", "annotations": {BETA: "true", DEFAULT: "false"}}},
               {"metadata": {"name": "c", "annotations": None}}, {"metadata": {"name": "d"}}]
    assert FILTERS["default_storage_classes"](classes) == ["a"]
