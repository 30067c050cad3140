# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: every measurement side by side with its baseline in one run, on localkube.

    python -m benchmarks.run [--runs 3] [--scaling-runs 3] [--only site|wait|antidote|real ...]

site: (a) site.yml from empty, (b) its no-op re-run, (c) benchmarks/baseline.yml (the same
manifests, one kubernetes.core.k8s task per object with wait: true) from empty and re-run, and
(f) CPU time and peak memory of those runs, (g) site.yml on real nodes beside its critical path. wait: (d) readiness detection latency, wait_ready
against kubernetes.core's polling wait. antidote: (e) createDC + connectDCs on real Antidote, 1-8 DCs and a 3-node DC.
Writes benchmarks/results/bench.md, bench.json and bench.png, and prints the table.
"""
import argparse
import datetime
import os
import pathlib
import platform
import re
import subprocess
import sys
import time
import uuid

from benchmarks import antidote_scaling, realnodes_bench, reliability, report, site_bench, wait_latency
from tests.helpers.cluster import kubectl

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
NO_OP_TARGET = 3.0
READY_TARGET_S = 1.0
SCALING_TARGET = 2.0
SITE_KEYS = ("site_converge", "site_rerun", "baseline_converge", "baseline_rerun")
FAILURES = []  # every failed attempt of every scenario: reported under the table
INCOMPLETE = []  # scenarios with fewer complete runs than asked for: make bench fails


def _headline(error):
    """The line of a failure that says what went wrong."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\[ERROR\]|msg:|Error|error:", line):
            return line[:300]
    return lines[0][:300] if lines else "?"


def log(message):
    print("bench: [{}] {}".format(time.strftime("%H:%M:%S"), message), flush=True)


def _met(condition):
    return "yes" if condition else "no"


def _pick(samples, key):
    return [sample[key] for sample in samples]


def _portion(samples, *keys):
    return [sum(sample["portions_s"][key] for key in keys) for sample in samples]


# ------------------------------------------------------------------ (a), (b), (c), (f)

