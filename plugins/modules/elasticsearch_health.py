#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: elasticsearch_health
short_description: Verify that every Elasticsearch node joined one healthy cluster of the expected size
version_added: 0.1.0
description:
  - Asks every pod of an Elasticsearch StatefulSet, each through the Kubernetes API server's port-forward
    (which works from a laptop, CI or AWX without a route to pod IPs), or every address in O(endpoints) directly.
  - "Healthy means, within one deadline: every node answers, all of them report the same C(cluster_uuid)
    (a node that bootstrapped a cluster of its own, or joined another one, is named at once, without waiting),
    the cluster has the expected number of nodes, and its health reaches O(wait_for_status)."
  - The waiting for the node count and the status is done by the server itself (C(wait_for_nodes),
    C(wait_for_status) with a timeout), so the module returns as soon as the cluster is there.
  - On failure the message says which node is where, and for a status short of the wanted one, why the
    first unassigned shard is unassigned (the allocation explain API).
  - Never changes anything. In check mode it asks every node once, reports, and does not fail.
  - The password comes from a Secret by reference (O(es_credentials_secret)) or from O(es_password); it never
    appears in the result or a message.
  - "TLS through port-forward: the connection is to 127.0.0.1, but the certificate is verified against the CA
    (O(es_ca_secret) or O(es_ca_cert)) and its names against the pod's DNS name
    C(<pod>.<serviceName>.<namespace>.svc), sent as SNI. Certificates made by the
    M(stateful.datastores.elasticsearch_secrets) module cover those names."
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
  - stateful.datastores.elasticsearch_connection
attributes:
  check_mode:
    support: full
    description: Asks every node once and reports, without waiting or failing.
  diff_mode:
    support: none
    description: Nothing to compare; the result says what was found or done.
options:
  namespace:
    description: Namespace of the StatefulSet and of the Secrets named. Required with O(name), O(es_credentials_secret) or O(es_ca_secret).
    type: str
  name:
    description: Name of the Elasticsearch StatefulSet. Its pods are asked one by one, each through port-forward.
    type: str
  endpoints:
    description:
      - Ask these URLs directly instead (C(https://host:port)), one per node. No port-forward is used.
      - Give each node's own address; a Service address reaches one node at random.
    type: list
    elements: str
  expected_nodes:
    description:
      - How many nodes the cluster must have.
      - Defaults to the StatefulSet's C(spec.replicas), or the number of O(endpoints).
    type: int
  wait_for_status:
    description: The health status to wait for; C(none) checks membership and node count only.
    type: str
    choices: [green, yellow, red, none]
    default: green
notes:
  - Exactly one of O(name) and O(endpoints) is required.
  - With port-forward the user needs C(get) on the StatefulSet, C(get), C(list) and C(watch) on C(pods), C(get) and C(create)
    on C(pods/portforward), and C(get) on the Secrets named.
seealso:
  - module: stateful.datastores.wait_ready
  - module: stateful.datastores.elasticsearch_rolling
"""

EXAMPLES = r"""
- name: Every pod of StatefulSet elasticsearch joined one green cluster of 3 nodes
  stateful.datastores.elasticsearch_health:
    namespace: elasticsearch
    name: elasticsearch
    es_credentials_secret: elasticsearch-credentials
    es_ca_secret: elasticsearch-certs
    timeout: 300
  register: es

- name: Show what the cluster reports
  ansible.builtin.debug:
    msg: "{{ es.cluster_name }} ({{ es.cluster_uuid }}) is {{ es.status }} with {{ es.number_of_nodes }} nodes"

- name: From inside the cluster (AWX), each node's own address, yellow is enough
  stateful.datastores.elasticsearch_health:
    endpoints:
      - https://elasticsearch-0.elasticsearch-headless.elasticsearch.svc:9200
      - https://elasticsearch-1.elasticsearch-headless.elasticsearch.svc:9200
    es_password: "{{ vault_elastic_password }}"
    es_ca_cert: /etc/pki/elasticsearch-ca.crt
    wait_for_status: yellow
"""

RETURN = r"""
healthy:
  description: Whether the cluster is healthy. Always true unless in check mode (the module fails otherwise).
  type: bool
  returned: always
cluster_name:
  description: The cluster's name.
  type: str
  returned: when a node answered
cluster_uuid:
  description: The cluster's UUID, when every node reports the same one.
  type: str
  returned: when a node answered
status:
  description: The cluster health status, C(green), C(yellow) or C(red).
  type: str
  returned: when a node answered
number_of_nodes:
  description: Nodes in the cluster.
  type: int
  returned: when a node answered
number_of_data_nodes:
  description: Data nodes in the cluster.
  type: int
  returned: when a node answered
expected_nodes:
  description: The node count waited for.
  type: int
  returned: always
wait_for_status:
  description: The status waited for (null for C(none)).
  type: str
  returned: when a node was asked
active_shards_percent:
  description: Percentage of active shards.
  type: float
  returned: when a node answered
unassigned_shards:
  description: Unassigned shards.
  type: int
  returned: when a node answered
initializing_shards:
  description: Initializing shards.
  type: int
  returned: when a node answered
relocating_shards:
  description: Relocating shards.
  type: int
  returned: when a node answered
version:
  description: The version the nodes report.
  type: str
  returned: when a node answered
  sample: 8.19.21
distribution:
  description: C(elasticsearch), or C(opensearch) for the wire-compatible fork.
  type: str
  returned: when a node answered
nodes:
  description: Node names in the cluster, when the module failed (for the message).
  type: list
  elements: str
  returned: on failure
endpoints:
  description: What each node (each pod or endpoint) reports.
  type: list
  elements: dict
  returned: when a node was asked
  contains:
    endpoint:
      description: The node's URL; through port-forward the pod's DNS name.
      type: str
    pod:
      description: The pod, with port-forward.
      type: str
    node_name:
      description: The node's name.
      type: str
    cluster_name:
      description: The cluster name this node reports.
      type: str
    cluster_uuid:
      description: The cluster UUID this node reports (C(_na_) before it joined a cluster).
      type: str
    version:
      description: The node's version.
      type: str
    status:
      description: The health status this node reported.
      type: str
    number_of_nodes:
      description: The node count this node reported.
      type: int
    error:
      description: Why this node could not be asked, or null.
      type: str
allocation_explanation:
  description: The allocation explain answer for the first unassigned shard, when the status fell short.
  type: dict
  returned: on failure
problems:
  description: Everything found wrong; empty when healthy.
  type: list
  elements: str
  returned: always
pods:
  description: The pods asked, with port-forward.
  type: list
  elements: str
  returned: always
statefulset:
  description: The StatefulSet whose pods were asked (name, namespace, replicas, service); null with O(endpoints).
  type: dict
  returned: always
source:
  description: C(port-forward) or C(endpoints).
  type: str
  returned: always
elapsed:
  description: Seconds the module waited.
  type: float
  returned: always
"""

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import (
    HEALTH_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    run_health,
    validate_health,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import check, run_module


def main():
    spec = auth_arg_spec()
    spec.update(HEALTH_SPEC)
    run_module(spec, check(run_health), validate=validate_health, mutually_exclusive=MUTUALLY_EXCLUSIVE,
               required_one_of=REQUIRED_ONE_OF, supports_check_mode=True)


if __name__ == "__main__":
    main()
