# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real Hazelcast members on 127.0.0.1 for integration tests."""

from tests.servers.hazelcast.cluster import HazelcastCluster, HazelcastHarnessError, Member
from tests.servers.hazelcast.jar import HAZELCAST_VERSION, MAIN_CLASS, ensure_jar

__all__ = [
    "HAZELCAST_VERSION",
    "MAIN_CLASS",
    "HazelcastCluster",
    "HazelcastHarnessError",
    "Member",
    "ensure_jar",
]
