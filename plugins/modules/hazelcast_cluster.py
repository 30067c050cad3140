#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: hazelcast_cluster
short_description: Verify that every Hazelcast member sees one healthy cluster of the expected size
version_added: 0.1.0
description:
  - Asks every member of a Hazelcast 5.x cluster for its health over the member REST API
    (C(/hazelcast/health), C(/hazelcast/health/ready) and C(/hazelcast/rest/cluster)), never just one
    member through a Service.
  - Healthy means that each member is ready and C(ACTIVE), the cluster is C(ACTIVE) and safe (backups in
    sync), no partition migration is pending, and every member sees the same members, as many as
    expected. Members are told apart by their UUID, so the same member reached twice is noticed.
  - Finds the members as the pods of a StatefulSet or Deployment (O(name)), or by label selector, waits
    until exactly the expected number of them run, and reaches each one through the Kubernetes API
    server's port-forward, which works from a laptop, CI or AWX without a route to pod IPs.
    Alternatively asks addresses given in O(endpoints) directly (AWX inside the cluster, a LoadBalancer).
  - Asks again every O(sleep) seconds until the cluster is healthy or O(timeout) seconds have passed,
    one deadline for the pod wait and the cluster check together.
  - On failure the message says what each member sees (its state, the cluster size and the members it
    knows) and names a split into separate clusters as such, listing which members form each.
  - Never changes anything. In check mode it asks every member once and reports what it sees, without
    waiting and without failing on an unhealthy cluster.
  - The REST API must be enabled on the members with the C(HEALTH_CHECK) endpoint group, and
    C(CLUSTER_READ) for member lists (the C(stateful.datastores.hazelcast) role enables both).
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Asks every member once and reports, without waiting or failing.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
options:
  namespace:
    description: Namespace of the workload or pods. Required with O(name) or O(label_selectors).
    type: str
  name:
    description:
      - Name of the StatefulSet or Deployment (see O(kind)) whose pods are the members.
      - The members expected default to its C(spec.replicas).
    type: str
  kind:
    description: Kind of the workload named by O(name).
    type: str
    choices: [StatefulSet, Deployment]
    default: StatefulSet
  label_selectors:
    description:
      - Pick the member pods by label instead, such as C(app.kubernetes.io/instance=hz); all must match.
      - Needs O(replicas).
    type: list
    elements: str
  endpoints:
    description:
      - Ask these addresses (C(host:port), C(host), C([ipv6]:port); port 5701 by default) directly, one per
        member, instead of pods through port-forward. No Kubernetes API is used then.
      - Give each member's own address; a Service address reaches one member at random.
      - The members expected default to the number of endpoints.
    type: list
    elements: str
  replicas:
    description:
      - How many members the cluster must have. Every member must see exactly this many.
      - Defaults to the workload's C(spec.replicas), or the number of O(endpoints).
    type: int
  port:
    description: Port in the pod where the member answers REST requests (its member port).
    type: int
    default: 5701
  timeout:
    description: Seconds to wait for the pods and a healthy cluster together.
    type: int
    default: 300
  sleep:
    description: Seconds between two rounds of questions to the members.
    type: float
    default: 1.0
  request_timeout:
    description: Seconds to wait for one member's answer to one request.
    type: float
    default: 5.0
notes:
  - Mutually exclusive, and one is required - O(name), O(label_selectors), O(endpoints).
  - With port-forward the user needs C(list) and C(watch) on C(pods), C(get) and C(create) on C(pods/portforward)
    (WebSocket port-forwards are authorized as C(get) up to Kubernetes 1.34, and also need C(create) from 1.35 on)
    in the namespace, and C(get) on the StatefulSet or Deployment.
seealso:
  - module: stateful.datastores.wait_ready
"""

EXAMPLES = r"""
- name: Verify that the StatefulSet's 4 pods form one Hazelcast cluster of 4
  stateful.datastores.hazelcast_cluster:
    namespace: hazelcast
    name: hz
    replicas: 4
    timeout: 300
  register: hz

