# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role fed a table of bad values: every one refused before any write, each message naming its variable.

One ansible-playbook run per role tries every case (one play each, the failure rescued and recorded); a
snapshot of every object in the cluster before and after proves that nothing was written.
"""
import json

import pytest

from tests.helpers.ansible import run_playbook_json
from tests.helpers.bad_input import every_case_playbook
from tests.helpers.reliability import record
from tests.helpers.snapshot import cluster_snapshot, differences

pytestmark = pytest.mark.localkube

LOCAL = {"storage_class_mode": "local"}
VOLUME = {"node": "localkube-node-0", "path": "/mnt/disks/a", "size": "1Gi"}


def volumes(**changes):
    return {"storage_class_local_volumes": [dict(VOLUME, **changes)]}


TABLES = {
    "antidote": {
        "base": {"antidote_namespace": "t-bad-input-antidote", "antidote_storage_class": ""},
        "cases": [
            ("antidote_image", {"antidote_image": "antidotedb/antidote 0.2.2"}),
            ("antidote_image", {"antidote_image": "antidotedb/Antidote:0.2.2"}),
            ("antidote_resources", {"antidote_resources": {"limits": {"memory": "2 GB"}}}),
            ("antidote_resources", {"antidote_resources": {"requests": {"memory": "lots"}}}),
            ("antidote_resources", {"antidote_resources": {"request": {"cpu": "1"}}}),
            ("antidote_resources", {"antidote_resources": {"requests": {"memory": "2Gi"},
                                                           "limits": {"memory": "1Gi"}}}),
            ("antidote_namespace", {"antidote_namespace": "Not A Namespace"}),
            ("antidote_namespace", {"antidote_namespace": "t-bad-input-missing", "antidote_create_namespace": False}),
            ("antidote_storage_size", {"antidote_storage_size": "1 GB"}),
            ("antidote_storage_size", {"antidote_storage_size": "0"}),
            ("antidote_storage_class", {"antidote_storage_class": "no-such-class"}),
            ("antidote_storage_class", {"antidote_storage_class": "Bad_Class"}),
            ("antidote_cookie_secret", {"antidote_cookie_secret": "Cookie_Secret"}),
            ("antidote_connection_record", {"antidote_connection_record": "dc connections"}),
            ("antidote_wait_timeout", {"antidote_wait_timeout": 0}),
            ("antidote_dc_timeout", {"antidote_dc_timeout": -1}),
            ("antidote_erlang_dist_port", {"antidote_erlang_dist_port": 8087}),
            ("antidote_run_as_user", {"antidote_run_as_user": -1}),
            ("antidote_datacenters", {"antidote_datacenters": [{"name": "DC1"}]}),
            ("antidote_ring_size", {"antidote_ring_size": 12}),
            ("antidote_name_prefix", {"antidote_name_prefix": "Bad_Prefix"}),
            ("antidote_client_service_type", {"antidote_client_service_type": "External"}),
            ("antidote_kubeconfig", {"antidote_kubeconfig": "/nonexistent/kubeconfig"}),
        ],
    },
    "atomix": {
        "base": {"atomix_namespace": "t-bad-input-atomix"},
        "cases": [
            ("atomix_controller_resources", {"atomix_controller_resources": {"requests": {"memory": "64Mi"},
                                                                             "limits": {"memory": "2 GB"}}}),
            ("atomix_controller_resources", {"atomix_controller_resources": {"requests": {"cpu": "lots"},
                                                                             "limits": {"cpu": "1"}}}),
            ("atomix_controller_resources", {"atomix_controller_resources": {"requests": {"memory": "2Gi"},
                                                                             "limits": {"memory": "1Gi"}}}),
            ("atomix_controller_resources", {"atomix_controller_resources": {"requests": {"cpu": "1"}}}),
            ("atomix_node_image", {"atomix_node_image": "atomix/raft-node v0.7.0"}),
            ("atomix_node_image", {"atomix_node_image": "atomix/raft-node:latest"}),
            ("atomix_controller_image", {"atomix_controller_image": "Atomix/Controller:v1.0.0"}),
            ("atomix_storage_class", {"atomix_storage_class": "no-such-class"}),
            ("atomix_storage_class", {"atomix_storage_class": "Bad_Class"}),
            ("atomix_storage_size", {"atomix_storage_size": "2 GB"}),
            ("atomix_name", {"atomix_name": "Raft_DB"}),
            ("atomix_name", {"atomix_name": "r" * 41}),
            ("atomix_namespace", {"atomix_namespace": "-atomix"}),
            ("atomix_namespace", {"atomix_namespace": "t-bad-input-missing", "atomix_create_namespace": False}),
            ("atomix_replicas", {"atomix_replicas": 0}),
            ("atomix_clusters", {"atomix_clusters": 33}),
            ("atomix_partitions", {"atomix_partitions": 0}),
            ("atomix_replication_factor", {"atomix_replication_factor": 5}),
            ("atomix_wait_timeout", {"atomix_wait_timeout": 0}),
            ("atomix_purge", {"atomix_purge": True}),
            ("atomix_generation", {"atomix_generation": "v2"}),
            ("atomix_kubeconfig", {"atomix_kubeconfig": "/nonexistent/kubeconfig"}),
        ],
    },
    "elasticsearch": {
        "base": {"elasticsearch_name": "es", "elasticsearch_namespace": "t-bad-input-es"},
        "cases": [
            ("elasticsearch_name", {"elasticsearch_name": "ES"}),
            ("elasticsearch_name", {"elasticsearch_name": "e" * 41}),
            ("elasticsearch_namespace", {"elasticsearch_namespace": "Bad_NS"}),
            ("elasticsearch_replicas", {"elasticsearch_replicas": 0}),
            ("elasticsearch_replicas", {"elasticsearch_replicas": "three"}),
            ("elasticsearch_single_node", {"elasticsearch_single_node": True}),
            ("elasticsearch_single_node", {"elasticsearch_single_node": True, "elasticsearch_replicas": 1,
                                           "elasticsearch_version": "2.4.6", "elasticsearch_security": False}),
            ("elasticsearch_version", {"elasticsearch_version": "9.0.0"}),
            ("elasticsearch_image_repository", {"elasticsearch_image_repository": "docker.elastic.co/elasticsearch 8"}),
            ("elasticsearch_image_repository", {"elasticsearch_image_repository": "Docker.io/Library/Elasticsearch"}),
            ("elasticsearch_resources", {"elasticsearch_resources": {"limits": {"memory": "2 GB"}}}),
            ("elasticsearch_resources", {"elasticsearch_resources": {"requests": {"gpu": "1"}}}),
            ("elasticsearch_resources", {"elasticsearch_resources": {"requests": {"memory": "2Gi"},
                                                                     "limits": {"memory": "1Gi"}}}),
            ("elasticsearch_heap_size", {"elasticsearch_heap_size": "1g"}),
            ("elasticsearch_heap_size", {"elasticsearch_heap_size": "lots"}),
            ("elasticsearch_storage_size", {"elasticsearch_storage_size": "1 GB"}),
            ("elasticsearch_storage_size", {"elasticsearch_storage_size": "0"}),
            ("elasticsearch_storage_class", {"elasticsearch_storage_class": "Fast_SSD"}),
            ("elasticsearch_storage_class", {"elasticsearch_storage_class": "no-such-class"}),
            ("elasticsearch_create_namespace", {"elasticsearch_create_namespace": False}),
            ("elasticsearch_cluster_domain", {"elasticsearch_cluster_domain": "cluster local"}),
            ("elasticsearch_timeout", {"elasticsearch_timeout": 0}),
            ("elasticsearch_pdb_max_unavailable", {"elasticsearch_pdb_max_unavailable": 0}),
            ("elasticsearch_max_map_count", {"elasticsearch_max_map_count": 1000}),
            ("elasticsearch_config", {"elasticsearch_config": {"cluster.name": "other"}}),
            ("elasticsearch_credentials_secret", {"elasticsearch_credentials_secret": "My_Secret"}),
            ("elasticsearch_service_type", {"elasticsearch_service_type": "External"}),
        ],
    },
    "hazelcast": {
        "base": {"hazelcast_name": "hz", "hazelcast_namespace": "t-bad-input-hz"},
        "cases": [
            ("hazelcast_name", {"hazelcast_name": "Hazel_Cast"}),
            ("hazelcast_name", {"hazelcast_name": "h" * 53}),
            ("hazelcast_namespace", {"hazelcast_namespace": "Not A Namespace"}),
            ("hazelcast_replicas", {"hazelcast_replicas": 0}),
            ("hazelcast_replicas", {"hazelcast_replicas": "four"}),
            ("hazelcast_discovery", {"hazelcast_discovery": "multicast"}),
            ("hazelcast_workload_kind", {"hazelcast_workload_kind": "DaemonSet"}),
            ("hazelcast_service_type", {"hazelcast_service_type": "ExternalName"}),
            ("hazelcast_resources", {"hazelcast_resources": {"requests": {"memory": "lots"}}}),
            ("hazelcast_resources", {"hazelcast_resources": {"limits": {"memory": "2 GB"}}}),
            ("hazelcast_resources", {"hazelcast_resources": {"request": {"cpu": "1"}}}),
            ("hazelcast_resources", {"hazelcast_resources": {"requests": {"memory": "2Gi"},
                                                             "limits": {"memory": "1Gi"}}}),
            ("hazelcast_timeout", {"hazelcast_timeout": 0}),
            ("hazelcast_graceful_shutdown_seconds", {"hazelcast_graceful_shutdown_seconds": -5}),
            ("hazelcast_pdb_max_unavailable", {"hazelcast_pdb_max_unavailable": 0}),
            ("hazelcast_run_as_user", {"hazelcast_run_as_user": 0}),
            ("hazelcast_image", {"hazelcast_image": "hazelcast/hazelcast 5.7.0"}),
            ("hazelcast_image", {"hazelcast_image": "Docker.io/Hazelcast/Hazelcast:5.7.0"}),
            ("hazelcast_cluster_domain", {"hazelcast_cluster_domain": "cluster local"}),
            ("hazelcast_java_opts", {"hazelcast_java_opts": "-Xmx99g"}),
            ("hazelcast_java_opts", {"hazelcast_java_opts": "-Xms256m -Xmx512m"}),
            ("hazelcast_image_pull_policy", {"hazelcast_image_pull_policy": "Sometimes"}),
        ],
    },
    "loklak": {
        "base": {"loklak_name": "lk", "loklak_namespace": "t-bad-input-lk",
                 "loklak_elasticsearch_namespace": "t-bad-input-lk-es"},
        "cases": [
            ("loklak_name", {"loklak_name": "Loklak"}),
            ("loklak_name", {"loklak_name": "l" * 51}),
            ("loklak_namespace", {"loklak_namespace": "Not A Namespace"}),
            ("loklak_image", {"loklak_image": "loklak/loklak_server latest"}),
            ("loklak_image", {"loklak_image": "Loklak/Loklak_Server:latest"}),
            ("loklak_replicas", {"loklak_replicas": 0}),
            ("loklak_resources", {"loklak_resources": {"limits": {"memory": "2 GB"}}}),
            ("loklak_resources", {"loklak_resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}),
            ("loklak_resources", {"loklak_resources": {"limit": {"memory": "1Gi"}}}),
            ("loklak_config", {"loklak_config": {"Xmx": "3g"}}),
            ("loklak_config", {"loklak_config": {"Xmx": "lots"}}),
            ("loklak_config", {"loklak_config": {"bad key!": "x"}}),
            ("loklak_storage_size", {"loklak_storage_size": "1 GB"}),
            ("loklak_storage_class", {"loklak_storage_class": "Bad Class"}),
            ("loklak_storage_class", {"loklak_storage_class": "no-such-class"}),
            ("loklak_create_namespace", {"loklak_create_namespace": False}),
            ("loklak_elasticsearch_service", {"loklak_storage_class": ""}),
            ("loklak_elasticsearch_namespace", {"loklak_elasticsearch_namespace": "Elastic Search"}),
            ("loklak_port", {"loklak_port": 70000}),
            ("loklak_timeout", {"loklak_timeout": 0}),
            ("loklak_probe_timeout_seconds", {"loklak_probe_timeout_seconds": 0}),
            ("loklak_run_as_user", {"loklak_run_as_user": 0}),
            ("loklak_service_type", {"loklak_service_type": "ExternalName"}),
        ],
    },
    "storage_class": {
        "base": {"storage_class_name": "sd-bad-input"},
        "cases": [
            ("storage_class_name", {"storage_class_name": "Bad_Name"}),
            ("storage_class_name", {"storage_class_name": "x" * 64}),
            ("storage_class_mode", {"storage_class_mode": "nfs"}),
            ("storage_class_reclaim_policy", {"storage_class_reclaim_policy": "Recycle"}),
            ("storage_class_reclaim_policy", dict(LOCAL, storage_class_reclaim_policy="Delete", **volumes())),
            ("storage_class_volume_binding_mode", dict(LOCAL, storage_class_volume_binding_mode="Immediate",
                                                       **volumes())),
            ("storage_class_volume_binding_mode", {"storage_class_volume_binding_mode": "Later"}),
            ("storage_class_local_volumes", dict(LOCAL, storage_class_local_volumes=[])),
            ("storage_class_local_volumes[0].size", dict(LOCAL, **volumes(size="1 GB"))),
            ("storage_class_local_volumes[0].size", dict(LOCAL, **volumes(size="0"))),
            ("storage_class_local_volumes[0].path", dict(LOCAL, **volumes(path="mnt/disks/a"))),
            ("storage_class_local_volumes[].node", dict(LOCAL, **volumes(node=""))),
            ("storage_class_local_volumes[0].node", dict(LOCAL, **volumes(node="no-such-node"))),
            ("storage_class_local_volumes", dict(LOCAL, storage_class_local_volumes=[VOLUME, VOLUME])),
            ("storage_class_custom_provisioner", {"storage_class_mode": "custom"}),
            ("storage_class_custom_parameters", {"storage_class_mode": "custom",
                                                 "storage_class_custom_provisioner": "ebs.csi.aws.com",
                                                 "storage_class_custom_parameters": {"encrypted": True}}),
            ("storage_class_gke_type", {"storage_class_mode": "gke", "storage_class_gke_type": "pd-fast"}),
            ("storage_class_gke_fstype", {"storage_class_mode": "gke", "storage_class_gke_fstype": "zfs"}),
            ("storage_class_default", {"storage_class_default": "perhaps"}),
        ],
    },
}


@pytest.mark.parametrize("role", sorted(TABLES))
def test_every_bad_value_is_refused_before_any_write_naming_its_variable(role, tmp_path):
    table = TABLES[role]
    assert len(table["cases"]) >= 15
    playbook = tmp_path / "bad-input.yml"
    playbook.write_text(json.dumps(every_case_playbook(role, table["base"], table["cases"])))
    before = cluster_snapshot()
    run = run_playbook_json(playbook, timeout=600)
    after = cluster_snapshot()
    assert run.rc == 0, run  # every failure was rescued
    results = run.result("Report every case")["bad_input_results"]
    outcomes = [(variable, variables, results[str(index)]) for index, (variable, variables) in enumerate(table["cases"])]
    accepted = [(variable, variables) for variable, variables, outcome in outcomes if outcome == "PASSED"]
    unnamed = [(variable, outcome["msg"]) for variable, _values, outcome in outcomes
               if outcome != "PASSED" and variable not in outcome["msg"]]
    written = differences(before, after)
    record("bad_inputs", role, {"tried": len(outcomes), "refused": len(outcomes) - len(accepted),
                                "naming_the_variable": len(outcomes) - len(accepted) - len(unnamed),
                                "cluster_unchanged": not written})
    assert accepted == []
    assert unnamed == []
    assert written == []
