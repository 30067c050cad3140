# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Atomix generation each installed CRD belongs to, whether it conflicts with the one the role installs, and
which objects keep the role from deleting its CRDs."""

V1_GROUPS = ("raft.atomix.io", "podmemory.atomix.io", "sharedmemory.atomix.io", "consensus.atomix.io",
             "etcd.atomix.io")
V05_GROUPS = ("sidecar.atomix.io", "primitives.atomix.io", "storage.atomix.io", "runtime.atomix.io")


def crd_generation(group, kind, served):
    """The generation that serves `kind` of `group` at the `served` versions: v1, cloud-v1beta2, or a description."""
    if group == "cloud.atomix.io":
        return "cloud-v1beta2" if "v1beta2" in served else "atomix-controller v0.3-v0.5 (cloud.atomix.io/v1beta3)"
    if group == "storage.cloud.atomix.io":
        if kind in ("RaftStorageClass", "RaftStorage") and "v1beta1" in served:
            return "cloud-v1beta2"
        return "atomix-controller v0.5-v0.6 (storage.cloud.atomix.io {0})".format(",".join(served))
    if group == "atomix.io":
        if any(version.startswith("v3") for version in served):
            return "v1"
        return "atomix-controller v0.5-v0.6 (atomix.io {0})".format(",".join(served))
    if group in V1_GROUPS:
        return "v1"
    if group in V05_GROUPS:
        return "atomix-controller v0.5-v0.6 ({0})".format(group)
    return "unknown Atomix generation"


def atomix_crds(crds, generation, wanted):
    """The Atomix CRDs (group atomix.io or *.atomix.io) that are not being deleted, each with its generation.

    wanted: the CRDs of `generation` ({name, version}). conflict is '' for a CRD that fits: one of the wanted
    CRDs serving the wanted version, or another CRD of the same generation; else why it does not.
    """
    versions = dict((crd["name"], crd["version"]) for crd in wanted)
    found = []
    for crd in crds or []:
        spec, name = crd["spec"], crd["metadata"]["name"]
        group = spec["group"]
        if not (group == "atomix.io" or group.endswith(".atomix.io")) or "deletionTimestamp" in crd["metadata"]:
            continue
        served = [version["name"] for version in spec.get("versions") or [] if version.get("served")]
        crd_gen = crd_generation(group, spec.get("names", {}).get("kind"), served)
        conflict = ""
        if name in versions and versions[name] not in served:
            conflict = "serves {0}, not {1}".format(",".join(served), versions[name])
        elif name not in versions and crd_gen != generation:
            conflict = "generation " + crd_gen
        found.append({"name": name, "group": group, "served": served, "generation": crd_gen, "conflict": conflict})
    return found


def crd_kinds(found, wanted):
    """The kinds of the `wanted` CRDs that `found` (atomix_crds) holds without conflict, as k8s_objects lookup terms."""
    present = set(crd["name"] for crd in found if not crd["conflict"])
    return [{"kind": crd["kind"], "api_version": "{0}/{1}".format(crd["group"], crd["version"])}
            for crd in wanted if crd["name"] in present]


def remaining_objects(objects, check_mode, namespace):
    """'Kind namespace/name' of the `objects` that deleting their CRDs would delete.

    In check mode those of `namespace` do not count: the run would have deleted them first.
    """
    return ["{0} {1}/{2}".format(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            for obj in objects if not (check_mode and obj["metadata"].get("namespace", "") == namespace)]
