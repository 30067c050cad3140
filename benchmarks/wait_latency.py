# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(d) How long after a Deployment becomes ready each waiter notices: wait_ready vs kubernetes.core's wait."""
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import time

from benchmarks.readiness_clock import ReadinessClock
from tests.helpers.ansible import ansible_env
from tests.helpers.cluster import apply, kubectl

WAITERS = {
    "wait_ready": {"stateful.datastores.wait_ready": {
        "namespace": "{ns}", "timeout": 120, "objects": [{"kind": "Deployment", "name": "{name}"}]}},
    "kubernetes.core": {"kubernetes.core.k8s_info": {
        "kind": "Deployment", "namespace": "{ns}", "name": "{name}", "wait": True, "wait_timeout": 120}},
}


# The Deployment is scaled this long after the wait task starts, so that both waiters are already
# watching or polling when it becomes ready: what is measured is detection, not start-up.
STIMULUS_DELAY = 4.0


def _playbook(task, namespace, name):
    text = json.dumps(task).replace("{ns}", namespace).replace("{name}", name)
    stamp = {"name": "stamp", "ansible.builtin.debug": {"msg": "DONE_AT={{ now().timestamp() }}"}}
    play = [{"name": "wait", "hosts": "localhost", "gather_facts": False,
             "tasks": [dict(json.loads(text), name="wait for the deployment"), stamp]}]
    handle = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    json.dump(play, handle)
    handle.close()
    return handle.name


def _deployment(namespace, name):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "registry.invalid/bench"}]}}}}


def measure_once(waiter, namespace, name):
    apply(_deployment(namespace, name))
    clock = ReadinessClock(namespace, name)
    playbook = _playbook(WAITERS[waiter], namespace, name)
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, playbook]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env())
    for line in process.stdout:
        if line.startswith("TASK [wait for the deployment]"):
            break
    time.sleep(STIMULUS_DELAY)
    kubectl("scale", "deployment/" + name, "-n", namespace, "--replicas=3")
    output = process.stdout.read()
    process.wait()
    clock.close()
    done = re.search(r"DONE_AT=([0-9.]+)", output)
    if process.returncode != 0 or clock.ready_at is None or not done:
        raise RuntimeError("{} wait failed:\n{}".format(waiter, output[-2000:]))
    return float(done.group(1)) - clock.ready_at


def run(namespace, runs):
    results = {waiter: [] for waiter in WAITERS}
    for index in range(runs):
        for waiter in WAITERS:
            results[waiter].append(measure_once(waiter, namespace, "lat-{}-{}".format(index, waiter.split(".")[0].replace("_", ""))))
    return results
