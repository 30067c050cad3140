# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atomix 1.x controllers' init container as the atomix role's default image
atomix/controller-init:v1.0.0 runs it.

Contract the role relies on (upstream build/controller-init/Dockerfile at controller/v1.0.0):
entrypoint `atomix-controller-init` (the role passes `--namespace NS --service NAME --certs
/etc/certs`), which writes the webhook certificate and key into the certs directory. Built from
../shared/vendor/atomix by tests/servers/atomix/build.py (static, CGO off), so no base layer;
upstream's image is Alpine 3.15 with user atomix, while the role runs it as UID 0."""
import shutil
from pathlib import Path

from tests.servers.atomix.build import build

IMAGE = "docker.io/atomix/controller-init:v1.0.0"
CONFIG = {"Entrypoint": ["/usr/local/bin/atomix-controller-init"],
          "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}


def populate(tree):
    target = tree / "usr" / "local" / "bin"
    target.mkdir(parents=True)
    shutil.copy2(Path(build("v1")) / "atomix-controller-init-v1.0.0", target / "atomix-controller-init")
