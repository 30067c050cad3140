# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(a) site.yml from empty, (b) its no-op re-run, (c) baseline.yml from empty and re-run, (f) their CPU and memory.

Each playbook gets namespaces and a StorageClass (with its PersistentVolumes) of its own per run, so
that every "from empty" run starts without any object of its own; everything is deleted afterwards. Cluster-wide
objects shared with other users of the cluster (the Atomix CRDs) are left installed, so after the
very first run their apply is a no-op for both playbooks. site.yml runs with the backends
(tests/backends) answering the admin ports; the baseline does no admin steps and needs none, but
runs while they do, so that both see the same background load.
"""
import time
import uuid

from benchmarks.measure import run_playbook_measured
from tests.helpers.ansible import REPO
from tests.helpers.cluster import kubectl, kubectl_json

SYSTEMS = ["antidote", "hazelcast", "atomix"]
INVENTORY = REPO / "inventories" / "local"
SITE = REPO / "playbooks" / "site.yml"
BASELINE = REPO / "benchmarks" / "baseline.yml"


def fresh_overrides(prefix):
    suffix = prefix + uuid.uuid4().hex[:5]
    storage_class = "bench-" + suffix
    return {"datastores_systems": SYSTEMS, "antidote_namespace": "antidote-" + suffix,
            "hazelcast_namespace": "hazelcast-" + suffix, "atomix_namespace": "atomix-" + suffix,
            "storage_class_name": storage_class, "antidote_storage_class": storage_class,
            "atomix_storage_class": storage_class}


def clean_up(overrides):
    """Delete the run's namespaces, its PersistentVolumes, StorageClass and the Atomix cluster roles."""
    for key, namespace in sorted(overrides.items()):
        if key.endswith("_namespace"):
            kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)
    storage_class = overrides["storage_class_name"]
    volumes = [v["metadata"]["name"] for v in kubectl_json("get", "pv")["items"]
               if v["spec"].get("storageClassName") == storage_class]
    if volumes:
        kubectl("delete", "pv", "--wait=false", *volumes, check=False)
    kubectl("delete", "storageclass", storage_class, "--ignore-not-found", check=False)
    prefix = overrides["atomix_namespace"] + "-"
    for kind in ("clusterrolebinding", "clusterrole"):
        names = [o["metadata"]["name"] for o in kubectl_json("get", kind)["items"]
                 if o["metadata"]["name"].startswith(prefix)]
        if names:
            kubectl("delete", kind, *names, check=False)


def _checked(measured, what):
    if measured.run.rc != 0:
        output = measured.run.stderr + "\n" + measured.run.stdout
        reasons = [line.strip() for line in output.splitlines() if "[ERROR]" in line or line.strip().startswith("msg:")]
        raise RuntimeError("{} failed (rc={}): {}\n{!r}".format(
            what, measured.run.rc, reasons[0][:300] if reasons else "see below", measured.run))
    return measured


def _pair(playbook, overrides, what, log):
    """From empty, then the no-op re-run, in the namespaces of `overrides`."""
    log("{} from empty".format(what))
    converge = _checked(run_playbook_measured(playbook, overrides, inventory=INVENTORY), what + " from empty")
    log("{} no-op re-run".format(what))
    rerun = _checked(run_playbook_measured(playbook, overrides, inventory=INVENTORY), what + " re-run")
    return converge, rerun


ATTEMPTS = 2
OTHER_ATOMIX_GROUPS = ("cloud.atomix.io", "storage.cloud.atomix.io")


def wait_for_atomix_v1(log, timeout=900):
    """Wait while the shared cluster has CRDs of the other Atomix generation (another user's test):
    the atomix role rightly refuses to install 1.x next to them."""
    deadline = time.monotonic() + timeout
    said = False
    while True:
        others = [c["metadata"]["name"] for c in kubectl_json("get", "crd")["items"]
                  if c["spec"]["group"] in OTHER_ATOMIX_GROUPS and not c["metadata"].get("deletionTimestamp")]
        if not others:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the cluster still has CRDs of the other Atomix generation after {} s: {}".format(
                timeout, ", ".join(others)))
        if not said:
            log("waiting: someone else's cloud-v1beta2 Atomix CRDs are installed ({}), and site.yml installs "
                "Atomix 1.x, which the role refuses to mix with them".format(", ".join(others)))
            said = True
        time.sleep(10)


def attempts(what, failures, log, function, *args):
    """function(*args), tried ATTEMPTS times; each failure is recorded in `failures` and logged."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return function(*args)
        except RuntimeError as error:
            failures.append({"what": what, "attempt": attempt, "error": str(error)[:4000]})
            log("{} failed (attempt {}/{}): {}".format(what, attempt, ATTEMPTS, str(error).splitlines()[0]))
    return None


def _one_run(index, log):
    from tests.backends.serve import Backends

    wait_for_atomix_v1(log)
    ours, theirs = fresh_overrides("s"), fresh_overrides("b")
    backends = Backends(INVENTORY, SYSTEMS, ours)
    measured = {}
    try:
        backends.start()
        order = (("site", SITE, ours), ("baseline", BASELINE, theirs))
        for key, playbook, overrides in order if index % 2 == 0 else tuple(reversed(order)):
            measured[key + "_converge"], measured[key + "_rerun"] = _pair(playbook, overrides, playbook.name, log)
    finally:
        backends.stop()
        clean_up(ours)
        clean_up(theirs)
    return measured


def run(runs, log):
    """{"site_converge": [summary...], "site_rerun": [...], "baseline_converge": [...], "baseline_rerun": [...],
    "failures": [...]}

    In each run the backends for site.yml's namespaces are started first and run during both
    playbooks, so that both see the same background load; which playbook goes first alternates.
    A run whose playbook fails is recorded and tried once more; only complete runs are kept.
    """
    results = {"site_converge": [], "site_rerun": [], "baseline_converge": [], "baseline_rerun": [], "failures": []}
    for index in range(runs):
        log("run {}/{}".format(index + 1, runs))
        measured = attempts("site/baseline run {}".format(index + 1), results["failures"], log, _one_run, index, log)
        for key, value in (measured or {}).items():
            results[key].append(value.summary())
    return results


ANTIDOTE_DCS = 3
ANTIDOTE_NODES = 3


def _antidote_converge(index, runs, log):
    from tests.backends.serve import Backends

    overrides = fresh_overrides("a")
    overrides.update({"datastores_systems": ["antidote"], "antidote_replicas": ANTIDOTE_NODES,
                      "antidote_datacenters": [{"name": "dc{}".format(n + 1)} for n in range(ANTIDOTE_DCS)]})
    backends = Backends(INVENTORY, ["antidote"], overrides)
    try:
        backends.start()
        log("site.yml, Antidote only, {} DCs x {} nodes, from empty ({}/{})".format(
            ANTIDOTE_DCS, ANTIDOTE_NODES, index + 1, runs))
        return _checked(run_playbook_measured(SITE, overrides, inventory=INVENTORY),
                        "site.yml (Antidote, {} DCs) from empty".format(ANTIDOTE_DCS))
    finally:
        backends.stop()
        clean_up(overrides)


def run_antidote_converge(runs, log):
    """site.yml with only Antidote, ANTIDOTE_DCS DCs of ANTIDOTE_NODES nodes, from empty:
    ([summary per complete run], [failures])."""
    samples, failures = [], []
    for index in range(runs):
        measured = attempts("Antidote converge run {}".format(index + 1), failures, log, _antidote_converge,
                            index, runs, log)
        if measured:
            samples.append(measured.summary())
    return samples, failures
