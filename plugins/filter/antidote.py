# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the Antidote topology rules of module_utils/antidote/topology.py to roles."""

from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.topology import (
    topology,
    validate_datacenters,
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


class FilterModule(object):
    def filters(self):
        return {
            "antidote_topology_problems": antidote_topology_problems,
            "antidote_topology": antidote_topology,
        }
