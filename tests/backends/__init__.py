# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What answers the data systems' admin ports on localkube, where pods are simulated.

KWOK schedules pods and makes them Ready, but runs nothing in them. For `make demo`, the benchmarks
and the molecule scenarios, this package starts, on 127.0.0.1, what the modules talk to through
the API server's port-forward, and points each pod's ports at it with KWOK PortForward objects:

- Hazelcast: real Hazelcast 5.7.0 members (tests/servers/hazelcast);
- Elasticsearch: a real OpenSearch 2.19.1 cluster (tests/servers/elasticsearch);
- AntidoteDB: real AntidoteDB 0.2.2 nodes (tests/servers/antidote), or the protocol-faithful stand-in
  (tests/standins/antidote_standin.py) with DATASTORES_ANTIDOTE_BACKEND=standin;
- Atomix: cloud-v1beta2, the real controllers on the host; v1, the real controllers and Raft nodes in a
  sealed network namespace (tests/servers/atomix), or, where no such namespace can be made (not root),
  the controller stand-in that writes status (tests/standins/atomix_status_player.py).
"""
