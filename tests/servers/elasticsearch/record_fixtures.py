# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-record tests/unit/fixtures/elasticsearch/*.json from a real OpenSearch cluster.

    .venv/bin/python -m tests.servers.elasticsearch.record_fixtures

Each file maps an endpoint label to the answers its node gave, keyed "METHOD /path" (query left
out); the unit tests serve them back through a fake transport.
"""

import json
import shutil
import sys
import time
from pathlib import Path

from tests.servers.elasticsearch import OPENSEARCH_VERSION, Cluster, new_workdir, start_clusters

OUT = Path(__file__).resolve().parents[2] / "unit" / "fixtures" / "elasticsearch"
HEALTH = "/_cluster/health"


def answer(cluster, node, method, path, body=None, auth=True):
    status, parsed = cluster.request(node, method, path, body=body, auth=auth)
    return {"status": status, "body": parsed}


def save(name, description, endpoints):
    doc = {"recorded_from": "OpenSearch %s, nodes on 127.0.0.1" % OPENSEARCH_VERSION,
           "description": description, "endpoints": endpoints}
    (OUT / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print("wrote", OUT / name)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    main_cluster = Cluster(new_workdir(), size=3)
    foreign = Cluster(new_workdir(), size=1, node_prefix="stale", password=main_cluster.password)
    try:
        main_cluster.launch()
        foreign.pki = main_cluster.pki  # one CA, so one client reaches both
        start_clusters([foreign])
        main_cluster.wait_formed(time.monotonic() + 240)
        c, nodes = main_cluster, main_cluster.nodes
        save("green_three_nodes.json", "3 nodes, one cluster, green", {
            "node%d" % i: {
                "GET /": answer(c, n, "GET", "/"),
                "GET " + HEALTH: answer(c, n, "GET", HEALTH + "?wait_for_status=green&wait_for_nodes=3&timeout=5s"),
                "GET /_cat/nodes": answer(c, n, "GET", "/_cat/nodes?format=json&h=name,id,ip,node.role,master"),
                "GET /_cluster/allocation/explain": answer(c, n, "GET", "/_cluster/allocation/explain"),
            } for i, n in enumerate(nodes)})
        save("foreign_node.json", "node0-2 one cluster; stale0 bootstrapped on its own with the same cluster.name", {
            **{"node%d" % i: {"GET /": answer(c, n, "GET", "/")} for i, n in enumerate(nodes)},
            "stale0": {"GET /": answer(foreign, foreign.nodes[0], "GET", "/"),
                       "GET " + HEALTH: answer(foreign, foreign.nodes[0], "GET", HEALTH + "?wait_for_nodes=3&timeout=1s")},
        })
        save("wrong_node_count.json", "3 nodes, the caller expects 4", {
            "node0": {"GET /": answer(c, nodes[0], "GET", "/"),
                      "GET " + HEALTH: answer(c, nodes[0], "GET", HEALTH + "?wait_for_status=green&wait_for_nodes=4&timeout=1s"),
                      "GET /_cat/nodes": answer(c, nodes[0], "GET", "/_cat/nodes?format=json&h=name")}})
        c.request(nodes[0], "PUT", "/logs", {"settings": {"number_of_shards": 1, "number_of_replicas": 3}})
        c.request(nodes[0], "GET", HEALTH + "?wait_for_status=yellow&timeout=30s")
        save("yellow_unassigned_replica.json", "index logs: 1 primary + 3 replicas on 3 nodes", {
            "node0": {"GET /": answer(c, nodes[0], "GET", "/"),
                      "GET " + HEALTH: answer(c, nodes[0], "GET", HEALTH + "?wait_for_status=green&wait_for_nodes=3&timeout=1s"),
                      "GET /_cat/nodes": answer(c, nodes[0], "GET", "/_cat/nodes?format=json&h=name"),
                      "GET /_cluster/allocation/explain": answer(c, nodes[0], "GET", "/_cluster/allocation/explain")}})
        c.request(nodes[0], "DELETE", "/logs")
        c.request(nodes[0], "POST", "/_cluster/voting_config_exclusions?node_names=" + nodes[2].name)
        save("day2.json", "voting exclusion of node2, allocation primaries, flush, auth failures", {
            "node0": {
                "GET /_cluster/state/metadata": answer(c, nodes[0], "GET", "/_cluster/state/metadata?filter_path="
                                                       "metadata.cluster_coordination.voting_config_exclusions"),
                "PUT /_cluster/settings": answer(c, nodes[0], "PUT", "/_cluster/settings?flat_settings=true", {
                    "persistent": {"cluster.routing.allocation.enable": "primaries"}}),
                "GET /_cluster/settings": answer(c, nodes[0], "GET", "/_cluster/settings?flat_settings=true"),
                "POST /_flush": answer(c, nodes[0], "POST", "/_flush"),
                "GET /_nodes": answer(c, nodes[0], "GET", "/_nodes?filter_path=nodes.*.name"),
                "GET /_nodes/_local": answer(c, nodes[0], "GET", "/_nodes/_local?filter_path=nodes.*.name"),
            },
            "anonymous": {"GET /": answer(c, nodes[0], "GET", "/", auth=False)},
        })
    finally:
        main_cluster.stop()
        foreign.stop()
        for cluster in (main_cluster, foreign):
            shutil.rmtree(cluster.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
