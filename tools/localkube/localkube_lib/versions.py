# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinned versions, read from versions.env beside the tool."""
import os
import pathlib

TOOL_DIR = pathlib.Path(__file__).resolve().parent.parent
MODULES_DIR = TOOL_DIR / "modules"


def load():
    values = {}
    for line in (TOOL_DIR / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = os.environ.get(key, value)
    return values


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return pathlib.Path(os.environ.get("LOCALKUBE_CACHE", os.path.join(base, "localkube")))


def bin_dir(versions=None):
    v = versions or load()
    key = "k8s-{}_etcd-{}_kwok-{}".format(v["KUBERNETES_VERSION"], v["ETCD_VERSION"], v["KWOK_VERSION"])
    return cache_root() / "bin" / key


def coredns_binary(versions=None):
    v = versions or load()
    return cache_root() / "bin" / "coredns-{}".format(v["COREDNS_VERSION"]) / "coredns"
