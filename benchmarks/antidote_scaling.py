# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(e) createDC + connectDCs for 1, 2, 4, 8 and 16 DCs against the Antidote stand-in, with a fixed latency.

Every protocol-buffer reply of the stand-in (tests/standins/antidote_standin.py) is delayed by
LATENCY_SECONDS, so a module that talked to the DCs one after the other would take
(requests x latency); in parallel it takes about (requests per DC x latency) whatever the count.
The modules reach the stand-in at direct endpoints on 127.0.0.1 (no port-forward), so what is
measured is their parallelism plus Ansible's fixed cost of running a module task. The connection
record of antidote_connect is a ConfigMap in a namespace of the local API server.

One ansible-playbook per run does every size (a fresh stand-in per size, so createDC and
connectDCs really run), after an untimed warm-up pair of tasks that pays the one-off costs
(building the module payloads). Two times per size:

- task: the durations of the two tasks (bench_timer callback), what a user waits for; they include
  Ansible's fixed cost of starting a module, about a second, which hides how the work scales;
- server span: within each task, from the first protocol-buffer request the stand-in received to
  the last reply it sent (its timeline), summed over both tasks: the admin work alone.
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import uuid

from benchmarks.measure import task_window, timer_env
from tests.helpers.ansible import REPO, ansible_env
from tests.helpers.cluster import kubectl
from tests.standins.antidote_standin import AntidoteStandin

SIZES = (1, 2, 4, 8, 16)
NODES_PER_DC = 2
LATENCY_SECONDS = 0.05


def _tasks(label, standin, namespace):
    dcs = standin.describe()["dcs"]
    create = {"name": "createDC " + label, "stateful.datastores.antidote_dc": {
        "timeout": 120,
        "dcs": [{"name": dc["name"], "endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["pb_port"]),
                 "nodes": [node["name"] for node in dc["nodes"]]} for dc in dcs]}}
    connect = {"name": "connectDCs " + label, "stateful.datastores.antidote_connect": {
        "timeout": 120, "namespace": namespace, "record_configmap": "bench-links-" + label,
        "dcs": [{"name": dc["name"], "endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["pb_port"]),
                 "metrics_endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["metrics_port"])} for dc in dcs]}}
    return [create, connect]


def _span(timeline, window):
    """Seconds from the first request received to the last reply sent within the task's window."""
    start, end = window
    inside = [(received, replied) for received, replied, _code in timeline if start <= received <= end]
    if not inside:
        raise RuntimeError("the stand-in received no request during the task {}-{}".format(start, end))
    return max(replied for _received, replied in inside) - min(received for received, _replied in inside)


def run_once(namespace):
    """{size: {task and span seconds, "requests", "max_in_flight", "sequential_floor_s"}} from one playbook."""
    warmup = AntidoteStandin(dcs=1, nodes=NODES_PER_DC, latency_seconds=LATENCY_SECONDS)
    standins = dict((size, AntidoteStandin(dcs=size, nodes=NODES_PER_DC, latency_seconds=LATENCY_SECONDS))
                    for size in SIZES)
    try:
        tasks = []
        for label, standin in [("warmup", warmup)] + [(str(size), standins[size]) for size in SIZES]:
            standin.start()
            tasks.extend(_tasks(label, standin, namespace))
        play = [{"name": "createDC and connectDCs at every size", "hosts": "localhost", "gather_facts": False,
                 "tasks": tasks}]
        with tempfile.TemporaryDirectory(prefix="bench-antidote-") as scratch:
            playbook, timer_file = pathlib.Path(scratch) / "scaling.yml", pathlib.Path(scratch) / "timer.json"
            playbook.write_text(json.dumps(play))
            command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c",
                       "local", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
            completed = subprocess.run(command, capture_output=True, text=True, cwd=str(REPO), timeout=900,
                                       env=ansible_env(timer_env(timer_file)), check=False)
            if completed.returncode != 0:
                raise RuntimeError("the Antidote scaling playbook failed:\n{}\n{}".format(
                    completed.stdout[-4000:], completed.stderr[-2000:]))
            timings = json.loads(timer_file.read_text())
        results = {}
        for size in SIZES:
            windows = [task_window(timings, "{} {}".format(task, size)) for task in ("createDC", "connectDCs")]
            create, connect = [end - start for start, end in windows]
            spans = [_span(standins[size].timeline, window) for window in windows]
            stats = standins[size].stats
            results[size] = {"create_dc_s": round(create, 3), "connect_dcs_s": round(connect, 3),
                             "total_s": round(create + connect, 3), "create_dc_span_s": round(spans[0], 3),
                             "connect_dcs_span_s": round(spans[1], 3), "span_s": round(sum(spans), 3),
                             "requests": stats["requests"], "max_in_flight": stats["max_in_flight"],
                             "sequential_floor_s": round(stats["requests"] * LATENCY_SECONDS, 3)}
        return results
    finally:
        warmup.stop()
        for standin in standins.values():
            standin.stop()


def run(runs):
    """{size: [per-run result]}, in a namespace of its own (for the connection records), deleted afterwards."""
    namespace = "bench-antidote-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", namespace)
    samples = dict((size, []) for size in SIZES)
    try:
        for _index in range(runs):
            for size, result in run_once(namespace).items():
                samples[size].append(result)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return samples
