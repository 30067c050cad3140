# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install the Debian packages bindep.txt lists for this machine (`make deps`), when run as root on Debian.

Elsewhere it prints what is missing and leaves the machine alone; the tiers that need a package say so."""
import os
import pathlib
import shutil
import subprocess
import sys

BINDEP = pathlib.Path(__file__).resolve().parents[1] / "bindep.txt"


def debian_packages():
    for line in BINDEP.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "platform:dpkg" in line:
            yield line.split()[0]


def installed(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
                            check=False)
    return result.stdout.endswith("install ok installed")


def main():
    if not shutil.which("dpkg-query"):
        print("deps: not a Debian system; install the packages in bindep.txt yourself")
        return 0
    missing = [p for p in debian_packages() if not installed(p)]
    if not missing:
        return 0
    if os.geteuid() != 0:
        print("deps: missing Debian packages (not root, not installing): " + " ".join(missing))
        return 0
    print("deps: apt-get install " + " ".join(missing), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    install = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, env=env,
                             check=False)
    return update.returncode or install.returncode


if __name__ == "__main__":
    sys.exit(main())
