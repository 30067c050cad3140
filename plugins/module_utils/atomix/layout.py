# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an Atomix database of either generation is made of: names, waits, teardown lists and claims to purge.

cloud-v1beta2 (kubernetes-controller v0.2.0-beta.5, raft-storage-controller v0.1.1): the Database owns Clusters
<db>-1 ... <db>-<clusters>; each Cluster owns its Partitions <db>-<c>-<id>, numbered across the database (cluster c
holds ids (c-1)*P+1 ... c*P), and the storage controller's StatefulSet, ConfigMap, Service <db>-<c> and headless
Service <db>-<c>-hs. v1: one RaftCluster <db> makes StatefulSet <db>, Services <db> and <db>-hs, RaftPartitions
<db>-<n> and their RaftReplicas <partition>-<member>.
"""
import re

CLOUD = "cloud-v1beta2"
CLOUD_API = "cloud.atomix.io/v1beta2"
RAFT_API = "raft.atomix.io/v1beta3"
V1_CLAIM_TEMPLATE = "atomix-data"


def _ready(kind, api_version, name, path="status.state", value="Ready"):
    return {"kind": kind, "api_version": api_version, "name": name, "field": {"path": path, "value": value}}


def _document(api_version, kind, name, namespace):
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}


def node_fs_group(generation, persistence, security_context):
    """v1 with persistence: the fsGroup the role gives the Raft pods (their group, else their user); else None."""
    if generation != "v1" or not persistence:
        return None
    context = security_context or {}
    return context.get("runAsGroup", context.get("runAsUser", 65532))


def layout(generation, name, namespace, clusters, partitions, replicas, replication_factor=None, persistence=False,
           security_context=None, crds=(), controllers=()):
    """Every name the role applies, waits for and tears down, for one database; see the module docstring."""
    cloud = generation == CLOUD
    cluster_names = ["{0}-{1}".format(name, c) for c in range(1, clusters + 1)] if cloud else []
    statefulsets = cluster_names if cloud else [name]
    if cloud:
        partition_names = ["{0}-{1}-{2}".format(name, c, i) for c in range(1, clusters + 1)
                           for i in range((c - 1) * partitions + 1, c * partitions + 1)]
        replica_names = []
    else:
        partition_names = ["{0}-{1}".format(name, i) for i in range(1, partitions + 1)]
        members = int(replication_factor or replicas)
        replica_names = ["{0}-{1}".format(p, m) for p in partition_names for m in range(1, members + 1)]
    services = [service for s in statefulsets for service in (s, s + "-hs")]
    configmaps = cluster_names if cloud else [name + "-raft-config"]
    fs_group = node_fs_group(generation, persistence, security_context)
    statefulset_waits = [{"kind": "StatefulSet", "name": s, "replace_stuck_pods": fs_group is not None}
                         for s in statefulsets]
    if cloud:
        waits = [_ready("Database", CLOUD_API, name, "status.readyClusters", clusters)]
        for cluster in cluster_names:
            waits += [_ready("Cluster", CLOUD_API, cluster, "status.readyPartitions", partitions),
                      {"kind": "ConfigMap", "name": cluster}]
        waits += [_ready("Partition", CLOUD_API, p, "status.ready", True) for p in partition_names]
        custom = [_document(CLOUD_API, "Cluster", c, namespace) for c in cluster_names]
        custom += [_document(CLOUD_API, "Partition", p, namespace) for p in partition_names]
    else:
        waits = [_ready("RaftCluster", RAFT_API, name), _ready("RaftStore", RAFT_API, name),
                 {"kind": "DataStore", "api_version": "atomix.io/v3beta4", "name": name}]
        waits += [_ready("RaftPartition", RAFT_API, p) for p in partition_names]
        if persistence:
            waits += [{"kind": "PersistentVolumeClaim", "name": "{0}-{1}-{2}".format(V1_CLAIM_TEMPLATE, name, i)}
                      for i in range(replicas)]
        # The raft controller removes its finalizer from each RaftReplica; it must still run (and hold its RBAC)
        # until they are gone, or they outlive the role's teardown and block their CRD.
        custom = [_document(RAFT_API, "RaftPartition", p, namespace) for p in partition_names]
        custom += [_document("atomix.io/v3beta4", "DataStore", name, namespace)]
        custom += [_document(RAFT_API, "RaftReplica", r, namespace) for r in replica_names]
    return {
        "cluster_names": cluster_names,
        "statefulsets": statefulsets,
        "partition_names": partition_names,
        "replica_names": replica_names,
        "services": services,
        "configmaps": configmaps,
        "node_fs_group": fs_group,
        "crd_waits": [{"kind": "CustomResourceDefinition", "api_version": "apiextensions.k8s.io/v1", "name": crd}
                      for crd in crds],
        "controller_waits": [{"kind": "Deployment", "name": controller} for controller in controllers],
        "replica_waits": statefulset_waits[:1] + [_ready("RaftReplica", RAFT_API, r) for r in replica_names],
        "waits": waits + statefulset_waits + [{"kind": "Service", "name": s} for s in services],
        # Teardown: what the controllers produce, in case no controller is left to delete it through owner
        # references; custom holds the kinds of the generation's CRDs.
        "products": {
            "core": ([_document("apps/v1", "StatefulSet", s, namespace) for s in statefulsets]
                     + [_document("v1", "Service", s, namespace) for s in services]
                     + [_document("v1", "ConfigMap", c, namespace) for c in configmaps]),
            "custom": custom,
        },
        "product_pods": [_document("v1", "Pod", "{0}-{1}".format(s, i), namespace)
                         for s in statefulsets for i in range(replicas)],
    }


def doomed_claims(claims, statefulsets_before, statefulsets, generation, name, namespace):
    """The claims (PersistentVolumeClaim objects) of the database's StatefulSets, as documents to delete.

    A StatefulSet's claims are <claim template>-<StatefulSet>-<ordinal>; the templates come from the StatefulSets
    as they were before the teardown, and for v1 the RaftCluster's template is known, so its claims are found even
    after an earlier teardown without purge.
    """
    prefixes = ["{0}-{1}".format(t["metadata"]["name"], s["metadata"]["name"])
                for s in statefulsets_before or [] if s["metadata"]["name"] in statefulsets
                for t in s.get("spec", {}).get("volumeClaimTemplates") or []]
    if generation == "v1":
        prefixes.append("{0}-{1}".format(V1_CLAIM_TEMPLATE, name))
    patterns = [re.compile("^" + re.escape(prefix) + "-[0-9]+$") for prefix in prefixes]
    found = []
    for claim in claims or []:
        claim_name = claim["metadata"]["name"]
        if claim_name not in found and any(p.match(claim_name) for p in patterns):
            found.append(claim_name)
    return [_document("v1", "PersistentVolumeClaim", claim_name, namespace) for claim_name in found]
