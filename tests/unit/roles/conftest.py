# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a role with ansible-playbook on localhost (tests.helpers.ansible), away from ~/.ansible."""
import os
import sys

import pytest

from tests.helpers import ansible

REPO = ansible.REPO  # for the tests here


@pytest.fixture(scope="session")
def local_env(tmp_path_factory):
    """Ansible's own files in a temp dir, this Python on localhost, the kubeconfig the tests were given."""
    base = tmp_path_factory.mktemp("ansible")
    return {
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_HOME": str(base / "home"),
        "ANSIBLE_LOCAL_TEMP": str(base / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(base / "tmp"),
        "KUBECONFIG": os.environ.get("KUBECONFIG"),
        "K8S_AUTH_KUBECONFIG": os.environ.get("K8S_AUTH_KUBECONFIG"),
    }


@pytest.fixture
def playbook_runner(local_env):
    """playbook_runner(playbook, extra_vars, check=False, env=None) -> JsonPlaybookRun."""

    def run(playbook, extra_vars, check=False, env=None):
        return ansible.run_playbook_json(playbook, extra_vars, check=check, inventory="localhost,",
                                         args=("-c", "local"), env=dict(local_env, **(env or {})), timeout=600)

    return run