def bench_site(args):
    raw = site_bench.run(args.runs, log)
    FAILURES.extend(raw["failures"])
    if len(raw["site_converge"]) < args.runs:
        INCOMPLETE.append("site/baseline: {} of {} runs complete".format(len(raw["site_converge"]), args.runs))
    ours_c, ours_r = raw["site_converge"], raw["site_rerun"]
    base_c, base_r = raw["baseline_converge"], raw["baseline_rerun"]
    s = report.summarize
    whole = {"site_converge": s(_pick(ours_c, "wall_s")), "site_rerun": s(_pick(ours_r, "wall_s")),
             "baseline_converge": s(_pick(base_c, "wall_s")), "baseline_rerun": s(_pick(base_r, "wall_s"))}
    apply_wait = {"site_converge": s(_portion(ours_c, "apply", "wait")),
                  "site_rerun": s(_portion(ours_r, "apply", "wait")),
                  "baseline_converge": s(_portion(base_c, "apply", "wait")),
                  "baseline_rerun": s(_portion(base_r, "apply", "wait"))}
    cpu = dict((key, s(_pick(raw[key], "cpu_s"))) for key in SITE_KEYS)
    rss = dict((key, s(_pick(raw[key], "peak_tree_rss_mb"))) for key in SITE_KEYS)
    pss = dict((key, s(_pick(raw[key], "peak_tree_pss_mb"))) for key in SITE_KEYS)
    no_op_ratio = report.ratio(whole["baseline_rerun"], whole["site_rerun"])
    rerun_changed = sorted(set(_pick(ours_r, "changed")))
    rows = [
        {"name": "(a) vs (c) converge from empty, whole playbook run [1]", "ours": report.cell(whole["site_converge"]),
         "baseline": report.cell(whole["baseline_converge"]),
         "ratio": report.ratio(whole["baseline_converge"], whole["site_converge"]), "target": "-", "met": "-"},
        {"name": "(a) vs (c) converge from empty, apply+wait tasks only [2]",
         "ours": report.cell(apply_wait["site_converge"]), "baseline": report.cell(apply_wait["baseline_converge"]),
         "ratio": report.ratio(apply_wait["baseline_converge"], apply_wait["site_converge"]), "target": "-",
         "met": "-"},
        {"name": "(b) vs (c) no-op re-run, whole playbook run (ours changed={}) [1]".format(
            ",".join(str(c) for c in rerun_changed)),
         "ours": report.cell(whole["site_rerun"]), "baseline": report.cell(whole["baseline_rerun"]),
         "ratio": no_op_ratio, "target": ">= {:g}x faster".format(NO_OP_TARGET),
         "met": _met(no_op_ratio is not None and no_op_ratio >= NO_OP_TARGET)},
        {"name": "(b) vs (c) no-op re-run, apply+wait tasks only [2]", "ours": report.cell(apply_wait["site_rerun"]),
         "baseline": report.cell(apply_wait["baseline_rerun"]),
         "ratio": report.ratio(apply_wait["baseline_rerun"], apply_wait["site_rerun"]), "target": "-", "met": "-"},
    ]
    for label, ours_key, base_key in (("converge", "site_converge", "baseline_converge"),
                                      ("no-op re-run", "site_rerun", "baseline_rerun")):
        rows.append({"name": "(f) CPU time (user+sys) of the ansible-playbook process tree, {} [3]".format(label),
                     "ours": report.cell(cpu[ours_key], digits=1), "baseline": report.cell(cpu[base_key], digits=1),
                     "ratio": report.ratio(cpu[base_key], cpu[ours_key]), "target": "-", "met": "-"})
    for label, ours_key, base_key in (("converge", "site_converge", "baseline_converge"),
                                      ("no-op re-run", "site_rerun", "baseline_rerun")):
        rows.append({"name": "(f) peak memory, RSS summed over the process tree, {} [3]".format(label),
                     "ours": report.cell(rss[ours_key], "MB", 0), "baseline": report.cell(rss[base_key], "MB", 0),
                     "ratio": report.ratio(rss[base_key], rss[ours_key]), "target": "-", "met": "-"})
    data = {"site": {"raw": raw, "whole_run_s": whole, "apply_wait_s": apply_wait, "cpu_s": cpu,
                     "peak_tree_rss_mb": rss, "peak_tree_pss_mb": pss}}
    bars = {}
    for group, phase in (("converge from empty", "converge"), ("no-op re-run", "rerun")) if ours_c and base_c else ():
        bars[group] = {"baseline.yml, whole run": whole["baseline_" + phase]["median"],
                       "baseline.yml, apply+wait tasks": apply_wait["baseline_" + phase]["median"],
                       "site.yml, whole run": whole["site_" + phase]["median"],
                       "site.yml, apply+wait tasks": apply_wait["site_" + phase]["median"]}
    return data, rows, {"bars": bars}


# ------------------------------------------------------------------ (d)

def bench_wait_latency(args):
    namespace = "bench-wait-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", namespace)
    try:
        samples = wait_latency.run(namespace, args.runs)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    ours, baseline = report.summarize(samples["wait_ready"]), report.summarize(samples["kubernetes.core"])
    row = {"name": "(d) readiness detected after the Deployment became ready [4]", "ours": report.cell(ours),
           "baseline": report.cell(baseline), "ratio": report.ratio(baseline, ours),
           "target": "ours <= {:g} s in every run (baseline polls every 5 s)".format(READY_TARGET_S),
           "met": _met(ours["max"] <= READY_TARGET_S)}
    return {"wait_latency_s": {"wait_ready": ours, "kubernetes.core": baseline}}, [row], {}


# ------------------------------------------------------------------ (e)

