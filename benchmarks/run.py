# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: every measurement side by side with its baseline in one run, on localkube."""
import argparse
import pathlib
import uuid

from benchmarks import report, wait_latency
from tests.helpers.cluster import kubectl

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def bench_wait_latency(runs):
    namespace = "bench-wait-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", namespace)
    try:
        samples = wait_latency.run(namespace, runs)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    ours, baseline = report.summarize(samples["wait_ready"]), report.summarize(samples["kubernetes.core"])
    row = {"name": "(d) readiness detected after the Deployment is ready", "ours": round(ours["median"], 2),
           "baseline": round(baseline["median"], 2), "ratio": report.ratio(baseline, ours),
           "target": "ours <= 1 s", "met": "yes" if ours["median"] <= 1.0 else "no"}
    return {"wait_latency": {"wait_ready": ours, "kubernetes.core": baseline}}, [row]


SCENARIOS = {"wait": bench_wait_latency}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    data, rows = {}, []
    for name in args.only or sorted(SCENARIOS):
        print("bench: {} ({} runs) ...".format(name, args.runs), flush=True)
        scenario_data, scenario_rows = SCENARIOS[name](args.runs)
        data.update(scenario_data)
        rows.extend(scenario_rows)
    table = report.markdown(rows)
    (RESULTS / "bench.md").write_text(table + "\n")
    report.write_json(str(RESULTS / "bench.json"), data)
    print(table)
    print("bench: wrote {}".format(", ".join(str(RESULTS / n) for n in ("bench.md", "bench.json"))))


if __name__ == "__main__":
    main()
