# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atomix 1.x controller as the atomix role's default image atomix/controller:v1.0.0 runs it.

Contract the role relies on (upstream build/controller/Dockerfile at controller/v1.0.0): entrypoint
`atomix-controller` on PATH (the role passes `--certs /etc/certs`), logging.yaml read from
/etc/atomix (the role's ConfigMap), the readiness file /tmp/atomix-controller-ready (the role mounts
an emptyDir at /tmp), the webhook server on port 443. Built from ../shared/vendor/atomix by
tests/servers/atomix/build.py (static, CGO off), with busybox for `stat`, which the readiness probe
execs (upstream's Alpine has it); upstream's image is Alpine 3.15
with user atomix, while the role runs this container as UID 0 with only NET_BIND_SERVICE."""
import shutil
from pathlib import Path

from tests.servers.atomix.build import build

PACKAGES = ("busybox-static",)
VARIANT = "extract"

IMAGE = "docker.io/atomix/controller:v1.0.0"
CONFIG = {"Entrypoint": ["/usr/local/bin/atomix-controller"],
          "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "ExposedPorts": {"443/tcp": {}}}


def populate(tree):
    target = tree / "usr" / "local" / "bin"
    target.mkdir(parents=True)
    (tree / "bin").mkdir()
    (tree / "bin" / "stat").symlink_to("/bin/busybox")
    shutil.copy2(Path(build("v1")) / "atomix-controller-v1.0.0", target / "atomix-controller")
    (tree / "tmp").mkdir(mode=0o1777)
