# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CoreDNS, as built by `localkube build --nodes real` from the pinned Go module."""
import shutil

from tools.localkube.localkube_lib.versions import coredns_binary, load

IMAGE = "localhost/localkube/coredns:" + load()["COREDNS_VERSION"]
CONFIG = {"Entrypoint": ["/coredns"], "User": "65532:65532"}


def populate(tree):
    binary = coredns_binary()
    if not binary.exists():
        raise SystemExit("images: {} is not built; run `tools/localkube/localkube build --nodes real`".format(binary))
    shutil.copy2(binary, tree / "coredns")
