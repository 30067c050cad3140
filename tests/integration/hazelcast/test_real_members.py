# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_cluster against real Hazelcast members on 127.0.0.1 (one JVM cluster shared by the module)."""
import shutil
import time

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.hazelcast.cluster import (
    HazelcastClusterError,
    check_cluster,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline
from tests.servers.hazelcast import HAZELCAST_VERSION, HazelcastCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs java on PATH to run Hazelcast members"),
]


@pytest.fixture(scope="module")
def cluster():
    members = HazelcastCluster(1, cluster_name="it-main").start()
    yield members
    members.stop()


@pytest.fixture(scope="module")
def other_cluster():
    members = HazelcastCluster(2, cluster_name="it-other").start()
    yield members
    members.stop()


def addresses(cluster):
    return sorted("127.0.0.1:%d" % port for _host, port in cluster.endpoints)


def test_one_member(cluster):
    cluster.scale_to(1)
    result = check_cluster(cluster.endpoints, 1, Deadline(60), interval=0.25)
    assert result["cluster_size"] == 1 and result["versions"] == [HAZELCAST_VERSION]
    assert result["member_addresses"] == addresses(cluster)


def test_two_members(cluster):
    cluster.scale_to(2)
    result = check_cluster(cluster.endpoints, 2, Deadline(60), interval=0.25)
    assert result["member_addresses"] == addresses(cluster)
    assert all(m["members"] and len(m["members"]) == 2 for m in result["members"])


def test_scale_to_four_is_verified(cluster):
    before = len(cluster.endpoints)
    started = time.monotonic()
    cluster.scale_to(4)
    result = check_cluster(cluster.endpoints, 4, Deadline(90), interval=0.25)
    print("\nhazelcast: scale %d -> 4 verified in %.1fs (%d poll(s) after the members were ready)"
          % (before, time.monotonic() - started, result["polls"]))
    assert result["member_addresses"] == addresses(cluster)
    assert len({m["uuid"] for m in result["members"]}) == 4


def test_too_small_expected_size_fails_clearly(cluster):
    cluster.scale_to(4)
    check_cluster(cluster.endpoints, 4, Deadline(60), interval=0.25)
    with pytest.raises(HazelcastClusterError) as caught:
        check_cluster(cluster.endpoints, 3, Deadline(1.5), interval=0.5)
    message = str(caught.value)
    assert "expected 3 member(s)" in message and "split" not in message
    for endpoint in addresses(cluster):
        assert "- %s sees " % endpoint in message
    assert message.count("sees 4 member(s), expected 3") == 4


def test_scale_down_to_two(cluster):
    cluster.scale_to(4)
    leaving = cluster.members[2:]
    cluster.scale_to(2)
    assert all(not member.alive() for member in leaving)
    result = check_cluster(cluster.endpoints, 2, Deadline(60), interval=0.25)
    assert result["member_addresses"] == addresses(cluster)


def test_two_clusters_presented_as_one_are_a_split(cluster, other_cluster):
    cluster.scale_to(2)
    check_cluster(cluster.endpoints, 2, Deadline(60), interval=0.25)
    check_cluster(other_cluster.endpoints, 2, Deadline(60), interval=0.25)
    with pytest.raises(HazelcastClusterError) as caught:
        check_cluster(cluster.endpoints + other_cluster.endpoints, 4, Deadline(1.5), interval=0.5)
    assert "split into 2 separate clusters" in str(caught.value)
    groups = sorted(sorted(c["endpoints"]) for c in caught.value.result["clusters"])
    assert groups == sorted([addresses(cluster), addresses(other_cluster)])
