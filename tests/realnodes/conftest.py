# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real-node tier: the test profile's cluster with real kubelet nodes, the images of every recipe loaded.

The session starts from a fresh cluster and ends the way a crash would (every node process killed),
then checks that `localkube down` leaves nothing of it behind."""
import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers.cluster import REPO, localkube
from tools.localkube.localkube_lib import cluster as localkube_cluster
from tools.localkube.localkube_lib import realnodes


def settings():
    return localkube_cluster.Settings()


@pytest.fixture(scope="session", autouse=True)
def real_cluster():
    found = realnodes.problems(settings())
    if os.geteuid() != 0 or any("netns" in p for p in found):
        pytest.skip("real nodes cannot run on this machine: " + "; ".join(found))
    localkube("down", check=False)
    started = localkube("up", "--fresh", "--nodes", "real", check=False)
    assert started.returncode == 0, "localkube up --nodes real failed:\n" + started.stdout + started.stderr
    images = subprocess.run([sys.executable, "-m", "tools.images", "build"], cwd=str(REPO), capture_output=True,
                            text=True, check=False)
    assert images.returncode == 0, images.stdout + images.stderr
    archives = [line for line in images.stdout.splitlines() if line.endswith(".tar")]
    loaded = localkube("load", *archives, check=False)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    yield settings()
    crash_then_down(settings())


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


def json_out(result):
    return json.loads(result.stdout)
