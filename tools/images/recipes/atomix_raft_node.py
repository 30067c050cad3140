# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atomix 1.x Raft replica as the atomix role's default node image atomix/raft-node:v0.7.0 runs it.

Contract the raft controller relies on (upstream build/node/Dockerfile at stores/raft/v0.7.0, and the
StatefulSet it makes): bash (the container's command is `bash -c` deriving the ordinal from
`hostname`), `atomix-raft-node` on PATH with `--config /etc/atomix/raft.yaml --api-port 5678
--raft-host <pod>.<cluster>-hs.<ns>.svc.<domain> --raft-port 5679`, data under /var/lib/atomix (a
claim or emptyDir; the role sets fsGroup so a non-root user can write it), logging.yaml from
/etc/atomix. Built from ../shared/vendor/atomix by tests/servers/atomix/build.py; Debian's bash and
coreutils instead of Alpine's; the role runs it as UID 65532 (atomix_node_security_context)."""
import shutil
from pathlib import Path

from tests.servers.atomix.build import build

IMAGE = "docker.io/atomix/raft-node:v0.7.0"
PACKAGES = ("bash", "coreutils", "hostname")
CONFIG = {"Entrypoint": ["/usr/local/bin/atomix-raft-node"],
          "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          "ExposedPorts": {"5678/tcp": {}, "5679/tcp": {}}}


def populate(tree):
    target = tree / "usr" / "local" / "bin"
    target.mkdir(parents=True)
    shutil.copy2(Path(build("v1")) / "atomix-raft-node-v0.7.0", target / "atomix-raft-node")
    (tree / "var" / "lib" / "atomix").mkdir(parents=True, mode=0o777)
