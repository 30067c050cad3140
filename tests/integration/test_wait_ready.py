# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_ready against the real API server: many objects, one deadline, failing fast with reasons."""
import time

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.cluster import apply, kubectl

pytestmark = pytest.mark.localkube


def deployment(namespace, name, replicas=2, labels=None):
    pod_labels = {"app": name}
    pod_labels.update(labels or {})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": pod_labels},
                                  "spec": {"containers": [{"name": "main", "image": "registry.invalid/" + name}]}}}}


def service(namespace, name):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def statefulset(namespace, name, replicas=3):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "registry.invalid/" + name}]}}}}


def wait(namespace, objects, timeout=60, check=False, **extra):
    args = {"namespace": namespace, "timeout": timeout, "objects": objects}
    args.update(extra)
    return run_module("stateful.datastores.wait_ready", args, check=check)


def test_many_objects_ready_together(namespace):
    for manifest in (deployment(namespace, "web"), service(namespace, "web"), statefulset(namespace, "db")):
        apply(manifest)
    rc, result = wait(namespace, [{"kind": "Deployment", "name": "web"}, {"kind": "Service", "name": "web"},
                                  {"kind": "StatefulSet", "name": "db"},
                                  {"kind": "Pod", "label_selectors": ["app=db"]}])
    assert rc == 0, result
    assert result["changed"] is False and result["ready"] is True
    assert [o["state"] for o in result["objects"]] == ["ready"] * 4, result["objects"]
    last_ready = max(o["ready_after"] for o in result["objects"])
    assert result["elapsed"] - last_ready < 1.0, result


def test_returns_within_a_second_of_the_last_object_becoming_ready(namespace):
    apply(statefulset(namespace, "late", replicas=0))
    kubectl("scale", "statefulset/late", "-n", namespace, "--replicas=3")
    started = time.monotonic()
    rc, result = wait(namespace, [{"kind": "StatefulSet", "name": "late"}])
    assert rc == 0, result
    ready_after = result["objects"][0]["ready_after"]
    assert result["elapsed"] - ready_after < 1.0, result
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("failure", ["CrashLoopBackOff", "ImagePullBackOff", "CreateContainerConfigError"])
def test_failing_pods_fail_the_wait_fast_with_the_reason(namespace, failure):
    apply(deployment(namespace, "broken", replicas=1, labels={"localkube.io/fail": failure}))
    started = time.monotonic()
    rc, result = wait(namespace, [{"kind": "Deployment", "name": "broken"}], timeout=120)
    took = time.monotonic() - started
    assert rc != 0, result
    assert failure in result["msg"], result["msg"]
    assert "Deployment {}/broken".format(namespace) in result["msg"]
    assert "broken-" in result["msg"], "the failing pod is named"
    assert took < 10, "failed after {:.1f}s".format(took)
    assert result["objects"][0]["state"] == "failed"


def test_timeout_names_what_is_missing(namespace):
    apply(deployment(namespace, "stuck", replicas=2, labels={"localkube.io/fail": "NotReady"}))
    rc, result = wait(namespace, [{"kind": "Deployment", "name": "stuck"}, {"kind": "ConfigMap", "name": "absent"}],
                      timeout=3)
    assert rc != 0
    assert "not ready after 3s" in result["msg"]
    assert "Deployment {}/stuck".format(namespace) in result["msg"]
    assert "ConfigMap {}/absent".format(namespace) in result["msg"] and "does not exist" in result["msg"]


def test_check_mode_reports_without_waiting(namespace):
    rc, result = wait(namespace, [{"kind": "ConfigMap", "name": "later"}], timeout=60, check=True)
    assert rc == 0, result
    assert result["ready"] is False and result["objects"][0]["reason"] == "NotFound"
    assert result["elapsed"] < 5


def test_custom_resource_by_field_value(namespace):
    kubectl("create", "configmap", "flag", "-n", namespace, "--from-literal=state=Starting")
    flag_is_ready = [{"kind": "ConfigMap", "name": "flag", "field": {"path": "data.state", "value": "Ready"}}]
    rc, result = wait(namespace, flag_is_ready, timeout=2)
    assert rc != 0 and "data.state" in result["msg"], result
    kubectl("patch", "configmap", "flag", "-n", namespace, "-p", '{"data":{"state":"Ready"}}')
    rc, result = wait(namespace, flag_is_ready)
    assert rc == 0, result


def test_bad_input_names_the_option():
    rc, result = run_module("stateful.datastores.wait_ready", {"objects": [{"kind": "Deployment", "name": "x"}]})
    assert rc != 0 and "objects[0].namespace" in result["msg"], result
    rc, result = run_module("stateful.datastores.wait_ready", {"objects": [{"kind": "Widget", "name": "x"}]})
    assert rc != 0 and "api_version" in result["msg"], result


def test_replace_stuck_pods_rolls_out_a_template_fixed_after_its_first_pod_failed(namespace):
    """The real StatefulSet controller never replaces a crashing pod of an older revision (OrderedReady)."""
    broken = statefulset(namespace, "raft", replicas=2)
    broken["spec"]["template"]["metadata"]["labels"]["localkube.io/fail"] = "CrashLoopBackOff"
    apply(broken)
    rc, result = wait(namespace, [{"kind": "StatefulSet", "name": "raft"}], timeout=30)
    assert rc != 0 and "CrashLoopBackOff" in result["msg"] and "raft-0" in result["msg"], result
    apply(statefulset(namespace, "raft", replicas=2))

    rc, result = wait(namespace, [{"kind": "StatefulSet", "name": "raft"}], timeout=5)
    assert rc != 0 and "kubectl delete pod -n {} raft-0".format(namespace) in result["msg"], result["msg"]

    rc, result = wait(namespace, [{"kind": "StatefulSet", "name": "raft", "replace_stuck_pods": True}], timeout=60)
    assert rc == 0, result["msg"]
    assert result["objects"][0]["replaced_pods"] == ["raft-0"]
    revision = kubectl("get", "statefulset", "raft", "-n", namespace, "-o", "jsonpath={.status.updateRevision}").stdout
    pods = kubectl("get", "pods", "-n", namespace, "-l", "app=raft", "-o",
                   "jsonpath={.items[*].metadata.labels.controller-revision-hash}").stdout.split()
    assert pods == [revision, revision]

    rc, again = wait(namespace, [{"kind": "StatefulSet", "name": "raft", "replace_stuck_pods": True}], timeout=10)
    assert rc == 0 and again["objects"][0]["replaced_pods"] == [], again