def bench_antidote(args):
    converge, failures = site_bench.run_antidote_converge(args.runs, log)
    FAILURES.extend(failures)
    if len(converge) < args.runs:
        INCOMPLETE.append("Antidote converge: {} of {} runs complete".format(len(converge), args.runs))
    converge_whole = report.summarize(_pick(converge, "wall_s"))
    converge_admin = report.summarize(_portion(converge, "admin"))
    samples = antidote_scaling.run(args.scaling_runs)
    labels = [label for label, _dcs, _nodes in antidote_scaling.SHAPES]
    keys = ("create_dc_s", "connect_dcs_s", "total_s")
    summary = {}
    for label in labels:
        summary[label] = dict((key, report.summarize(_pick(samples[label], key))) for key in keys)
        summary[label]["memory_mb"] = max(_pick(samples[label], "memory_mb"))
        replication = [value for value in _pick(samples[label], "replication_s") if value is not None]
        summary[label]["replication_s"] = report.summarize(replication) if replication else None
        for phase in ("connect", "dc_count", "replication"):
            values = [run["connect_phases_s"].get(phase) for run in samples[label] if run["connect_phases_s"]]
            summary[label][phase + "_phase_s"] = report.summarize(values) if values and None not in values else None
    shape = {"dcs": site_bench.ANTIDOTE_DCS, "nodes": site_bench.ANTIDOTE_NODES}
    converge_name = ("(e) site.yml with Antidote only, {dcs} DCs x {nodes} nodes, converge from empty: whole run; "
                     "createDC + connectDCs tasks (issue 4) [6]").format(**shape)
    rows = [{"name": converge_name,
             "ours": "{}; {}".format(report.cell(converge_whole), report.cell(converge_admin)), "baseline": "-",
             "ratio": None, "target": "-", "met": "-"}]
    for label, dcs, nodes in antidote_scaling.SHAPES:
        info = summary[label]
        phases = "; ".join("{} {}".format(phase, report.cell(info[phase + "_phase_s"]))
                           for phase in ("connect", "dc_count", "replication") if info[phase + "_phase_s"])
        name = "(e) real Antidote, {} DC{} x {} node{}: createDC; connectDCs{} [5]".format(
            dcs, "s" if dcs > 1 else "", nodes, "s" if nodes > 1 else "", " (of which " + phases + ")" if phases else "")
        rows.append({"name": name,
                     "ours": "{}; {}".format(report.cell(info["create_dc_s"]), report.cell(info["connect_dcs_s"])),
                     "baseline": "-", "ratio": None, "target": "-", "met": "-"})
    for key, what in (("connect_dcs_s", "connectDCs"), ("connect_phase_s", "connectToDCs calls")):
        two, eight = summary["2x1"][key], summary["8x1"][key]
        if not two or not eight:
            continue
        factor = round(eight["median"] / two["median"], 2)
        rows.append({"name": "(e) {what} of 8 DCs / {what} of 2 DCs (parallel DCs: about 1x)".format(what=what),
                     "ours": "{}x".format(factor), "baseline": "-", "ratio": None, "target": "issue 4: about 2x at most",
                     "met": _met(factor <= SCALING_TARGET)})
    sizes = list(antidote_scaling.SIZES)
    one_node = ["{}x1".format(n) for n in sizes]
    curves = {
        "task time, createDC + connectDCs": (sizes, [summary[label]["total_s"]["median"] for label in one_node], "o-"),
        "task time, connectDCs": (sizes, [summary[label]["connect_dcs_s"]["median"] for label in one_node], "^--"),
        "target: 2x connectDCs of 2 DCs": ([1, sizes[-1]], [2 * summary["2x1"]["connect_dcs_s"]["median"]] * 2, "r-."),
    }
    data = {"antidote_converge": {"dcs": site_bench.ANTIDOTE_DCS, "nodes_per_dc": site_bench.ANTIDOTE_NODES,
                                  "whole_run_s": converge_whole, "admin_tasks_s": converge_admin, "raw": converge},
            "antidote_scaling": {"backend": "real AntidoteDB 0.2.2 on loopback",
                                 "summary": summary, "raw": samples}}
    return data, rows, {"curves": curves}


# ------------------------------------------------------------------ (g)

