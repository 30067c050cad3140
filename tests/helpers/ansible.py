# SPDX-License-Identifier: Apache-2.0
"""Run ansible-playbook the way users do, and read the recap."""
import json
import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


class PlaybookRun(object):
    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.recap = {}
        for host, values in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", self.stdout, re.M):
            self.recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", values)}

    def total(self, key):
        return sum(values.get(key, 0) for values in self.recap.values())

    @property
    def changed(self):
        return self.total("changed")

    @property
    def failed(self):
        return self.total("failed") + self.total("unreachable")

    def __repr__(self):
        tail = (self.stdout[-6000:], self.stderr[-3000:])
        return "PlaybookRun(rc={}, recap={})\n{}\n{}".format(self.rc, self.recap, *tail)


def ansible_env(extra=None):
    from tests.helpers.cluster import kubeconfig_path
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "K8S_AUTH_KUBECONFIG": kubeconfig_path(),
        "KUBECONFIG": kubeconfig_path(),
        "PATH": str(pathlib.Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


def run_playbook(playbook, extra_vars=None, check=False, diff=False, inventory=None, env=None, args=(),
                 timeout=900):
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook),
               "-i", str(inventory or REPO / "inventories" / "local")]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    command += list(args)
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(env), cwd=str(REPO),
                               timeout=timeout, check=False)
    return PlaybookRun(completed)


def run_module(module, args, check=False, env=None, timeout=600):
    """Run one module on localhost as an ad-hoc task; returns (rc, result dict)."""
    command = [str(pathlib.Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,",
               "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
               "-m", module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    extra = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    extra.update(env or {})
    completed = subprocess.run(command, capture_output=True, text=True, env=ansible_env(extra), cwd=str(REPO),
                               timeout=timeout, check=False)
    try:
        output = json.loads(completed.stdout)
        result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("no JSON result from {}:\n{}\n{}".format(module, completed.stdout, completed.stderr))
    return completed.returncode, result
