# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod sandbox image that containerd's CRI starts first in every pod (tools/images/pause)."""
import os
import pathlib
import subprocess

IMAGE = "localhost/localkube/pause:1.0"
CONFIG = {"Entrypoint": ["/pause"], "User": "65535:65535"}
SOURCE = pathlib.Path(__file__).resolve().parents[1] / "pause"


def populate(tree):
    subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(tree / "pause"), "."], cwd=SOURCE,
                   env=dict(os.environ, CGO_ENABLED="0"), check=True)
