# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shell, wget and nslookup for probing the cluster from inside a pod (tests of the real-node tier)."""
import os

IMAGE = "localhost/localkube/busybox:1.35"
PACKAGES = ("busybox-static",)
VARIANT = "extract"
CONFIG = {"Entrypoint": ["/bin/busybox"], "Cmd": ["sh"], "Env": ["PATH=/bin"]}


def populate(tree):
    (tree / "bin").mkdir()
    for applet in ("sh", "wget", "nslookup", "cat", "sleep", "echo", "hostname", "httpd", "ls", "date", "ip"):
        os.symlink("/bin/busybox", tree / "bin" / applet)
