# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(d) How long after a Deployment becomes ready each waiter notices: wait_ready vs kubernetes.core's wait.

The Deployment starts with 3 replicas whose pods run but are not ready (KWOK's localkube.io/fail:
NotReady stage); the stimulus removes that label from the pod template, so that the Recreate
rollout replaces them with pods that become ready. (A Deployment scaled from 0 is no test: with
0 replicas both waiters rightly call it ready at once, before the stimulus.)

Latency = when Ansible received the wait task's result (the bench_timer callback, in the
ansible-playbook process) minus when an independent watch in this process saw the Deployment
become ready (benchmarks/readiness_clock.py). The watch is established before the Deployment is
changed, and the Deployment is changed STIMULUS_DELAY seconds after the wait task started, so that
both waiters are already watching or polling: what is measured is detection, not start-up.
kubernetes.core polls every 5 s (wait_sleep), so its latency is spread between 0 and 5 s.
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from benchmarks.measure import task_seconds, timer_env
from benchmarks.readiness_clock import ReadinessClock
from tests.helpers.ansible import ansible_env
from tests.helpers.cluster import apply, kubectl

WAIT_TASK = "wait for the deployment"
WAITERS = {
    "wait_ready": {"stateful.datastores.wait_ready": {
        "namespace": "{ns}", "timeout": 120, "objects": [{"kind": "Deployment", "name": "{name}"}]}},
    "kubernetes.core": {"kubernetes.core.k8s_info": {
        "kind": "Deployment", "namespace": "{ns}", "name": "{name}", "wait": True, "wait_timeout": 120}},
}
STIMULUS_DELAY = 3.0
NOT_READY_LABEL = "localkube.io/fail"
STIMULUS = json.dumps([{"op": "remove", "path": "/spec/template/metadata/labels/" + NOT_READY_LABEL.replace("/", "~1")}])


def _playbook(directory, task, namespace, name):
    text = json.dumps(task).replace("{ns}", namespace).replace("{name}", name)
    play = [{"name": "wait", "hosts": "localhost", "gather_facts": False,
             "tasks": [dict(json.loads(text), name=WAIT_TASK)]}]
    path = pathlib.Path(directory) / "wait.yml"
    path.write_text(json.dumps(play))
    return str(path)


def _deployment(namespace, name):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 3, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, NOT_READY_LABEL: "NotReady"}},
                                  "spec": {"containers": [{"name": "main", "image": "registry.invalid/bench"}]}}}}


def measure_once(waiter, namespace, name):
    apply(_deployment(namespace, name))
    clock = ReadinessClock(namespace, name)
    with tempfile.TemporaryDirectory(prefix="bench-wait-") as scratch:
        timer_file = pathlib.Path(scratch) / "timer.json"
        playbook = _playbook(scratch, WAITERS[waiter], namespace, name)
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   "-e", "ansible_python_interpreter=" + sys.executable, playbook]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=ansible_env(timer_env(timer_file)))
        for line in process.stdout:
            if line.startswith("TASK [{}]".format(WAIT_TASK)):
                break
        time.sleep(STIMULUS_DELAY)
        stimulus_at = time.time()
        kubectl("patch", "deployment/" + name, "-n", namespace, "--type=json", "-p", STIMULUS)
        output = process.stdout.read()
        process.wait()
        ready_at = clock.close()
        if process.returncode != 0 or ready_at is None or not timer_file.exists():
            raise RuntimeError("{} wait failed (ready_at={}, clock error={}):\n{}".format(
                waiter, ready_at, clock.error, output[-2000:]))
        _seconds, done_at = task_seconds(json.loads(timer_file.read_text()), WAIT_TASK)
    if done_at < stimulus_at:
        raise RuntimeError("{} returned before the Deployment was changed: nothing was measured".format(waiter))
    return done_at - ready_at


def run(namespace, runs):
    """{waiter: [latency seconds per run]}; the waiters alternate within each run."""
    results = {waiter: [] for waiter in WAITERS}
    for index in range(runs):
        for waiter in WAITERS:
            name = "lat-{}-{}".format(index, waiter.split(".")[0].replace("_", ""))
            results[waiter].append(measure_once(waiter, namespace, name))
    return results
