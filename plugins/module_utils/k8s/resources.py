# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a kind lives in the API: built-in kinds from a table, others from one discovery call."""

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError

BUILTIN = {
    # kind: (apiVersion, plural, namespaced)
    "Namespace": ("v1", "namespaces", False),
    "Node": ("v1", "nodes", False),
    "PersistentVolume": ("v1", "persistentvolumes", False),
    "Pod": ("v1", "pods", True),
    "Service": ("v1", "services", True),
    "ServiceAccount": ("v1", "serviceaccounts", True),
    "ConfigMap": ("v1", "configmaps", True),
    "Secret": ("v1", "secrets", True),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "Endpoints": ("v1", "endpoints", True),
    "Event": ("v1", "events", True),
    "Deployment": ("apps/v1", "deployments", True),
    "StatefulSet": ("apps/v1", "statefulsets", True),
    "DaemonSet": ("apps/v1", "daemonsets", True),
    "ReplicaSet": ("apps/v1", "replicasets", True),
    "Job": ("batch/v1", "jobs", True),
    "CronJob": ("batch/v1", "cronjobs", True),
    "EndpointSlice": ("discovery.k8s.io/v1", "endpointslices", True),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets", True),
    "NetworkPolicy": ("networking.k8s.io/v1", "networkpolicies", True),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "StorageClass": ("storage.k8s.io/v1", "storageclasses", False),
    "CustomResourceDefinition": ("apiextensions.k8s.io/v1", "customresourcedefinitions", False),
    "Lease": ("coordination.k8s.io/v1", "leases", True),
}


class Resource(object):
    def __init__(self, api_version, kind, plural, namespaced):
        self.api_version = api_version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced

    def collection_path(self, namespace=None):
        prefix = "/api/" if "/" not in self.api_version else "/apis/"
        parts = [prefix + self.api_version]
        if self.namespaced and namespace:
            parts.append("namespaces/" + namespace)
        parts.append(self.plural)
        return "/".join(parts)

    def object_path(self, name, namespace=None):
        return self.collection_path(namespace) + "/" + name


def builtin(kind):
    """The Resource of a built-in kind."""
    api_version, plural, namespaced = BUILTIN[kind]
    return Resource(api_version, kind, plural, namespaced)


def object_path(kind, namespace, name):
    """The API path of one object of a built-in kind (namespace None for cluster-scoped kinds)."""
    return builtin(kind).object_path(name, namespace)


def collection_path(kind, namespace=None):
    """The API path of the objects of a built-in kind, in one namespace or in all."""
    return builtin(kind).collection_path(namespace)


class UnknownKind(DatastoresError):
    pass


class ResourceCatalog(object):
    """Resolves kinds, asking the API server at most once per group version."""

    def __init__(self, kube):
        self.kube = kube
        self._groups = {}

    def lookup(self, kind, api_version=None):
        if kind in BUILTIN and api_version in (None, BUILTIN[kind][0]):
            return builtin(kind)
        if not api_version:
            raise UnknownKind("kind {} is not built in: give its api_version (e.g. example.com/v1)".format(kind))
        for entry in self._group_resources(api_version):
            if entry.get("kind") == kind and "/" not in entry.get("name", "/"):
                return Resource(api_version, kind, entry["name"], entry.get("namespaced", True))
        raise UnknownKind("the API server serves no kind {} in {}".format(kind, api_version))

    def _group_resources(self, api_version):
        if api_version not in self._groups:
            prefix = "/api/" if "/" not in api_version else "/apis/"
            found = self.kube.get(prefix + api_version, missing_ok=True) or {}
            self._groups[api_version] = found.get("resources", [])
        return self._groups[api_version]
