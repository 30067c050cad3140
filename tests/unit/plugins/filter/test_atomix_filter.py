# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atomix role's decisions: names and waits of each generation, CRD generations, atomix_status, claims to purge."""
from ansible_collections.stateful.datastores.plugins.filter.atomix import FilterModule

FILTERS = FilterModule().filters()


def layout(generation="v1", **options):
    arguments = dict(clusters=1, partitions=2, replicas=3)
    arguments.update(options)
    return FILTERS["atomix_layout"](generation, "raft", "ns", **arguments)


def names(documents):
    return [d["metadata"]["name"] for d in documents]


def test_cloud_partitions_are_numbered_across_the_database():
    found = layout("cloud-v1beta2", clusters=2, partitions=2)
    assert found["cluster_names"] == found["statefulsets"] == found["configmaps"] == ["raft-1", "raft-2"]
    assert found["partition_names"] == ["raft-1-1", "raft-1-2", "raft-2-3", "raft-2-4"]
    assert found["services"] == ["raft-1", "raft-1-hs", "raft-2", "raft-2-hs"]
    assert found["replica_names"] == [] and found["node_fs_group"] is None
    assert found["waits"][0] == {"kind": "Database", "api_version": "cloud.atomix.io/v1beta2", "name": "raft",
                                 "field": {"path": "status.readyClusters", "value": 2}}
    assert [w["kind"] for w in found["waits"]].count("Partition") == 4
    assert names(found["products"]["custom"]) == ["raft-1", "raft-2"] + found["partition_names"]
    assert names(found["product_pods"]) == ["raft-1-0", "raft-1-1", "raft-1-2", "raft-2-0", "raft-2-1", "raft-2-2"]


def test_v1_has_one_raft_cluster_with_replicas_per_partition():
    found = layout(replication_factor=2, persistence=True, security_context={"runAsUser": 1000},
                   crds=["datastores.atomix.io"], controllers=["atomix-controller"])
    assert found["statefulsets"] == ["raft"] and found["configmaps"] == ["raft-raft-config"]
    assert found["replica_names"] == ["raft-1-1", "raft-1-2", "raft-2-1", "raft-2-2"]
    assert found["node_fs_group"] == 1000
    assert found["replica_waits"][0] == {"kind": "StatefulSet", "name": "raft", "replace_stuck_pods": True}
    assert [w["name"] for w in found["waits"] if w["kind"] == "PersistentVolumeClaim"] == [
        "atomix-data-raft-0", "atomix-data-raft-1", "atomix-data-raft-2"]
    assert found["crd_waits"][0]["kind"] == "CustomResourceDefinition"
    assert found["controller_waits"] == [{"kind": "Deployment", "name": "atomix-controller"}]
    assert [d["kind"] for d in found["products"]["custom"]][-5:] == ["DataStore"] + ["RaftReplica"] * 4
    assert layout()["node_fs_group"] is None and len(layout()["replica_names"]) == 6


def test_claims_of_the_statefulsets_before_and_of_the_v1_template():
    before = [{"metadata": {"name": "raft"}, "spec": {"volumeClaimTemplates": [{"metadata": {"name": "logs"}}]}},
              {"metadata": {"name": "other"}, "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}]
    claims = [{"metadata": {"name": n}} for n in ("logs-raft-0", "atomix-data-raft-1", "data-other-0",
                                                  "atomix-data-raft-x", "atomix-data-raft2-0")]
    found = FILTERS["atomix_doomed_claims"](claims, before, ["raft"], "v1", "raft", "ns")
    assert names(found) == ["logs-raft-0", "atomix-data-raft-1"]
    assert found[0] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "logs-raft-0", "namespace": "ns"}}
    assert names(FILTERS["atomix_doomed_claims"](claims, before, ["raft"], "cloud-v1beta2", "raft", "ns")) == [
        "logs-raft-0"]


def crd(name, group, served, kind="Thing", deleting=False):
    metadata = {"name": name, "deletionTimestamp": "now"} if deleting else {"name": name}
    return {"metadata": metadata, "spec": {"group": group, "names": {"kind": kind},
                                           "versions": [{"name": v, "served": True} for v in served]}}