def bench_real_nodes(args):
    samples, failures = realnodes_bench.run(args.runs, log)
    FAILURES.extend(failures)
    if len(samples) < args.runs:
        INCOMPLETE.append("real nodes: {} of {} runs complete".format(len(samples), args.runs))
    s = report.summarize
    converge, rerun = s(_pick(samples, "converge_s")), s(_pick(samples, "rerun_s"))
    critical = s(_pick(samples, "critical_path_s"))
    overhead = s([x["converge_s"] / x["critical_path_s"] for x in samples])
    rows = [{"name": "(g) real nodes: site.yml from empty (inventories/local_real) vs its critical path [7]",
             "ours": report.cell(converge), "baseline": "critical path " + report.cell(critical),
             "ratio": report.ratio(critical, converge), "target": "-", "met": "-"},
            {"name": "(g) real nodes: whole run / critical path (orchestration overhead factor)",
             "ours": report.cell(overhead, unit="x"), "baseline": "-", "ratio": None, "target": "-", "met": "-"},
            {"name": "(g) real nodes: site.yml no-op re-run (changed=0)", "ours": report.cell(rerun),
             "baseline": "-", "ratio": None, "target": "-", "met": "-"}]
    return {"real_nodes": {"converge_s": converge, "rerun_s": rerun, "critical_path_s": critical,
                           "overhead": overhead, "raw": samples}}, rows, {}


SCENARIOS = {"site": bench_site, "wait": bench_wait_latency, "antidote": bench_antidote, "real": bench_real_nodes}
# "real" replaces the test profile's simulated nodes with real ones: it comes last.
ORDER = ("site", "wait", "antidote", "real")

NOTES = [
    "[1] Whole ansible-playbook runs (start-up included). site.yml also validates its input, creates the "
    "Antidote cookie Secret, runs the admin steps (createDC, connectDCs, the Hazelcast member check, the "
    "Atomix status read-back) and prints a report; baseline.yml only renders the same manifests with the "
    "roles' templates and applies them: it does none of the admin steps.",
    "[2] Sum of the durations of the tasks that apply or wait (site.yml: its k8s_apply tasks, which apply "
    "and wait in one call, namespace and Secret included, and wait_ready tasks; baseline.yml: the per-object "
    "kubernetes.core.k8s loop with wait: true), from the bench_timer callback. kubernetes.core's wait checks "
    "workloads' replicas and, here, CRDs' Established condition; for Services, PersistentVolumes and custom "
    "resources it only waits for the object to exist, while wait_ready also waits for Service endpoints and "
    "for the Atomix custom resources' status.",
    "[3] CPU: wait4() rusage of ansible-playbook, which includes every module process it waited for. "
    "Memory: RSS of every process of the tree summed, sampled every 0.2 s, peak (pages shared between forks "
    "count once per process; the JSON also has the PSS sum). The backends (Hazelcast JVMs, AntidoteDB nodes, "
    "Atomix controllers) are not part of the tree.",
    "[4] From an independent watch in the bench process seeing the Deployment ready to Ansible receiving "
    "the wait task's result; the waiters were already waiting when the Deployment was changed.",
    "[5] Two Ansible tasks (antidote_dc, antidote_connect) reaching real AntidoteDB 0.2.2 nodes "
    "(tests/servers/antidote, fresh per shape) at direct 127.0.0.1 endpoints (no port-forward). Task times "
    "include Ansible's fixed cost of starting a module (about a second each). A one-node DC needs no createDC; "
    "connectDCs includes waiting for antidote_dc_count (Antidote refreshes it every 10 s) and the replication "
    "check; the phases are antidote_connect's own result `seconds`.",
    "[6] The antidote role as site.yml runs it (with the StorageClass step), against the backends' real "
    "Antidote nodes through the API server's port-forward; the second number is the "
    "antidote_dc and antidote_connect tasks alone.",
    "[7] site.yml with inventories/local_real on localkube's real nodes: every system of the inventory "
    "(Antidote 2 DCs x 2 nodes, Elasticsearch 2.4.6 x 3 with loklak, Hazelcast x 3, Atomix v1 with 3 Raft "
    "nodes), in fresh namespaces on fresh local volumes per run. Critical path: each pod's own start "
    "(PodScheduled to Ready, whole seconds, image already on the node), summed along OrderedReady "
    "StatefulSets and the slowest of Parallel ones, per system, summed over the systems (site.yml deploys "
    "them one after another), plus the admin tasks (hazelcast_cluster, antidote_dc/connect, "
    "elasticsearch_health, loklak_verify). The ratio column is critical path / whole run: 1.0 would mean no "
    "orchestration overhead at all.",
    "Fresh namespaces, StorageClass and PersistentVolumes per from-empty run, deleted afterwards; the Atomix "
    "CRDs are cluster-wide and shared with other users of the cluster, so they stay installed (after the "
    "cluster's first run their apply is a no-op for both playbooks). Other users may remove them or install "
    "the other Atomix generation meanwhile: the bench then waits, and a run that fails is tried again.",
]


