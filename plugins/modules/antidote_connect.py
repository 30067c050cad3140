#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: antidote_connect
short_description: Connect AntidoteDB data centres to each other (connectDCs) and check the result
version_added: 0.1.0
description:
  - Fetches every DC's connection descriptor in parallel, then sends the full set to every DC in parallel
    with C(ApbConnectToDCs). Subscriptions are one-way, so each DC must be told about all the others.
  - Reaches each DC's first node through the Kubernetes API server's port-forward, or at a direct address.
  - Keeps a record of what it connected (per DC the DC id, partitions, members and their addresses) in a
    ConfigMap, O(record_configmap). A DC is C(stale) when it is no longer the DC that was connected, that is another
    DC id (the DC was created anew), another partition or member count (createDC added nodes), or a member
    that publishes none of its recorded addresses (a pod that came back with a new IP). Antidote recomputes
    descriptors from the node's interface addresses on every request, so their bytes alone decide nothing.
  - The module connects again, and reports C(changed), when there is no record, a DC is new or stale, or a
    DC counts fewer DCs than there are (C(antidote_dc_count) on the metrics port). That gauge counts the
    DCs a node knows (1 before any connectToDCs, then the descriptors it stored), is refreshed every 10 s and
    reads 0 for about 10 s after a node starts; a 0 is therefore re-read until it is measured (up to 12 s)
    rather than taken as lagging.
  - After connecting it waits, within the same O(timeout), until C(antidote_dc_count) on every DC equals the
    number of DCs. When it does not, the message names the DCs that count too few and, when the numbers
    show it, the DC the others cannot reach.
  - With O(verify_replication) (default) every DC then writes a marker, a last-writer-wins register in
    bucket C(stateful.datastores) under key C(replication-probe/<dc name>), through the protocol-buffer API,
    and every other DC must read it before the deadline; C(replication) reports how long each took. A DC
    that does not receive fails the task, even when connectToDCs answered success.
  - Refuses DCs whose ring sizes differ (Antidote would silently not connect them) and two entries that
    reach the same DC.
  - Connecting again is safe, because a DC deletes its old subscription to a DC before it subscribes again.
    Connecting at the same time from two runs is not, nor is one run connecting while another runs createDC;
    real AntidoteDB DCs then stop replicating. So this module and M(stateful.datastores.antidote_dc) hold the
    Lease C(stateful-datastores-antidote-admin) in the record's namespace while they act; a second run waits
    for it (within O(timeout)), then finds the first run's record and has nothing to connect. A run that
    dies holding the Lease blocks others for at most O(timeout) plus a minute. Needs C(get), C(create),
    C(update) and C(delete) on C(coordination.k8s.io) C(leases) there (not in check mode, which takes no Lease);
    credentials without them run unprotected, with a warning that names the permission.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads descriptors, the record and the counters; sends nothing and writes no record.
  diff_mode:
    support: none
    description: Nothing to compare; the results say what changed.
options:
  dcs:
    description: The DCs to connect, at least one. Each is reached through port-forward or at O(dcs[].endpoint).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the DC; the key in the record and in results.
        type: str
        required: true
      namespace:
        description: Namespace of the DC's pod. Defaults to O(namespace).
        type: str
      statefulset:
        description: The DC's StatefulSet; its pod C(<statefulset>-0) is reached.
        type: str
      pod:
        description: The pod to reach, instead of O(dcs[].statefulset).
        type: str
      endpoint:
        description: A direct C(host:port) of the DC's protocol-buffer port instead of port-forward.
        type: str
      metrics_endpoint:
        description: With O(dcs[].endpoint), the metrics C(host:port); defaults to that host and O(metrics_port).
        type: str
  namespace:
    description: Default namespace of the DCs' pods, and of the record unless O(record_namespace) is set.
    type: str
  record_configmap:
    description: Name of the ConfigMap that holds the connection record (key C(record.json)).
    type: str
    default: antidote-dc-connections
  record_namespace:
    description: Namespace of the record ConfigMap. Defaults to O(namespace).
    type: str
  record_labels:
    description: Extra labels for the record ConfigMap.
    type: dict
    default: {}
  pb_port:
    description: Antidote's protocol-buffer port on the pods (C(PB_PORT)).
    type: int
    default: 8087
  metrics_port:
    description: Antidote's Prometheus metrics port on the pods (C(METRICS_PORT)).
    type: int
    default: 3001
  verify:
    description:
      - Read C(antidote_dc_count) before deciding, and wait for it to reach the number of DCs after connecting.
      - Without it only the record decides, and nothing checks that the connection took effect.
    type: bool
    default: true
  verify_replication:
    description:
      - Prove that data written in each DC is read in every other DC (one small register per DC, rewritten on
        every run that is not in check mode); see C(replication).
    type: bool
    default: true
  force:
    description: Connect even when the record and the counters say that nothing changed.
    type: bool
    default: false
  timeout:
    description: Seconds for the whole operation on every DC, retries and verification included.
    type: int
    default: 300
  call_timeout:
    description: Seconds one request may take; connectToDCs returns once the remote DCs' clocks advance.
    type: int
    default: 120
