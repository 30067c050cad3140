# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
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
        failures = [self.stdout[i:i + 3000] for i in (m.start() for m in re.finditer(r"fatal: |FAILED!", self.stdout))]
        tail = ("\n".join(failures[:3]) or self.stdout[-6000:], self.stderr[-3000:])
        return "PlaybookRun(rc={}, recap={})\n{}\n{}".format(self.rc, self.recap, *tail)


def ansible_env(extra=None):
    """The environment of a run: this checkout's collection, localkube's kubeconfig unless `extra` names both
    variables, then `extra`, where a value of None removes the variable (for runs that must find no kubeconfig)."""
    from tests.helpers.cluster import kubeconfig_path
    extra = extra or {}
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": str(pathlib.Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    })
    if not {"KUBECONFIG", "K8S_AUTH_KUBECONFIG"} <= set(extra):
        env["K8S_AUTH_KUBECONFIG"] = env["KUBECONFIG"] = kubeconfig_path()
    env.update(extra)
    return {name: value for name, value in env.items() if value is not None}


def playbook_command(playbook, extra_vars=None, check=False, diff=False, inventory=None, args=()):
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook),
               "-i", str(inventory or REPO / "inventories" / "local")]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    return command + list(args)


def run_playbook(playbook, extra_vars=None, check=False, diff=False, inventory=None, env=None, args=(),
                 timeout=900):
    completed = subprocess.run(playbook_command(playbook, extra_vars, check, diff, inventory, args),
                               capture_output=True, text=True, env=ansible_env(env), cwd=str(REPO),
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


class JsonPlaybookRun(PlaybookRun):
    """A run printed by the ansible.posix.json callback: every task's result, even at verbosity 0."""

    def __init__(self, completed):
        super(JsonPlaybookRun, self).__init__(completed)
        try:
            self.output = json.loads(completed.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON (rc={}):\n{}\n{}".format(
                completed.returncode, completed.stdout[-4000:], completed.stderr[-3000:]))
        self.recap = self.output.get("stats", {})

    @property
    def changed(self):
        return sum(host.get("changed", 0) for host in self.recap.values())

    @property
    def failed(self):
        return self.rc != 0 or any(host.get("failures", 0) + host.get("unreachable", 0) for host in self.recap.values())

    @property
    def tasks(self):
        return list(self.results())

    @property
    def messages(self):
        """Every failed task's message, in one string."""
        return " ".join(str(message) for message in self.failure_messages)

    def results(self, host="localhost"):
        """(task name, result) for every task that ran on `host`, in order."""
        for play in self.output.get("plays", []):
            for task in play.get("tasks", []):
                result = task.get("hosts", {}).get(host)
                if result is not None:
                    yield task["task"]["name"], result

    def result(self, name):
        """The last result of the task whose name ends with `name`."""
        found = [result for task, result in self.results() if task.endswith(name)]
        assert found, "no task named {!r} ran: {}".format(name, [task for task, _result in self.results()])
        return found[-1]

    def changed_tasks(self):
        return [task for task, result in self.results() if result.get("changed")]

    @property
    def failure_messages(self):
        return [result.get("msg", "") for _task, result in self.results() if result.get("failed")]

    def failures(self):
        """(task name, the failed result without bulky fields) for every failed task."""
        bulky = ("invocation", "_ansible_no_log", "stdout_lines")
        return [(task, dict((k, v) for k, v in result.items() if k not in bulky))
                for task, result in self.results() if result.get("failed")]

    def describe(self):
        return repr(self)

    def __repr__(self):
        return "JsonPlaybookRun(rc={})\nmessages: {}\nfailures: {}\nchanged: {}\n{}".format(
            self.rc, self.messages[:20000], json.dumps(self.failures(), default=str)[:6000], self.changed_tasks(),
            self.stderr[-3000:])


JSON_OUTPUT = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}


def start_playbook_json(playbook, extra_vars=None, check=False, env=None, diff=False, inventory=None, args=()):
    """ansible-playbook with the JSON callback, started in the background: a Popen for finish_json."""
    return subprocess.Popen(playbook_command(playbook, extra_vars, check, diff, inventory, args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ansible_env(dict(JSON_OUTPUT, **(env or {}))), cwd=str(REPO))


def finish_json(process, timeout=900, run_class=None):
    """The JsonPlaybookRun (or `run_class`) of a start_playbook_json process, once it ends (killed on timeout)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return (run_class or JsonPlaybookRun)(subprocess.CompletedProcess([], process.returncode, stdout, stderr))


def run_playbook_json(playbook, extra_vars=None, check=False, env=None, run_class=None, timeout=900, **kwargs):
    """start_playbook_json, then finish_json: a JsonPlaybookRun (or the subclass `run_class`)."""
    return finish_json(start_playbook_json(playbook, extra_vars, check, env, **kwargs), timeout, run_class)
