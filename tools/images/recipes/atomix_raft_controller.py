# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atomix 1.x raft controller as the atomix role's default image atomix/raft-controller:v0.7.0 runs it.

Contract the role relies on (upstream build/controller/Dockerfile at stores/raft/v0.7.0): entrypoint
`atomix-raft-controller` (the role passes `--certs /etc/certs` and DEFAULT_NODE_IMAGE), logging.yaml
from /etc/atomix, the readiness file in /tmp, the webhook server on port 443; it dials every Raft pod
on 5678. Built from ../shared/vendor/atomix by tests/servers/atomix/build.py (static, CGO off, linked
with -checklinkname=0 for dragonboat's old golang.org/x/net), with busybox for `stat`, which the readiness probe execs; upstream's image is
Alpine 3.15 with user atomix, while the role runs it as UID 0 with only NET_BIND_SERVICE."""
import shutil
from pathlib import Path

from tests.servers.atomix.build import build

PACKAGES = ("busybox-static",)
VARIANT = "extract"

IMAGE = "docker.io/atomix/raft-controller:v0.7.0"
CONFIG = {"Entrypoint": ["/usr/local/bin/atomix-raft-controller"],
          "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "ExposedPorts": {"443/tcp": {}}}


def populate(tree):
    target = tree / "usr" / "local" / "bin"
    target.mkdir(parents=True)
    (tree / "bin").mkdir()
    (tree / "bin" / "stat").symlink_to("/bin/busybox")
    shutil.copy2(Path(build("v1")) / "atomix-raft-controller-v0.7.0", target / "atomix-raft-controller")
    (tree / "tmp").mkdir(mode=0o1777)
