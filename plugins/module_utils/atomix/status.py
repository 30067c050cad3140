# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atomix_status from the objects read back, and what the controller failed to produce."""
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.stateful.datastores.plugins.module_utils.atomix.layout import CLOUD


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _status(obj):
    return obj.get("status") or {}


def _named(objects, names):
    return sorted((o for o in objects or [] if o["metadata"]["name"] in names), key=lambda o: o["metadata"]["name"])


def atomix_status(objects, generation, name, namespace, clusters, layout, crds, controllers):
    """The atomix_status fact: the database, its partitions, StatefulSets and Services among the `objects` read."""
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    cloud = generation == CLOUD
    database_kind, partition_kind = ("Database", "Partition") if cloud else ("RaftStore", "RaftPartition")
    database = next((o for o in by_kind.get(database_kind) or [] if o["metadata"]["name"] == name), {})
    db_status = database.get("status") or {}
    if cloud:
        ready = _int(db_status.get("readyClusters", 0)) == clusters
    else:
        ready = db_status.get("state", "") == "Ready"
    partitions = []
    for part in _named(by_kind.get(partition_kind), layout["partition_names"]):
        state = _status(part).get("state")
        part_ready = _status(part).get("ready", False) if cloud else state == "Ready"
        partitions.append({"name": part["metadata"]["name"], "ready": boolean(part_ready, strict=False),
                           "state": state})
    return {
        "generation": generation,
        "namespace": namespace,
        "crds": list(crds),
        "controllers": list(controllers),
        "database": {"kind": database_kind, "name": name, "status": db_status, "ready": ready},
        "partitions": partitions,
        "statefulsets": [{"name": s["metadata"]["name"], "replicas": _int(s["spec"].get("replicas")),
                          "ready_replicas": _int(_status(s).get("readyReplicas", 0))}
                         for s in _named(by_kind.get("StatefulSet"), layout["statefulsets"])],
        "services": [{"name": s["metadata"]["name"], "cluster_ip": s["spec"].get("clusterIP", ""),
                      "ports": [port.get("port") for port in s["spec"].get("ports") or []]}
                     for s in _named(by_kind.get("Service"), layout["services"])],
    }


def missing_products(status, generation, namespace, replicas, layout):
    """'' when the controller made every StatefulSet with `replicas` and every Service with its ports; else why not."""
    ports = [5678] if generation == CLOUD else [5678, 5679]
    bad_sets = [s["name"] for s in status["statefulsets"] if s["replicas"] != int(replicas)]
    bad_services = ["{0} (ports {1})".format(s["name"], ",".join(str(p) for p in s["ports"]))
                    for s in status["services"] if set(ports) - set(s["ports"])]
    if (len(status["statefulsets"]) == len(layout["statefulsets"]) and not bad_sets
            and len(status["services"]) == len(layout["services"]) and not bad_services):
        return ""
    return ("The {0} controller did not produce what the database asks for in namespace {1}: StatefulSets wanted {2} "
            "with {3} replicas, found {4} (wrong replicas: {5}); Services wanted {6} with port(s) {7}, found {8} "
            "(wrong ports: {9}).".format(
                generation, namespace, ",".join(layout["statefulsets"]), replicas,
                ",".join(s["name"] for s in status["statefulsets"]) or "none", ",".join(bad_sets) or "none",
                ",".join(layout["services"]), ",".join(str(p) for p in ports),
                ",".join(s["name"] for s in status["services"]) or "none", ", ".join(bad_services) or "none"))