- name: Show the members
  ansible.builtin.debug:
    msg: "{{ hz.member_addresses }} run Hazelcast {{ hz.version }}"

- name: The pods of a Deployment, by label
  stateful.datastores.hazelcast_cluster:
    namespace: cache
    label_selectors:
      - app.kubernetes.io/name=hazelcast
      - app.kubernetes.io/instance=cache
    replicas: 3

- name: From inside the cluster (AWX), each member's own address
  stateful.datastores.hazelcast_cluster:
    endpoints:
      - hz-0.hz-members.hazelcast.svc:5701
      - hz-1.hz-members.hazelcast.svc:5701
      - hz-2.hz-members.hazelcast.svc:5701
"""

RETURN = r"""
healthy:
  description: Whether the cluster is healthy. Always true unless in check mode (the module fails otherwise).
  type: bool
  returned: always
expected_size:
  description: The number of members expected.
  type: int
  returned: always
cluster_size:
  description: The cluster size every member reports, or null when they disagree.
  type: int
  returned: always
member_addresses:
  description: The members' own addresses, as the members list them.
  type: list
  elements: str
  returned: always
  sample: ["10.244.1.7:5701", "10.244.2.9:5701"]
version:
  description: The Hazelcast version of the members, or null when they run different versions.
  type: str
  returned: always
  sample: 5.7.0
versions:
  description: Every Hazelcast version the members report.
  type: list
  elements: str
  returned: always
pods:
  description: The pods asked, in the order of RV(members).
  type: list
  elements: str
  returned: always
members:
  description: What each member (each pod or endpoint) reports.
  type: list
  elements: dict
  returned: always
  contains:
    endpoint:
      description: How the member was named, C(<pod>:<port>) or the endpoint given.
      type: str
    pod:
      description: The pod, with port-forward.
      type: str
    address:
      description: The member's own address.
      type: str
    uuid:
      description: The member's UUID.
      type: str
    version:
      description: The member's Hazelcast version.
      type: str
    ready:
      description: Whether C(/hazelcast/health/ready) answered 200.
      type: bool
    node_state:
      description: nodeState, such as C(ACTIVE).
      type: str
    cluster_state:
      description: clusterState, such as C(ACTIVE).
      type: str
    cluster_safe:
      description: clusterSafe.
      type: bool
    migration_queue_size:
      description: migrationQueueSize.
      type: int
    cluster_size:
      description: The cluster size this member sees.
      type: int
    members:
      description: The members this member knows (address, uuid, version, local, lite).
      type: list
      elements: dict
    problems:
      description: What keeps this member from counting as healthy.
      type: list
      elements: str
clusters:
  description: The members grouped by the cluster they form; more than one entry is a split.
  type: list
  elements: dict
  returned: always
  contains:
    endpoints:
      description: The endpoints (pods) that see this cluster.
      type: list
      elements: str
    members:
      description: The member addresses of this cluster.
      type: list
      elements: str
problems:
  description: Everything found wrong, cluster-wide problems (a split) first.
  type: list
  elements: str
  returned: always
polls:
  description: How many rounds of questions were asked.
  type: int
  returned: always
elapsed:
  description: Seconds the module waited.
  type: float
  returned: always
source:
  description: C(port-forward) or C(endpoints).
  type: str
  returned: always
workload:
  description: The workload or selector whose pods were asked, with its C(spec.replicas); null with O(endpoints).
  type: dict
  returned: always
"""

from ansible_collections.stateful.datastores.plugins.module_utils.hazelcast.k8s import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    run,
    validate,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import check, run_module


def main():
    spec = auth_arg_spec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, check(run), validate=validate, mutually_exclusive=MUTUALLY_EXCLUSIVE,
               required_one_of=REQUIRED_ONE_OF, supports_check_mode=True)


if __name__ == "__main__":
    main()
