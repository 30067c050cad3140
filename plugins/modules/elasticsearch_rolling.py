#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: elasticsearch_rolling
short_description: Restart, upgrade or scale down an Elasticsearch StatefulSet safely, one node at a time
version_added: 0.1.0
description:
  - "C(restart) and C(update) restart pods one at a time, the highest ordinal first and the elected master last,
    each only while the cluster has O(wait_for_status) with every node. Per pod - prepare the node (the node
    shutdown API with type C(restart) on Elasticsearch 7.15.2 and later, else
    C(cluster.routing.allocation.enable=primaries)) and flush; delete the pod; wait (watching) until its
    replacement is Ready; wait until the node is back in the cluster; undo the preparation; wait for
    O(wait_for_status)."
  - C(update) restarts only the pods whose C(controller-revision-hash) differs from the StatefulSet's update
    revision, after a change of image or configuration. It is meant for StatefulSets with
    C(updateStrategy OnDelete), where Kubernetes itself restarts nothing (the C(stateful.datastores.elasticsearch)
    role sets that). C(restart) restarts every pod, or those in O(pods).
  - "C(scale_down) to O(replicas) - excludes the nodes of the pods to remove from the voting configuration, moves
    their shards away (C(cluster.routing.allocation.exclude._name)) and waits until none is left on them, scales
    the StatefulSet, waits until the pods are gone and the nodes have left, then clears the voting exclusions and
    the allocation exclude and waits for O(wait_for_status). PersistentVolumeClaims are kept."
  - All admin calls go to a node that stays up, through the API server's port-forward. C(steps) returns every
    step in order. A C(cluster.routing.allocation.enable=primaries) or a restart-type node shutdown record found at
    the start, with every node present, is taken as left by an interrupted run and undone first.
  - Node names must be the pod names (the role sets C(node.name) from the pod name).
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
  - stateful.datastores.elasticsearch_connection
attributes:
  check_mode:
    support: full
    description: Reports the pods it would restart or remove (RV(planned), RV(removed)) and does nothing.
  diff_mode:
    support: none
    description: Nothing to compare; the result says what was found or done.
options:
  namespace:
    description: Namespace of the StatefulSet and of the Secrets named.
    type: str
    required: true
  name:
    description: Name of the Elasticsearch StatefulSet.
    type: str
    required: true
  action:
    description: C(restart), C(update) or C(scale_down).
    type: str
    required: true
    choices: [restart, update, scale_down]
  pods:
    description: With C(restart), only these pods (still one at a time, elected master last).
    type: list
    elements: str
  replicas:
    description: With C(scale_down), the number of pods to keep, at least 1. Nothing happens when it is not smaller.
    type: int
  wait_for_status:
    description: The status the cluster must have before each pod and after it.
    type: str
    choices: [green, yellow]
    default: green
  method:
    description:
      - How a node is prepared for its restart. C(auto) - the node shutdown API where the nodes have it
        (Elasticsearch >= 7.15.2), else allocation C(primaries). C(node_shutdown) fails where it is missing.
    type: str
    choices: [auto, node_shutdown, allocation]
    default: auto
  reason:
    description: The reason recorded with a node shutdown.
    type: str
    default: stateful.datastores rolling restart
notes:
  - Needs, besides what M(stateful.datastores.elasticsearch_health) needs, C(delete) on C(pods) and C(patch) on
    C(statefulsets/scale) in the namespace.
  - Unlike M(stateful.datastores.elasticsearch_health) it has no C(endpoints) option - pods are restarted through Kubernetes.
seealso:
  - module: stateful.datastores.elasticsearch_health
"""

EXAMPLES = r"""
- name: Roll the pods that run an old revision (after a version or configuration change)
  stateful.datastores.elasticsearch_rolling:
    namespace: elasticsearch
    name: elasticsearch
    action: update
    es_credentials_secret: elasticsearch-credentials
    es_ca_secret: elasticsearch-certs
    timeout: 1800

- name: Restart every node, one at a time
  stateful.datastores.elasticsearch_rolling:
    namespace: elasticsearch
    name: elasticsearch
    action: restart
    es_credentials_secret: elasticsearch-credentials
    es_ca_secret: elasticsearch-certs

- name: Go from 5 nodes to 3, voting exclusions first
  stateful.datastores.elasticsearch_rolling:
    namespace: elasticsearch
    name: elasticsearch
    action: scale_down
    replicas: 3
    es_credentials_secret: elasticsearch-credentials
    es_ca_secret: elasticsearch-certs
"""

RETURN = r"""
action:
  description: The action run.
  type: str
  returned: always
method:
  description: C(node_shutdown) or C(allocation), for restarts; null otherwise.
  type: str
  returned: always
planned:
  description: The pods to restart, in the order used.
  type: list
  elements: str
  returned: for restart and update
restarted:
  description: The pods restarted.
  type: list
  elements: str
  returned: for restart and update
elected_master:
  description: The node that was the elected master at the start (restarted last).
  type: str
  returned: for restart and update, when there was something to restart
removed:
  description: The pods removed by C(scale_down).
  type: list
  elements: str
  returned: for scale_down
kept_pvcs:
  description: The PersistentVolumeClaims of the removed pods, which are kept.
  type: list
  elements: str
  returned: for scale_down
steps:
  description: Every step done, in order - action, pod, seconds since the start (at), and details.
  type: list
  elements: dict
  returned: always
  sample:
    - {action: allocation_primaries, pod: es-2, at: 0.8, previous: null}
    - {action: flush, pod: es-2, at: 0.9}
    - {action: delete_pod, pod: es-2, at: 1.0}
statefulset:
  description: Name, namespace, replicas and update revision of the StatefulSet.
  type: dict
  returned: always
health:
  description: What the cluster reported when a wait failed.
  type: dict
  returned: on failure
elapsed:
  description: Seconds the module took.
  type: float
  returned: always
"""

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.rolling import (
    ROLLING_SPEC,
    run,
    validate,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def main():
    spec = auth_arg_spec()
    spec.update(ROLLING_SPEC)
    run_module(spec, lambda task: run(task.params, task.check_mode, kube_factory=task.kube), validate=validate,
               mutually_exclusive=[("es_password", "es_credentials_secret"), ("es_ca_cert", "es_ca_secret")],
               supports_check_mode=True)


if __name__ == "__main__":
    main()
