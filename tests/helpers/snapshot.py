# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object in the cluster, to prove that a run wrote nothing (compare a snapshot before and after).

Left out, because the control plane changes them on its own: Events, Leases, and the status and
resourceVersion of Nodes (KWOK's heartbeats). Everything else is compared as the API server returns it,
resourceVersion included, so any write shows. Namespaces being deleted (by an earlier test's cleanup) are
left out with everything in them.
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


def cluster_snapshot():
    """{kind/namespace/name: JSON text} for every listable object in every namespace."""
    listing = json.loads(kubectl("get", ",".join(_listable()), "--all-namespaces", "-o", "json").stdout)
    items = listing.get("items", [])
    terminating = {obj["metadata"]["name"] for obj in items
                   if obj.get("kind") == "Namespace" and obj["metadata"].get("deletionTimestamp")}
    found = {}
    for obj in items:
        metadata = obj.get("metadata", {})
        if metadata.get("namespace") in terminating or (obj.get("kind") == "Namespace"
                                                        and metadata.get("name") in terminating):
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
