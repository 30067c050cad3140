# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object in the cluster, to prove that a run wrote nothing (compare a snapshot before and after).

Left out, because the control plane changes them on its own: Events, Leases, and the status and
resourceVersion of Nodes (KWOK's heartbeats). Everything else is compared as the API server returns it,
resourceVersion included, so any write shows. Namespaces being deleted (by an earlier test's cleanup) are
left out with everything in them and everything that belongs to them (a PersistentVolume claimed there, the
IPAddress of a Service there), and so are objects being deleted.
"""
import json

from tests.helpers.cluster import kubectl

SKIPPED = {"events", "events.events.k8s.io", "leases.coordination.k8s.io"}


def _listable():
    names = kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    return sorted(name for name in names if name not in SKIPPED)


def _key(obj):
    metadata = obj.get("metadata", {})
    return "{}/{}/{}".format(obj.get("kind"), metadata.get("namespace", ""), metadata.get("name"))


def _left_by_cleanup(obj, live_namespaces):
    """Being deleted, or in (or belonging to) a namespace that is being deleted or gone."""
    metadata, spec = obj.get("metadata", {}), obj.get("spec") or {}
    owners = {metadata.get("namespace"), (spec.get("claimRef") or {}).get("namespace"),
              (spec.get("parentRef") or {}).get("namespace")}
    if obj.get("kind") == "Namespace":
        owners.add(metadata.get("name"))
    return bool(metadata.get("deletionTimestamp")) or bool(owners - {None, ""} - live_namespaces)


def cluster_snapshot():
    """{kind/namespace/name: JSON text} for every listable object in every namespace."""
    listing = json.loads(kubectl("get", ",".join(_listable()), "--all-namespaces", "-o", "json").stdout)
    items = listing.get("items", [])
    live_namespaces = {obj["metadata"]["name"] for obj in items
                       if obj.get("kind") == "Namespace" and not obj["metadata"].get("deletionTimestamp")}
    found = {}
    for obj in items:
        if _left_by_cleanup(obj, live_namespaces):
            continue
        if obj.get("kind") == "Node":
            obj.pop("status", None)
            obj.get("metadata", {}).pop("resourceVersion", None)
            obj.get("metadata", {}).pop("managedFields", None)
            obj.get("metadata", {}).get("annotations", {}).pop("kwok.x-k8s.io/status", None)
        found[_key(obj)] = json.dumps(obj, sort_keys=True)
    return found


def differences(before, after):
    """Readable list of what was added, removed or changed between two snapshots."""
    changes = ["added " + key for key in sorted(set(after) - set(before))]
    changes += ["removed " + key for key in sorted(set(before) - set(after))]
    changes += ["changed " + key for key in sorted(set(before) & set(after)) if before[key] != after[key]]
    return changes
