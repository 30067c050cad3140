#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: antidote_dc
short_description: Form an AntidoteDB data centre from its nodes (createDC), only when membership must change
version_added: 0.1.0
description:
  - Sends Antidote's C(ApbCreateDC) to the DC's first node with the Erlang node names of every member,
    so that the nodes join one riak_core ring. Antidote blocks until the ring has rebalanced, which
    takes tens of seconds; the module allows for it with O(call_timeout).
  - Reaches the node through the Kubernetes API server's port-forward (no route to pod IPs is needed),
    or at a direct address given in O(endpoint).
  - Node names default to C(antidote@<statefulset>-<i>.<service>) for each replica of O(statefulset), the
    names that the role's C(NODE_NAME) setting gives each pod; the replica count and service are read from
    the StatefulSet unless given.
  - Idempotent. The DC's connection descriptor lists one entry per ring member and names the DC's founder
    node, so the module reads it first and sends createDC only when the ring has fewer members than
    requested (a new DC, or a scale-up). Then C(changed) is true and the descriptor is read again to check
    that every node joined. Scaling down is not something createDC can do; the module warns when the ring
    has more members than requested.
  - Antidote answers C(success=false, errorcode=aborted) for every failure, including nodes that are still
    starting (the protocol port opens before the ring is ready). The module retries aborted, refused or
    reset connections and timeouts with exponential backoff (0.2 s doubling to 5 s) until O(timeout), and
    then fails naming the DC and the last error. Other errors fail at once.
  - With several DCs in O(dcs), every DC is handled in parallel under the same deadline.
  - Through the Kubernetes API it holds the Lease C(stateful-datastores-antidote-admin) in O(namespace) while it
    acts, as M(stateful.datastores.antidote_connect) does, since a createDC that ends after another run connected the
    DCs would undo the connection. A second run waits for the Lease (within O(timeout)), then finds the ring
    full. Needs C(get), C(create), C(update) and C(delete) on C(coordination.k8s.io) C(leases) there (not in
    check mode, and not with direct endpoints only); credentials without them run unprotected, with a warning.
  - Needs Antidote 0.2.1 or later (message codes 129-134); 0.2.2 or later for a repeatable createDC.
    An Antidote 0.2.0 server is detected and refused with a message naming the versions that work.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads the descriptor and reports whether createDC would be sent; sends nothing.
  diff_mode:
    support: none
    description: Nothing to compare; the results say what changed.
