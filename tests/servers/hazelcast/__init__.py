# SPDX-License-Identifier: Apache-2.0
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