notes:
  - Run it after M(stateful.datastores.antidote_dc) succeeded on every DC.
  - Each DC must reach the pod IPs of every other DC on ports 8085 and 8086 (inter-DC log reader and
    publisher); a LoadBalancer on the client port is not enough across clusters.
seealso:
  - module: stateful.datastores.antidote_dc
"""

EXAMPLES = r"""
- name: Connect three DCs, keeping the record in ConfigMap antidote/antidote-dc-connections
  stateful.datastores.antidote_connect:
    namespace: antidote
    dcs:
      - {name: dc1, statefulset: antidote-dc1}
      - {name: dc2, statefulset: antidote-dc2}
      - {name: dc3, statefulset: antidote-dc3}
  register: antidote_connection

- name: From inside the cluster, at direct addresses
  stateful.datastores.antidote_connect:
    namespace: antidote
    dcs:
      - {name: dc1, endpoint: "antidote-dc1-0.antidote-dc1.antidote.svc:8087"}
      - {name: dc2, endpoint: "antidote-dc2-0.antidote-dc2.antidote.svc:8087"}
"""

RETURN = r"""
connected:
  description: Whether connectToDCs was sent to every DC (in check mode, would be sent).
  type: bool
  returned: always
reasons:
  description: Why the DCs were (or would be) connected; all empty when nothing had to be done.
  type: dict
  returned: always
  contains:
    added:
      description: DCs not in the record (all of them on the first run).
      type: list
      elements: str
    removed:
      description: DCs in the record that are no longer listed (they are not disconnected).
      type: list
      elements: str
    stale:
      description: DCs that are not the DC recorded under their name (new DC id, other member count, or a member at new addresses).
      type: list
      elements: str
    lagging:
      description: DCs whose measured C(antidote_dc_count) was below the number of DCs.
      type: list
      elements: str
    unmeasured:
      description: DCs whose C(antidote_dc_count) still read 0 (not measured since the node started).
      type: list
      elements: str
replication:
  description:
    - The replication check; null in check mode, with one DC, or without O(verify_replication).
    - C(seen_after) maps each DC that wrote a marker to the seconds after which every other DC read it.
  type: dict
  returned: always
  sample:
    bucket: stateful.datastores
    keys: {dc1: replication-probe/dc1, dc2: replication-probe/dc2}
    seen_after: {dc1: {dc2: 1.82}, dc2: {dc1: 0.4}}
    max_seconds: 1.82
seconds:
  description:
    - Where the time went, per phase that ran - C(inspect) (descriptors, record, counters), C(connect)
      (connectToDCs on every DC), C(dc_count) (waiting for the gauges), C(replication) (the marker check).
  type: dict
  returned: always
  sample: {inspect: 0.4, connect: 5.2, dc_count: 9.1, replication: 1.9}
forced:
  description: Whether O(force) was set.
  type: bool
  returned: always
record_configmap:
  description: The record ConfigMap, as C(namespace/name).
  type: str
  returned: always
record_written:
  description: Whether the record ConfigMap was written.
  type: bool
  returned: always
record:
  description: The record as stored (C(format), C(dcs) with per DC C(dc_id), C(sha256), C(partitions), C(members), C(publishers)).
  type: dict
  returned: always
dc_count:
  description: C(antidote_dc_count) per DC after the run (before it in check mode). Empty without O(verify).
  type: dict
  returned: always
  sample: {dc1: 3, dc2: 3, dc3: 3}
dcs:
  description: Per DC name, what its descriptor says.
  type: dict
  returned: always
  sample:
    dc1:
      dc_id: "{'antidote@antidote-dc1-0.antidote-dc1',{1763,770000,123456}}"
      partitions: 16
      members: 3
      publishers: [["10.244.1.4:8086", "10.244.1.4:8086"]]
      reached: pod antidote/antidote-dc1-0 port 8087 through port-forward
      dc_count: 3
"""

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.k8s import connect, connect_argument_spec
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def argument_spec():
    spec = auth_arg_spec()
    spec.update(connect_argument_spec())
    return spec


def main():
    run_module(argument_spec(), lambda task: connect(task.kube(), task.params, check_mode=task.check_mode),
               supports_check_mode=True)


if __name__ == "__main__":
    main()
