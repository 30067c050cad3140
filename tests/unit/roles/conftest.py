# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a role with ansible-playbook on localhost and read the outcome from the JSON callback."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")


class PlaybookRun(object):
    """The result of one ansible-playbook run (stdout parsed from the ansible.posix.json callback)."""

    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        try:
            self.output = json.loads(completed.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook did not print JSON (rc={}):\n{}\n{}".format(
                completed.returncode, completed.stdout[-3000:], completed.stderr[-3000:]))

    @property
    def stats(self):
        return self.output["stats"]["localhost"]

    @property
    def changed(self):
        return self.stats["changed"]

    @property
    def failed(self):
        return self.stats["failures"] > 0 or self.rc != 0

    def results(self):
        """(task name, result) for every task that ran on localhost, in order."""
        for play in self.output["plays"]:
            for task in play["tasks"]:
                result = task["hosts"].get("localhost")
                if result is not None:
                    yield task["task"]["name"], result

    def result(self, name):
        found = [r for n, r in self.results() if n.endswith(name)]
        assert found, "no task named {!r} ran; tasks: {}".format(name, [n for n, r in self.results()])
        return found[-1]

    def changed_tasks(self):
        return [n for n, r in self.results() if r.get("changed")]

    @property
    def failure_messages(self):
        return [r.get("msg", "") for n, r in self.results() if r.get("failed")]

    def describe(self):
        return "rc={} changed={} failures={}\nstderr: {}".format(
            self.rc, self.changed_tasks(), self.failure_messages, self.stderr[-2000:])


@pytest.fixture(scope="session")
def ansible_env(tmp_path_factory):
    """Environment for ansible-playbook: this checkout as stateful.datastores, nothing from ~/.ansible."""
    base = tmp_path_factory.mktemp("ansible")
    link = base / "collections" / "ansible_collections" / "stateful" / "datastores"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    config = base / "ansible.cfg"
    config.write_text("[defaults]\ninterpreter_python = {}\n".format(sys.executable))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": str(base / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_HOME": str(base / "home"),
        "ANSIBLE_LOCAL_TEMP": str(base / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(base / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    return env


@pytest.fixture
def playbook_runner(ansible_env):
    """playbook_runner(playbook, extra_vars, check=False, env=None) -> PlaybookRun."""

    def run(playbook, extra_vars, check=False, env=None):
        playbook = pathlib.Path(playbook)
        vars_file = playbook.with_suffix(".vars.json")
        vars_file.write_text(json.dumps(extra_vars))
        argv = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(playbook), "-e", "@" + str(vars_file)]
        if check:
            argv.append("--check")
        full_env = dict(ansible_env)
        full_env.update(env or {})
        completed = subprocess.run(argv, env=full_env, cwd=str(playbook.parent), text=True, capture_output=True,
                                   timeout=600, check=False)
        return PlaybookRun(completed)

    return run
