# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage_class role's decisions: immutable fields that differ, default classes to demote, local volume checks."""
import json
import re

DEFAULT_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                       "storageclass.beta.kubernetes.io/is-default-class")
# A PersistentVolume name: at most 253 characters of lowercase letters, digits, '-' and '.'.
PV_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _immutable(storage_class):
    """The fields Kubernetes does not let change, with what the API server fills in when they are left out."""
    return {"provisioner": storage_class.get("provisioner"),
            "parameters": storage_class.get("parameters") or {},
            "reclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "volumeBindingMode": storage_class.get("volumeBindingMode") or "Immediate"}


def default_classes(classes):
    """The names of the classes annotated as the cluster's default (the GA annotation, which the API server reads)."""
    return [c["metadata"]["name"] for c in classes or []
            if (c["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATIONS[0]) == "true"]


def inspection(classes, name, wanted, make_default):
    """exists; changes: [{field, current, wanted}] of the existing class; demote: the other default classes.

    wanted: provisioner, parameters, reclaimPolicy and volumeBindingMode as they will be applied. Each class to
    demote comes with the annotation(s) to set to "false" and its immutable fields as they are.
    """
    found = [c for c in classes or [] if c["metadata"]["name"] == name]
    changes = []
    if found:
        current = dict(_immutable(found[0]), provisioner=found[0].get("provisioner", ""))
        changes = [{"field": field, "current": current[field], "wanted": wanted[field]}
                   for field in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode")
                   if current[field] != wanted[field]]
    demote = []
    for other in classes or [] if make_default else []:
        annotations = other["metadata"].get("annotations") or {}
        unset = dict((key, "false") for key in DEFAULT_ANNOTATIONS if annotations.get(key, "") == "true")
        if other["metadata"]["name"] != name and unset:
            demote.append(dict(_immutable(other), name=other["metadata"]["name"], annotations=unset))
    return {"exists": bool(found), "changes": changes, "demote": demote}


def volume_checks(volumes):
    """inputs: input_problems checks of each local volume's path and size; nodes: k8s_preflight checks of its node."""
    inputs, nodes = [], []
    for index, volume in enumerate(volumes or []):
        where = "storage_class_local_volumes[{0}]".format(index)
        inputs += [{"variable": where + ".path", "value": volume.get("path"), "type": "absolute_path"},
                   {"variable": where + ".size", "value": volume.get("size"), "type": "quantity",
                    "example": "10Gi, 500Mi or 1T"}]
        node = str(volume.get("node"))
        nodes.append({"kind": "Node", "name": node, "msg": (
            "{0}.node: node {1} does not exist in this cluster; use a name that kubectl get nodes lists (the value "
            "of the node's kubernetes.io/hostname label)".format(where, json.dumps(node)))})
    return {"inputs": inputs, "nodes": nodes}


def pv_clashes(pv_names, volumes):
    """duplicates: PersistentVolume names and node:path places used twice; bad_names: invalid PersistentVolume names."""
    pv_names, seen, duplicates = list(pv_names), [], []
    places = ["{0}:{1}".format(v.get("node"), v.get("path")) for v in volumes or []]
    for item in pv_names + places:
        if item in seen and item not in duplicates:
            duplicates.append(item)
        seen.append(item)
    return {"duplicates": duplicates, "bad_names": [n for n in pv_names if not PV_NAME.match(n)]}
