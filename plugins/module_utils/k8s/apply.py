# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of many objects through one client, telling created, updated and unchanged apart."""
import copy

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import ResourceCatalog

# Fields the API server sets on writes; an apply that changes nothing else changed nothing.
_SERVER_FIELDS = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
_SECRET_VALUES = ("data", "stringData")


def _comparable(obj):
    trimmed = copy.deepcopy(obj)
    trimmed.pop("status", None)
    for field in _SERVER_FIELDS:
        trimmed.get("metadata", {}).pop(field, None)
    return trimmed


def without_secret_values(obj):
    if obj.get("kind") != "Secret":
        return obj
    return {key: value for key, value in obj.items() if key not in _SECRET_VALUES}


def check_definitions(definitions):
    """Names each manifest that cannot be applied, before anything is sent."""
    problems = []
    for index, obj in enumerate(definitions):
        if not isinstance(obj, dict):
            problems.append("definition[{}] is a {}, not a mapping".format(index, type(obj).__name__))
            continue
        missing = [field for field in ("apiVersion", "kind") if not obj.get(field)]
        if not (obj.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            problems.append("definition[{}] ({}) has no {}".format(index, obj.get("kind", "?"), ", ".join(missing)))
    return problems


class Applier(object):
    def __init__(self, kube, field_manager, force=True, dry_run=False, create_only=False):
        self.kube = kube
        self.catalog = ResourceCatalog(kube)
        self.field_manager = field_manager
        self.force = force
        self.dry_run = dry_run
        self.create_only = create_only
        self.applied = []

    def apply_all(self, definitions, default_namespace=None):
        """Applies in the given order; one entry per object with `result` and the object as applied.

        `applied` holds the entries so far when an object fails."""
        new_namespaces = set()
        for obj in definitions:
            entry = self._apply(obj, default_namespace, new_namespaces)
            if entry["kind"] == "Namespace" and entry["result"] == "created":
                new_namespaces.add(entry["name"])
            self.applied.append(entry)
        return self.applied

    def _apply(self, obj, default_namespace, new_namespaces):
        resource = self.catalog.lookup(obj["kind"], obj["apiVersion"])
        body = copy.deepcopy(obj)
        metadata = body.setdefault("metadata", {})
        namespace = None
        if resource.namespaced:
            namespace = metadata.get("namespace") or default_namespace
            if not namespace:
                raise ValueError("{} {}: a namespaced kind needs metadata.namespace or the namespace option"
                                 .format(obj["kind"], metadata["name"]))
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        entry = {"api_version": obj["apiVersion"], "kind": obj["kind"], "name": metadata["name"],
                 "namespace": namespace}
        if self.dry_run and namespace in new_namespaces:
            # A dry run cannot place objects into a namespace that the same dry run only pretended to create.
            entry.update(result="created", object=without_secret_values(body))
            return entry
        path = resource.object_path(metadata["name"], namespace)
        before = self.kube.get(path, missing_ok=True)
        if self.create_only:
            return self._create(entry, resource, namespace, path, body, before)
        after = self.kube.apply(path, body, self.field_manager, force=self.force, dry_run=self.dry_run)
        # Not by resourceVersion: re-applying an unchanged Namespace still writes it.
        if before is None:
            result = "created"
        else:
            result = "unchanged" if _comparable(before) == _comparable(after) else "updated"
        entry.update(result=result, object=without_secret_values(after))
        return entry

    def _create(self, entry, resource, namespace, path, body, before):
        """Create when absent; an object that exists, or that a concurrent writer created first, is left as it is."""
        if before is None:
            query = {"fieldManager": self.field_manager}
            if self.dry_run:
                query["dryRun"] = "All"
            try:
                created = self.kube.request("POST", resource.collection_path(namespace), query, body=body)
                entry.update(result="created", object=without_secret_values(created))
                return entry
            except KubeError as error:
                if error.status != 409:
                    raise
            before = self.kube.get(path)
        entry.update(result="unchanged", object=without_secret_values(before))
        return entry
