# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as Galaxy users get it: built into a tarball, installed into a clean path."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.helpers.cluster import REPO, kubeconfig_path

BIN = pathlib.Path(sys.executable).parent


def _run(args, cwd, env):
    return subprocess.run([str(BIN / args[0])] + args[1:], cwd=str(cwd), env=env, capture_output=True, text=True,
                          check=False, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("galaxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # An empty configuration of its own: ansible-core 2.19 refuses os.devnull ("Unsupported configuration file
    # extension"), and the repository's ansible.cfg must not leak into what a Galaxy user sees.
    empty_config = work / "ansible.cfg"
    empty_config.write_text("")
    env.update({"ANSIBLE_CONFIG": str(empty_config), "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"),
                "ANSIBLE_NOCOLOR": "1", "HOME": str(work)})
    built = _run(["ansible-galaxy", "collection", "build", str(REPO), "--output-path", str(work)], work, env)
    assert built.returncode == 0, built.stderr
    tarball = next(work.glob("stateful-datastores-*.tar.gz"))
    done = _run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p",
                 str(work / "collections"), str(tarball)], work, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return work, env, tarball


def test_tarball_leaves_out_development_files(installed):
    tarball = installed[2]
    names = subprocess.run(["tar", "tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    assert not [n for n in names if n.startswith(("tools/", ".venv/", ".build/", ".ci/"))]


def test_ansible_doc_lists_the_modules(installed):
    work, env = installed[:2]
    listing = _run(["ansible-doc", "-l", "stateful.datastores", "--json"], work, env)
    assert listing.returncode == 0, listing.stderr
    modules = json.loads(listing.stdout)
    assert "stateful.datastores.wait_ready" in modules
    docs = _run(["ansible-doc", "stateful.datastores.wait_ready"], work, env)
    assert docs.returncode == 0 and "fail_fast" in docs.stdout, docs.stderr


@pytest.mark.localkube
def test_installed_copy_runs_against_the_cluster(installed):
    work, env = installed[:2]
    playbook = work / "installed.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Wait for the default namespace through the installed collection\n"
        "      stateful.datastores.wait_ready:\n"
        "        objects: [{kind: Namespace, name: default}]\n"
        "      register: waited\n"
        "    - name: Check the answer\n"
        "      ansible.builtin.assert:\n"
        "        that:\n"
        "          - waited.ready\n"
        "          - waited.objects[0].state == 'ready'\n")
    env = dict(env, K8S_AUTH_KUBECONFIG=kubeconfig_path())
    run = _run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e",
                "ansible_python_interpreter=" + sys.executable, str(playbook)], work, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failed=0" in run.stdout