options:
  name:
    description: Name of the DC, used in messages and results. Defaults to O(statefulset), O(pod) or O(endpoint).
    type: str
  namespace:
    description: Namespace of the StatefulSet and its pods; the default for entries of O(dcs).
    type: str
  statefulset:
    description:
      - The DC's StatefulSet. Its pod C(<statefulset>-0) receives createDC, and node names are derived from
        its replicas and service.
    type: str
  service:
    description: The headless Service in the node names. Defaults to the StatefulSet's C(spec.serviceName).
    type: str
  replicas:
    description: Number of nodes in the DC. Defaults to the StatefulSet's C(spec.replicas).
    type: int
  pod:
    description: The pod that receives createDC (the DC's first node). Defaults to C(<statefulset>-0).
    type: str
  nodes:
    description:
      - The Erlang node names of every member, such as C(antidote@antidote-dc1-1.antidote-dc1), including the
        receiving node or not. Overrides the names derived from O(statefulset).
    type: list
    elements: str
  endpoint:
    description:
      - A direct C(host:port) of the DC's first node instead of port-forward, for example when Ansible runs
        inside the cluster (C(antidote-dc1-0.antidote-dc1.db.svc:8087)).
    type: str
  dcs:
    description:
      - Several DCs handled in parallel, each with the options above (V(name) is required in each entry).
      - Mutually exclusive with the single-DC options except O(namespace).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the DC.
        type: str
        required: true
      namespace:
        description: Namespace; defaults to O(namespace).
        type: str
      statefulset:
        description: The DC's StatefulSet.
        type: str
      service:
        description: The headless Service in the node names.
        type: str
      replicas:
        description: Number of nodes.
        type: int
      pod:
        description: The pod that receives createDC.
        type: str
      nodes:
        description: The Erlang node names.
        type: list
        elements: str
      endpoint:
        description: A direct C(host:port).
        type: str
  node_name_prefix:
    description: The part of derived node names before C(@) (the image's C(NODE_NAME) prefix).
    type: str
    default: antidote
  pb_port:
    description: Antidote's protocol-buffer port on the pod (C(PB_PORT)), and the default port of O(endpoint).
    type: int
    default: 8087
  timeout:
    description: Seconds for the whole operation on every DC, retries included.
    type: int
    default: 300
  call_timeout:
    description: Seconds one request may take; createDC returns only after the ring has rebalanced.
    type: int
    default: 120
notes:
  - Run it once every pod of the DC is ready (for example after M(stateful.datastores.wait_ready)); it still
    retries while nodes finish starting.
seealso:
  - module: stateful.datastores.antidote_connect
  - module: stateful.datastores.wait_ready
"""

EXAMPLES = r"""
- name: Form DC dc1 from the pods of StatefulSet antidote-dc1
  stateful.datastores.antidote_dc:
    namespace: antidote
    statefulset: antidote-dc1

- name: Form three DCs in parallel, naming the replicas and service to skip reading the StatefulSets
  stateful.datastores.antidote_dc:
    namespace: antidote
    dcs:
      - {name: dc1, statefulset: antidote-dc1, service: antidote-dc1, replicas: 3}
      - {name: dc2, statefulset: antidote-dc2, service: antidote-dc2, replicas: 3}
      - {name: dc3, statefulset: antidote-dc3, service: antidote-dc3, replicas: 3}

- name: From inside the cluster, at a direct address with explicit node names
  stateful.datastores.antidote_dc:
    name: dc1
    endpoint: antidote-dc1-0.antidote-dc1.antidote.svc:8087
    nodes:
      - antidote@antidote-dc1-0.antidote-dc1
      - antidote@antidote-dc1-1.antidote-dc1
"""

RETURN = r"""
dcs:
  description: One entry per DC, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Name of the DC.
      type: str
    reached:
      description: How the DC was reached, the pod through port-forward or the direct address.
      type: str
      sample: pod antidote/antidote-dc1-0 port 8087 through port-forward
    changed:
      description: Whether createDC was sent to this DC (in check mode, would be sent).
      type: bool
    dc_id:
      description: The DC id from the descriptor (riak_core cluster name, as Erlang text).
      type: str
      sample: "{'antidote@antidote-dc1-0.antidote-dc1',{1763,770000,123456}}"
    partitions:
      description: Number of partitions (the ring size).
      type: int
    nodes:
      description: The node names requested.
      type: list
      elements: str
    expected_members:
      description: Members the ring must have (requested nodes plus the founder).
      type: int
    members_before:
      description: Ring members before createDC.
      type: int
    members:
      description: Ring members afterwards.
      type: int
    attempts:
      description: createDC requests sent (0 when nothing had to change).
      type: int
"""

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.k8s import (
    DC_MUTUALLY_EXCLUSIVE,
    create_dcs,
    dc_argument_spec,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def argument_spec():
    spec = auth_arg_spec()
    spec.update(dc_argument_spec())
    return spec


def _needs_kube(params):
    """The API is needed for port-forward, or to read a StatefulSet's replicas and serviceName."""
    def needs(entry):
        names_known = entry.get("nodes") or (entry.get("service") and entry.get("replicas") is not None)
        return not entry.get("endpoint") or not names_known
    return any(needs(entry) for entry in params["dcs"] or [params])


def _create_dcs(task):
    kube = task.kube() if _needs_kube(task.params) else None
    return create_dcs(kube, task.params, check_mode=task.check_mode)


def main():
    run_module(argument_spec(), _create_dcs, mutually_exclusive=DC_MUTUALLY_EXCLUSIVE, supports_check_mode=True)


if __name__ == "__main__":
    main()
