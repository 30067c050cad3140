# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ansible-playbook and measures it: wall time, CPU time and peak memory of its process tree, task times.

CPU time comes from wait4(): the rusage of the ansible-playbook process includes every descendant
it (or its workers) waited for, which is every module run. Memory is sampled from /proc every
SAMPLE_SECONDS: the peak of the summed RSS of the whole tree (shared pages counted once per
process, as RSS does) and the peak of the summed PSS (shared pages split between the processes:
what the tree really occupies). ru_maxrss, the largest single process, is kept too. The backends
(Hazelcast JVMs, AntidoteDB nodes, Atomix controllers) are children of the bench process, not of
ansible-playbook, so they are not counted.

Task times come from the bench_timer callback (benchmarks/callback_plugins).
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

from tests.helpers.ansible import REPO, PlaybookRun, ansible_env

SAMPLE_SECONDS = 0.2
CALLBACKS = str(pathlib.Path(__file__).resolve().parent / "callback_plugins")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
# k8s_apply applies and then waits in one task: its whole duration counts as apply.
APPLY_ACTIONS = ("kubernetes.core.k8s", "k8s", "stateful.datastores.k8s_apply")
WAIT_ACTIONS = ("stateful.datastores.wait_ready",)
ADMIN_ACTIONS = ("stateful.datastores.antidote_dc", "stateful.datastores.antidote_connect",
                 "stateful.datastores.hazelcast_cluster")


def _parents():
    """{pid: ppid} of every process now."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{}/stat".format(entry)) as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    return parents


def _rss_kb(pid):
    try:
        with open("/proc/{}/statm".format(pid)) as handle:
            return int(handle.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid):
    try:
        with open("/proc/{}/smaps_rollup".format(pid)) as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


class TreeSampler(object):
    """Peak summed RSS and PSS of a process and all its descendants, sampled in a thread."""

    def __init__(self, root):
        self.root = root
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def tree(self):
        children = {}
        for pid, ppid in _parents().items():
            children.setdefault(ppid, []).append(pid)
        found, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def sample(self):
        pids = self.tree()
        self.peak_rss_kb = max(self.peak_rss_kb, sum(_rss_kb(pid) for pid in pids))
        self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in pids))
        self.peak_processes = max(self.peak_processes, len(pids))
        self.samples += 1

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_SECONDS)


def timer_env(path, extra=None):
    env = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACKS, "ANSIBLE_CALLBACKS_ENABLED": "bench_timer",
           "BENCH_TIMER_FILE": str(path)}
    env.update(extra or {})
    return env


class Measured(object):
    """One measured ansible-playbook run: .run (PlaybookRun), .wall, .cpu, .peak_rss_mb, .peak_pss_mb,
    .max_process_rss_mb, .timings (the bench_timer record)."""

    def summary(self):
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3), "peak_tree_rss_mb": self.peak_rss_mb,
                "peak_tree_pss_mb": self.peak_pss_mb, "max_process_rss_mb": self.max_process_rss_mb,
                "peak_processes": self.peak_processes, "changed": self.run.changed, "rc": self.run.rc,
                "portions_s": portions(self.timings)}


def run_playbook_measured(playbook, extra_vars=None, inventory=None, timeout=1200, env=None):
    """ansible-playbook as tests.helpers.ansible.run_playbook runs it, measured; returns a Measured."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        timer_file = pathlib.Path(scratch) / "timer.json"
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook),
                   "-i", str(inventory or REPO / "inventories" / "local")]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        with open(os.path.join(scratch, "out"), "w+") as out, open(os.path.join(scratch, "err"), "w+") as err:
            started = time.monotonic()
            process = subprocess.Popen(command, stdout=out, stderr=err, cwd=str(REPO),
                                       env=ansible_env(timer_env(timer_file, env)))
            sampler = TreeSampler(process.pid).start()
            watchdog = threading.Timer(timeout, process.kill)
            watchdog.start()
            try:
                _pid, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
                sampler.stop()
            wall = time.monotonic() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            completed = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
        measured = Measured()
        measured.run = PlaybookRun(completed)
        measured.wall = wall
        measured.cpu = usage.ru_utime + usage.ru_stime
        measured.max_process_rss_mb = round(usage.ru_maxrss / 1024.0, 1)
        measured.peak_rss_mb = round(sampler.peak_rss_kb / 1024.0, 1)
        measured.peak_pss_mb = round(sampler.peak_pss_kb / 1024.0, 1)
        measured.peak_processes = sampler.peak_processes
        measured.timings = json.loads(timer_file.read_text()) if timer_file.exists() else {"tasks": []}
    return measured


def portions(timings):
    """Seconds spent in apply tasks (kubernetes.core.k8s, k8s_apply), wait tasks (wait_ready), admin tasks and the rest."""
    totals = {"apply": 0.0, "wait": 0.0, "admin": 0.0, "other": 0.0}
    for task in timings.get("tasks", []):
        seconds = (task["end"] or task["start"]) - task["start"]
        if task["status"] == "skipped":
            key = "other"
        elif task["action"] in APPLY_ACTIONS:
            key = "apply"
        elif task["action"] in WAIT_ACTIONS:
            key = "wait"
        elif task["action"] in ADMIN_ACTIONS:
            key = "admin"
        else:
            key = "other"
        totals[key] += seconds
    if timings.get("start") and timings.get("end"):
        totals["playbook"] = timings["end"] - timings["start"]
    return dict((key, round(value, 3)) for key, value in totals.items())


def task_window(timings, name):
    """(start, end) wall-clock seconds of the (last) task whose name ends with `name`."""
    found = [task for task in timings.get("tasks", []) if task["name"].endswith(name)]
    if not found or found[-1]["end"] is None:
        raise RuntimeError("no timing for task {!r} in {}".format(name, [t["name"] for t in timings.get("tasks", [])]))
    return found[-1]["start"], found[-1]["end"]


def task_seconds(timings, name):
    """Duration of the (last) task whose name ends with `name`, and its end time."""
    start, end = task_window(timings, name)
    return end - start, end
