# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(g) site.yml on real nodes (inventories/local_real), from empty and its no-op re-run, beside its critical path.

The critical path is what no orchestration can avoid: each pod's own start on its node (scheduled to Ready,
from the pod's conditions: image already on the node, sandbox, container, the server's own start-up and
probes), chained where the workload starts pods one after the other (StatefulSet OrderedReady) and the
slowest of them where it starts them together, plus the system's admin calls (the module tasks that talk to
the servers). site.yml's whole run divided by it is the orchestration's overhead factor."""
import datetime
import uuid

from benchmarks.measure import run_playbook_measured
from tests.helpers.ansible import REPO
from tests.helpers.cluster import kubectl, kubectl_json
from tests.realnodes.cluster import start_real_cluster
from tests.realnodes.volumes import LocalVolumes

INVENTORY = REPO / "inventories" / "local_real"
SITE = REPO / "playbooks" / "site.yml"
SYSTEMS = ("antidote", "loklak", "hazelcast", "atomix")
STORAGE_USERS = ("antidote", "elasticsearch", "loklak", "atomix")
ADMIN_ACTIONS = ("stateful.datastores.hazelcast_cluster", "stateful.datastores.antidote_dc",
                 "stateful.datastores.antidote_connect", "stateful.datastores.elasticsearch_health",
                 "stateful.datastores.loklak_verify")


def _time(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").timestamp()


def own_start(pod):
    conditions = {c["type"]: _time(c["lastTransitionTime"]) for c in pod["status"].get("conditions", [])}
    return conditions["Ready"] - conditions["PodScheduled"]


def pods_path(namespace):
    """Seconds of the pods' own starts along the workloads' critical path in `namespace`."""
    longest = 0.0
    for workload in kubectl_json("get", "statefulsets,deployments", "-n", namespace)["items"]:
        selector = ",".join("{}={}".format(k, v) for k, v in workload["spec"]["selector"]["matchLabels"].items())
        starts = [own_start(p) for p in kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]]
        ordered = workload["kind"] == "StatefulSet" and workload["spec"].get("podManagementPolicy") != "Parallel"
        longest = max(longest, sum(starts) if ordered else max(starts, default=0.0))
    return longest


def admin_seconds(timings):
    return sum((t["end"] or t["start"]) - t["start"] for t in timings.get("tasks", [])
               if t["action"] in ADMIN_ACTIONS and t["status"] != "skipped")


def one_run(log, settings):
    suffix = uuid.uuid4().hex[:5]
    # Every system of the inventory, in namespaces of this run, on local volumes of this profile's nodes (the
    # inventory's own volumes are the demo profile's).
    namespaces = dict((system + "_namespace", system + "-" + suffix) for system in SYSTEMS)
    namespaces["loklak_elasticsearch_namespace"] = "elasticsearch-" + suffix
    volumes = LocalVolumes(settings, per_node=5, size="5Gi")
    overrides = dict(namespaces, datastores_systems=list(SYSTEMS), datastores_storage_class=False,
                     **dict((system + "_storage_class", volumes.name) for system in STORAGE_USERS))
    try:
        log("real nodes: site.yml from empty")
        converge = run_playbook_measured(SITE, overrides, inventory=INVENTORY)
        if converge.run.rc != 0:
            raise RuntimeError("site.yml on real nodes failed: {!r}".format(converge.run))
        critical = sum(pods_path(namespace) for namespace in namespaces.values()) + admin_seconds(converge.timings)
        log("real nodes: site.yml no-op re-run")
        rerun = run_playbook_measured(SITE, overrides, inventory=INVENTORY)
        if rerun.run.rc != 0 or rerun.run.changed:
            raise RuntimeError("re-run on real nodes failed or changed something: {!r}".format(rerun.run))
        return {"converge_s": converge.wall, "rerun_s": rerun.wall, "critical_path_s": critical,
                "admin_s": admin_seconds(converge.timings)}
    finally:
        for namespace in namespaces.values():
            kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)
        volumes.remove()


def run(runs, log):
    log("real nodes: replacing the test profile's nodes with real ones")
    settings = start_real_cluster()
    samples, failures = [], []
    for index in range(runs):
        try:
            samples.append(one_run(log, settings))
        except RuntimeError as error:
            failures.append({"what": "real-node run {}".format(index + 1), "attempt": 1, "error": str(error)[:4000]})
            log(str(error).splitlines()[0])
    return samples, failures
