# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the hazelcast role checks before its first write, each proven by a cluster left unchanged.

No Hazelcast member is needed: every case fails before anything is applied.
"""
import json
import pathlib

import pytest
import yaml

from tests.helpers.ansible import REPO, run_playbook_json
from tests.helpers.cluster import kubeconfig_path, kubectl
from tests.helpers.ports import free_port
from tests.helpers.snapshot import cluster_snapshot, differences

pytestmark = [pytest.mark.localkube]

NAME = "hz"
PLAYBOOK = REPO / "playbooks" / "hazelcast.yml"
PREFLIGHT_TASK = "Check the connection, the namespace and the workload kind before writing"


def role(namespace, env=None, **variables):
    values = {"hazelcast_name": NAME, "hazelcast_namespace": namespace, "hazelcast_timeout": 30}
    values.update(variables)
    return run_playbook_json(PLAYBOOK, values, env=env, timeout=300)


def existing_workload(namespace, kind):
    """A workload named as the role names it, as an earlier run with the other kind left it."""
    labels = {"app.kubernetes.io/name": "hazelcast", "app.kubernetes.io/instance": NAME}
    spec = {"replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "hazelcast", "image": "docker.io/hazelcast/hazelcast:5.7.0"}]}}}
    if kind == "StatefulSet":
        spec["serviceName"] = NAME + "-members"
    workload = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": NAME, "namespace": namespace}, "spec": spec}
    kubectl("apply", "-f", "-", stdin=json.dumps(workload))


def failed_before_writing(run, before):
    assert run.failed, run
    assert run.result(PREFLIGHT_TASK).get("failed"), run
    assert differences(before, cluster_snapshot()) == []
    return run.result(PREFLIGHT_TASK)["msg"]


@pytest.mark.parametrize("existing,wanted", [("StatefulSet", "Deployment"), ("Deployment", "StatefulSet")])
def test_switching_the_workload_kind_is_refused_before_any_write(namespace, existing, wanted):
    existing_workload(namespace, existing)
    before = cluster_snapshot()
    message = failed_before_writing(role(namespace, hazelcast_workload_kind=wanted), before)
    assert "hazelcast_workload_kind" in message and "Nothing was changed" in message
    assert "kubectl delete {} {} -n {}".format(existing.lower(), NAME, namespace) in message
    assert "hazelcast_workload_kind: {}".format(existing) in message


def test_missing_namespace_without_creation_names_both_variables():
    missing = "t-hz-no-such-namespace"
    before = cluster_snapshot()
    message = failed_before_writing(role(missing, hazelcast_create_namespace=False), before)
    assert "namespace {} (hazelcast_namespace) does not exist".format(missing) in message
    assert "hazelcast_create_namespace" in message


def kubeconfig_copy(tmp_path, server=None, token=None):
    config = yaml.safe_load(pathlib.Path(kubeconfig_path()).read_text())
    if server:
        config["clusters"][0]["cluster"]["server"] = server
    if token:
        user = config["users"][0]["user"]
        for key in ("client-certificate", "client-certificate-data", "client-key", "client-key-data"):
            user.pop(key, None)
        user["token"] = token
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_unreachable_api_server_says_connection_refused_and_names_the_variable(tmp_path):
    kubeconfig = kubeconfig_copy(tmp_path, server="https://127.0.0.1:{}".format(free_port()))
    before = cluster_snapshot()
    run = role("t-hz-unreachable", hazelcast_kubeconfig=kubeconfig)
    message = failed_before_writing(run, before)
    assert "connection refused" in message and "hazelcast_kubeconfig" in message
    assert "Traceback" not in run.stdout + run.stderr


def test_missing_kubeconfig_file_names_the_variable(tmp_path):
    before = cluster_snapshot()
    run = role("t-hz-no-kubeconfig", hazelcast_kubeconfig=str(tmp_path / "absent"))
    message = failed_before_writing(run, before)
    assert "hazelcast_kubeconfig" in message and str(tmp_path / "absent") in message


def test_rejected_token_says_401_without_headers_or_traceback(tmp_path):
    secret = "not-a-valid-token-5f1c"
    kubeconfig = kubeconfig_copy(tmp_path, token=secret)
    before = cluster_snapshot()
    run = role("t-hz-bad-token", hazelcast_kubeconfig=kubeconfig)
    message = failed_before_writing(run, before)
    assert "401 Unauthorized" in message and "hazelcast_kubeconfig" in message
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "Audit-Id" not in output and "HTTP response headers" not in output
    assert secret not in output
