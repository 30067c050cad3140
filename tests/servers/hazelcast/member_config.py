# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Member configuration (YAML) for a loopback-only Hazelcast 5.x member."""

import re

_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

_TEMPLATE = """\
hazelcast:
  cluster-name: {cluster_name}
  properties:
    hazelcast.phone.home.enabled: false
    hazelcast.socket.bind.any: false
    hazelcast.partition.count: {partition_count}
    hazelcast.shutdownhook.policy: TERMINATE
    hazelcast.health.monitoring.level: "OFF"
    hazelcast.merge.first.run.delay.seconds: 10
    hazelcast.merge.next.run.delay.seconds: 5
  metrics:
    enabled: false
  network:
    public-address: 127.0.0.1:{port}
    reuse-address: true
    port:
      port: {port}
      port-count: 1
      auto-increment: false
    interfaces:
      enabled: true
      interfaces:
        - 127.0.0.1
    join:
      auto-detection:
        enabled: false
      multicast:
        enabled: false
      tcp-ip:
        enabled: true
        member-list:
{member_list}
    rest-api:
      enabled: true
      endpoint-groups:
        HEALTH_CHECK:
          enabled: true
        CLUSTER_READ:
          enabled: {cluster_read}
"""


def render_member_config(cluster_name, port, member_ports, partition_count=71, cluster_read=True):
    """YAML text for one member listening on 127.0.0.1:port that joins 127.0.0.1:member_ports over TCP-IP."""
    if not _CLUSTER_NAME.match(cluster_name):
        raise ValueError("cluster name %r must match %s" % (cluster_name, _CLUSTER_NAME.pattern))
    member_list = "\n".join("          - 127.0.0.1:%d" % int(p) for p in member_ports)
    return _TEMPLATE.format(
        cluster_name=cluster_name,
        port=int(port),
        member_list=member_list,
        partition_count=int(partition_count),
        cluster_read="true" if cluster_read else "false",
    )
