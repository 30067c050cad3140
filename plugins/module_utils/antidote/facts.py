# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The antidote_dcs fact: per DC, where to reach it and what the admin steps found."""


def antidote_dcs(dcs, namespace, services, created, connected, client_service_type, ports):
    """{dc name: entry}; dc_id, members, dc_count and replicated_to are None when their step did not run.

    services: the Service objects applied; created, connected: the results of antidote_dc and antidote_connect;
    ports: the role's port numbers (pb, metrics).
    """
    created, connected = created or {}, connected or {}
    services_by_name = dict((service["metadata"]["name"], service) for service in services or [])
    created_by_name = dict((dc["name"], dc) for dc in created.get("dcs") or [])
    error = next((result.get("msg") for result in (created, connected) if result.get("failed")), None)
    seen_after = (connected.get("replication") or {}).get("seen_after") or {}
    found = {}
    for dc in dcs:
        service = services_by_name.get(dc["client_service"], {})
        spec = service.get("spec") or {}
        service_ports = spec.get("ports", [{}])
        domain = ".{0}.{1}.svc".format(dc["service"], namespace)
        mine = created_by_name.get(dc["name"], {})
        found[dc["name"]] = {
            "name": dc["name"],
            "namespace": namespace,
            "statefulset": dc["statefulset"],
            "headless_service": dc["service"],
            "replicas": dc["replicas"],
            "ring_size": dc["ring_size"],
            "pods": dc["pods"],
            "nodes": dc["nodes"],
            "client_service": {
                "name": dc["client_service"],
                "type": spec.get("type", client_service_type),
                "cluster_ip": spec.get("clusterIP"),
                "node_port": (service_ports[0] if service_ports else {}).get("nodePort"),
                "load_balancer": ((service["status"] or {}).get("loadBalancer") or {}).get("ingress", [])
                if "status" in service else []},
            "endpoints": {
                "client": "{0}.{1}.svc:{2}".format(dc["client_service"], namespace, ports["pb"]),
                "nodes": ["{0}{1}:{2}".format(pod, domain, ports["pb"]) for pod in dc["pods"]],
                "metrics": ["{0}{1}:{2}".format(pod, domain, ports["metrics"]) for pod in dc["pods"]]},
            "error": error,
            "dc_id": mine.get("dc_id"),
            "members": mine.get("members"),
            "dc_count": (connected.get("dc_count") or {}).get(dc["name"]),
            "replicated_to": seen_after.get(dc["name"]),
        }
    return found