def test_crd_generations_and_conflicts():
    wanted = [{"name": "datastores.atomix.io", "version": "v3beta4"}]
    crds = [crd("datastores.atomix.io", "atomix.io", ["v3beta3"]),
            crd("raftclusters.raft.atomix.io", "raft.atomix.io", ["v1beta3"]),
            crd("databases.cloud.atomix.io", "cloud.atomix.io", ["v1beta2"]),
            crd("x.cloud.atomix.io", "cloud.atomix.io", ["v1beta3"]),
            crd("r.storage.cloud.atomix.io", "storage.cloud.atomix.io", ["v1beta1"], kind="RaftStorageClass"),
            crd("p.primitives.atomix.io", "primitives.atomix.io", ["v2"]),
            crd("old.atomix.io", "atomix.io", ["v2beta1"]),
            crd("gone.raft.atomix.io", "raft.atomix.io", ["v1beta3"], deleting=True),
            crd("x.example.io", "example.io", ["v1"])]
    found = {c["name"]: (c["generation"], c["conflict"]) for c in FILTERS["atomix_crds"](crds, "v1", wanted)}
    assert found == {
        "datastores.atomix.io": ("v1", "serves v3beta3, not v3beta4"),
        "raftclusters.raft.atomix.io": ("v1", ""),
        "databases.cloud.atomix.io": ("cloud-v1beta2", "generation cloud-v1beta2"),
        "x.cloud.atomix.io": ("atomix-controller v0.3-v0.5 (cloud.atomix.io/v1beta3)",
                              "generation atomix-controller v0.3-v0.5 (cloud.atomix.io/v1beta3)"),
        "r.storage.cloud.atomix.io": ("cloud-v1beta2", "generation cloud-v1beta2"),
        "p.primitives.atomix.io": ("atomix-controller v0.5-v0.6 (primitives.atomix.io)",
                                   "generation atomix-controller v0.5-v0.6 (primitives.atomix.io)"),
        "old.atomix.io": ("atomix-controller v0.5-v0.6 (atomix.io v2beta1)",
                          "generation atomix-controller v0.5-v0.6 (atomix.io v2beta1)"),
    }


def test_only_the_kinds_of_crds_present_without_conflict_are_read():
    wanted = [{"name": "raftstores.raft.atomix.io", "group": "raft.atomix.io", "version": "v1beta3",
               "kind": "RaftStore"},
              {"name": "datastores.atomix.io", "group": "atomix.io", "version": "v3beta4", "kind": "DataStore"},
              {"name": "raftclusters.raft.atomix.io", "group": "raft.atomix.io", "version": "v1beta3",
               "kind": "RaftCluster"}]
    found = [{"name": "datastores.atomix.io", "conflict": "serves v3beta3, not v3beta4"},
             {"name": "raftstores.raft.atomix.io", "conflict": ""}, {"name": "other.atomix.io", "conflict": ""}]
    assert FILTERS["atomix_crd_kinds"](found, wanted) == [
        {"kind": "RaftStore", "api_version": "raft.atomix.io/v1beta3"}]


def test_remaining_objects_are_named_and_in_check_mode_those_of_the_namespace_do_not_count():
    objects = [{"kind": "RaftStore", "metadata": {"name": "a", "namespace": "ns"}},
               {"kind": "RaftStore", "metadata": {"name": "b", "namespace": "other"}},
               {"kind": "DataStore", "metadata": {"name": "c"}}]
    assert FILTERS["atomix_remaining_objects"](objects, False, "ns") == ["RaftStore ns/a", "RaftStore other/b",
                                                                         "DataStore /c"]
    assert FILTERS["atomix_remaining_objects"](objects, True, "ns") == ["RaftStore other/b", "DataStore /c"]


def test_status_and_what_the_controller_did_not_produce():
    found = layout("cloud-v1beta2", clusters=1, partitions=1)
    by_kind = {
        "Database": [{"metadata": {"name": "raft"}, "status": {"readyClusters": 1}}],
        "Partition": [{"metadata": {"name": "raft-1-1"}, "status": {"ready": True}},
                      {"metadata": {"name": "elsewhere"}}],
        "StatefulSet": [{"metadata": {"name": "raft-1"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}}],
        "Service": [{"metadata": {"name": "raft-1-hs"}, "spec": {"clusterIP": "None", "ports": [{"port": 5678}]}},
                    {"metadata": {"name": "raft-1"}, "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 1}]}}],
    }
    objects = [dict(obj, kind=kind) for kind, objs in by_kind.items() for obj in objs]
    status = FILTERS["atomix_status"](objects, "cloud-v1beta2", "raft", "ns", 1, found, ["c"], iter(["d"]))
    assert status["database"] == {"kind": "Database", "name": "raft", "status": {"readyClusters": 1}, "ready": True}
    assert status["partitions"] == [{"name": "raft-1-1", "ready": True, "state": None}]
    assert status["statefulsets"] == [{"name": "raft-1", "replicas": 3, "ready_replicas": 2}]
    assert [s["name"] for s in status["services"]] == ["raft-1", "raft-1-hs"]
    assert status["controllers"] == ["d"] and status["crds"] == ["c"]
    assert FILTERS["atomix_missing_products"](status, "cloud-v1beta2", "ns", 3, found) == (
        "The cloud-v1beta2 controller did not produce what the database asks for in namespace ns: StatefulSets "
        "wanted raft-1 with 3 replicas, found raft-1 (wrong replicas: none); Services wanted raft-1,raft-1-hs "
        "with port(s) 5678, found raft-1,raft-1-hs (wrong ports: raft-1 (ports 1)).")
    status["services"][0]["ports"] = [5678]
    assert FILTERS["atomix_missing_products"](status, "cloud-v1beta2", "ns", 3, found) == ""
    v1 = FILTERS["atomix_status"]([], "v1", "raft", "ns", 1, layout(), [], [])
    assert v1["database"]["ready"] is False and v1["database"]["kind"] == "RaftStore" and v1["partitions"] == []
