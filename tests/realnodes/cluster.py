# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the current profile's cluster afresh with real nodes and the images of the systems the tier runs."""
import subprocess
import sys

from tests.helpers.cluster import REPO, localkube
from tools.localkube.localkube_lib import cluster as localkube_cluster
from tools.localkube.localkube_lib import realnodes


def unavailable():
    """Why this machine cannot run real nodes at all (not root, no network namespaces), or None."""
    found = realnodes.problems(localkube_cluster.Settings())
    machine = [p for p in found if p.startswith("not root") or "netns" in p]
    return "; ".join(machine) if machine else None


# The recipes whose roles run in this tier (opensearch builds, but does not run here yet).
RECIPES = ("busybox", "hazelcast", "elasticsearch2", "opensearch", "loklak", "antidote",
           "atomix_controller", "atomix_controller_init", "atomix_raft_controller", "atomix_raft_node")


def start_real_cluster():
    localkube("down", check=False)
    started = localkube("up", "--fresh", "--nodes", "real", check=False)
    assert started.returncode == 0, "localkube up --nodes real failed:\n" + started.stdout + started.stderr
    images = subprocess.run([sys.executable, "-m", "tools.images", "build"] + list(RECIPES), cwd=str(REPO),
                            capture_output=True, text=True, check=False)
    assert images.returncode == 0, images.stdout + images.stderr
    archives = [line for line in images.stdout.splitlines() if line.endswith(".tar")]
    loaded = localkube("load", *archives, check=False)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return localkube_cluster.Settings()
