# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Let `ansible-test sanity` bootstrap pip without ansible's CI file host.

ansible-test looks for ~/.ansible/test/cache/get_pip_<version>.py before downloading it.
The script written there bootstraps pip with ensurepip, then installs the requested packages
from the index configured for this machine's pip.
"""
import os
import sys

SHIM = '''import ensurepip, os, subprocess, sys
ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
'''


def install():
    from ansible_test._internal.python_requirements import get_venv_packages
    from ansible_test._internal.host_configs import NativePythonConfig

    pip_version = get_venv_packages(NativePythonConfig(version="{}.{}".format(*sys.version_info[:2])))["pip"]
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "get_pip_{}.py".format(pip_version.replace(".", "_")))
    with open(path, "w") as handle:
        handle.write(SHIM)
    print("ansible-test pip bootstrap: {}".format(path))


if __name__ == "__main__":
    if sys.argv[1:] != ["install-get-pip"]:
        sys.exit("usage: ansible_test_offline.py install-get-pip")
    install()
