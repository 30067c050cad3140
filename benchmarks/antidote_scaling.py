# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(e) createDC + connectDCs on real AntidoteDB 0.2.2 nodes: 1, 2, 4 and 8 DCs of one node, and one DC of three.

Each shape gets fresh real nodes (tests/servers/antidote, loopback, named as the role names pods),
started before its playbook and stopped after it, so the real tier never holds more than eight
nodes (about 90 MB each). The modules reach the nodes at direct endpoints on 127.0.0.1 (no
port-forward): what is measured is the modules' parallelism against the real server's own times
(createDC of a multi-node DC waits for the ring to rebalance; connectToDCs returns once the remote
DCs' clocks advance, seconds per call) plus Ansible's fixed cost of running a module task. The
connection record of antidote_connect is a ConfigMap in a namespace of the local API server.

One ansible-playbook per shape; the first one starts with an untimed warm-up task (module payload
building). Per shape:

- createDC, connectDCs: the two tasks' durations (bench_timer callback), what a user waits for;
  connectDCs includes waiting for every DC's antidote_dc_count (refreshed every 10 s by Antidote)
  and the replication check (a marker written in each DC, read in every other);
- connect phases: antidote_connect's own account (result `seconds`): inspect, connect (the
  connectToDCs calls), dc_count (waiting for the gauges), replication (the marker check);
- replication: the slowest time, in that check, between a marker's write and its read elsewhere.

Parallel DCs should cost about one DC's time: the report divides the 8-DC connectDCs by the 2-DC one.
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
from tests.servers.antidote import AntidoteNodes

# (label, DCs, nodes per DC)
SHAPES = (("1x1", 1, 1), ("2x1", 2, 1), ("4x1", 4, 1), ("8x1", 8, 1), ("1x3", 1, 3))
SIZES = tuple(dcs for _label, dcs, nodes in SHAPES if nodes == 1)
TIMEOUT = 300


def _dcs(nodes):
    return nodes.describe()["dcs"]


def _tasks(label, nodes, namespace, result_file):
    dcs = _dcs(nodes)
    create = {"name": "createDC " + label, "stateful.datastores.antidote_dc": {
        "timeout": TIMEOUT,
        "dcs": [{"name": dc["name"], "endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["pb_port"]),
                 "nodes": [node["name"] for node in dc["nodes"]]} for dc in dcs]}, "register": "created"}
    endpoints = [{"name": dc["name"], "endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["pb_port"]),
                  "metrics_endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["metrics_port"])} for dc in dcs]
    connect = {"name": "connectDCs " + label, "register": "connected", "when": len(dcs) > 1,
               "stateful.datastores.antidote_connect": {"timeout": TIMEOUT, "namespace": namespace, "dcs": endpoints,
                                                        "record_configmap": "bench-links-" + label.lower()}}
    keep = {"name": "keep the results " + label, "ansible.builtin.copy": {
        "dest": str(result_file), "mode": "0600",
        "content": "{{ {'created': created, 'connected': connected} | to_json }}"}}
    return [create, connect, keep]


def _warmup(nodes):
    dc = _dcs(nodes)[0]
    return {"name": "warm-up", "stateful.datastores.antidote_dc": {
        "timeout": TIMEOUT, "dcs": [{"name": dc["name"], "endpoint": "127.0.0.1:{}".format(dc["nodes"][0]["pb_port"]),
                                     "nodes": [dc["nodes"][0]["name"]]}]}}


def _task_seconds(timings, name):
    start, end = task_window(timings, name)
    return end - start


def measure_shape(label, dcs, nodes_per_dc, namespace, warmup=False):
    """One playbook against fresh nodes: {create_dc_s, connect_dcs_s, total_s, replication_s, memory_mb}."""
    with AntidoteNodes(dcs=dcs, nodes=nodes_per_dc) as nodes, \
            tempfile.TemporaryDirectory(prefix="bench-antidote-") as scratch:
        scratch = pathlib.Path(scratch)
        playbook, timer_file, result_file = scratch / "scaling.yml", scratch / "timer.json", scratch / "result.json"
        tasks = ([_warmup(nodes)] if warmup else []) + _tasks(label, nodes, namespace, result_file)
        playbook.write_text(json.dumps([{"name": "createDC and connectDCs, " + label, "hosts": "localhost",
                                         "gather_facts": False, "tasks": tasks}]))
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c",
                   "local", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
        completed = subprocess.run(command, capture_output=True, text=True, cwd=str(REPO), timeout=3 * TIMEOUT,
                                   env=ansible_env(timer_env(timer_file)), check=False)
        if completed.returncode != 0:
            raise RuntimeError("the Antidote scaling playbook ({}) failed:\n{}\n{}".format(
                label, completed.stdout[-4000:], completed.stderr[-2000:]))
        timings = json.loads(timer_file.read_text())
        outcome = json.loads(result_file.read_text())
        memory_mb = nodes.rss_bytes() / 1e6
    seconds = [_task_seconds(timings, "createDC " + label),
               _task_seconds(timings, "connectDCs " + label) if dcs > 1 else 0.0]
    replication = (outcome["connected"].get("replication") or {}).get("max_seconds")
    phases = outcome["connected"].get("seconds") or {}
    created = outcome["created"]["dcs"]
    return {"create_dc_s": round(seconds[0], 3), "connect_dcs_s": round(seconds[1], 3),
            "total_s": round(sum(seconds), 3), "replication_s": replication, "memory_mb": round(memory_mb),
            "connect_phases_s": phases,
            "members": [dc["members"] for dc in created], "create_dc_sent": sum(1 for dc in created if dc["attempts"])}


def run(runs):
    """{label: [per-run result]}, in a namespace of its own (for the connection records), deleted afterwards."""
    namespace = "bench-antidote-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", namespace)
    samples = dict((label, []) for label, _dcs, _nodes in SHAPES)
    try:
        for index in range(runs):
            for position, (label, dcs, nodes_per_dc) in enumerate(SHAPES):
                samples[label].append(measure_shape(label, dcs, nodes_per_dc, namespace,
                                                    warmup=index == 0 and position == 0))
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return samples


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1), indent=1))
