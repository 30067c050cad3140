# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real-node tier: the test profile's cluster with real kubelet nodes, the images of every recipe loaded.

The session starts from a fresh cluster and ends the way a crash would (every node process killed),
then checks that `localkube down` leaves nothing of it behind."""
import os
import signal
import subprocess

import pytest

from tests.helpers.cluster import localkube
from tests.realnodes.cluster import start_real_cluster, unavailable
from tools.localkube.localkube_lib import cluster as localkube_cluster
from tools.localkube.localkube_lib import realnodes


@pytest.fixture(scope="session", autouse=True)
def real_cluster():
    reason = unavailable()
    if reason:
        pytest.skip("real nodes cannot run on this machine: " + reason)
    yield start_real_cluster()
    crash_then_down(localkube_cluster.Settings())


def crash_then_down(s):
    """SIGKILL every node process, as a crashed machine or a killed session would leave them, then `down`."""
    for index in range(s.nodes):
        for pid in realnodes.pids_in("localkube-{}-n{}".format(s.profile, index)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stopped = localkube("down", check=False)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert realnodes.leftovers(s, s.plan) == [], "localkube down left these behind"


def node_exec(s, index, *argv):
    return subprocess.run(["nsenter", "--net=/var/run/netns/" + s.plan.netns(index)] + list(argv),
                          capture_output=True, text=True, check=False)