def environment():
    ansible = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible"), "--version"],
                             capture_output=True, text=True, check=False).stdout.splitlines()
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
            "load_average_start": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "ansible": ansible[0] if ansible else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each site, baseline and wait measurement")
    parser.add_argument("--scaling-runs", type=int, default=None,
                        help="runs of the Antidote scaling playbook (default: --runs)")
    parser.add_argument("--only", choices=ORDER, action="append", help="run only these scenarios")
    args = parser.parse_args()
    args.scaling_runs = args.scaling_runs or args.runs
    RESULTS.mkdir(exist_ok=True)
    started = time.monotonic()
    data, rows, figures = {"environment": environment(), "runs": args.runs, "scaling_runs": args.scaling_runs}, [], {}
    for name in [n for n in ORDER if n in (args.only or ORDER)]:
        log("{} ...".format(name))
        try:
            scenario_data, scenario_rows, scenario_figures = SCENARIOS[name](args)
        except Exception as error:  # pylint: disable=broad-except  # the other scenarios still run; reported
            FAILURES.append({"what": "scenario " + name, "attempt": 1, "error": "{}: {}".format(
                type(error).__name__, error)[:4000]})
            log("scenario {} failed: {}".format(name, error))
            INCOMPLETE.append("scenario {} failed".format(name))
            continue
        data.update(scenario_data)
        rows.extend(scenario_rows)
        figures.update(scenario_figures)
    data["environment"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    data["environment"]["bench_seconds"] = round(time.monotonic() - started, 1)
    data["rows"] = rows
    data["failures"] = FAILURES
    env = data["environment"]
    header = ("`make bench` {date}: {cpus} CPUs, load average {start} at the start and {end} at the end, "
              "{runs} runs each ({scaling} for (e)), {secs:.0f} s in all. {ansible}.").format(
                  date=env["date"], cpus=env["cpus"], start=env["load_average_start"][0],
                  end=env["load_average_end"][0], runs=args.runs, scaling=args.scaling_runs,
                  secs=env["bench_seconds"], ansible=env["ansible"])
    notes = list(NOTES)
    if FAILURES:
        notes.append("Failed attempts, not in the numbers (a failed run is tried once more; details in "
                     "bench.json): " + "; ".join("{} attempt {}: {}".format(f["what"], f["attempt"], _headline(
                         f["error"])) for f in FAILURES))
    table = report.markdown(rows, notes) + "\n\n" + reliability.section(reliability.load())
    (RESULTS / "bench.md").write_text(header + "\n\n" + table + "\n")
    report.write_json(str(RESULTS / "bench.json"), data)
    written = ["bench.md", "bench.json"]
    if "curves" in figures or "bars" in figures:
        title = "make bench {}: {} CPUs, load average {} -> {}, {} runs ({} for the scaling curves)".format(
            env["date"], env["cpus"], env["load_average_start"][0], env["load_average_end"][0], args.runs,
            args.scaling_runs)
        report.plot(str(RESULTS / "bench.png"), figures.get("curves", {}), figures.get("bars", {}), title)
        written.append("bench.png")
    print()
    print(header)
    print()
    print(table)
    log("wrote {}".format(", ".join(str(RESULTS / name) for name in written)))
    if FAILURES:
        log("{} failed attempt(s); see the notes under the table".format(len(FAILURES)))
    if INCOMPLETE:
        log("incomplete: {}".format("; ".join(INCOMPLETE)))
        sys.exit(1)


if __name__ == "__main__":
    main()
