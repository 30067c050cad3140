# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the Antidote topology rules of module_utils/antidote/topology.py to roles."""

from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.module_utils.antidote import facts
from ansible_collections.stateful.datastores.plugins.module_utils.antidote.topology import (
    admin_targets,
    scale_downs,
    topology,
    validate_datacenters,
    wait_objects,
)


def antidote_topology_problems(datacenters, replicas=1, ring_size=16, name_prefix="antidote"):
    """Every problem with the DC list, each naming the variable and what is allowed; [] when valid."""
    return validate_datacenters(datacenters, replicas, ring_size, name_prefix)


def antidote_topology(datacenters, replicas=1, ring_size=16, name_prefix="antidote", node_name_prefix="antidote"):
    """The DCs with derived names: statefulset, service, client_service, pod, pods, nodes, replicas, ring_size."""
    try:
        return topology(datacenters, replicas, ring_size, name_prefix, node_name_prefix)
    except ValueError as error:
        raise AnsibleFilterError("invalid antidote_datacenters: {0}".format(error)) from error


def antidote_wait_objects(dcs):
    """What the apply waits for: each DC's StatefulSet and client Service."""
    return wait_objects(dcs)


def antidote_admin_targets(dcs, namespace, endpoint_port=None, counts=True):
    """The dcs option of antidote_dc (counts) or antidote_connect; endpoint_port for antidote_access: direct."""
    return admin_targets(dcs, namespace, endpoint_port, counts)


def antidote_scale_downs(dcs, current_replicas):
    """'<dc>: <now> -> <wanted>' for each DC that would lose nodes."""
    return scale_downs(dcs, current_replicas)


def antidote_dcs(dcs, namespace, services, created, connected, client_service_type, ports):
    """The antidote_dcs fact."""
    return facts.antidote_dcs(dcs, namespace, services, created, connected, client_service_type, ports)


class FilterModule(object):
    def filters(self):
        return {
            "antidote_topology_problems": antidote_topology_problems,
            "antidote_topology": antidote_topology,
            "antidote_wait_objects": antidote_wait_objects,
            "antidote_admin_targets": antidote_admin_targets,
            "antidote_scale_downs": antidote_scale_downs,
            "antidote_dcs": antidote_dcs,
        }
