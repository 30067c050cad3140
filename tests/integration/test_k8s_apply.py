# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_apply against the real API server: created, unchanged, updated, dry runs, waiting, errors."""
import json
import uuid

import pytest

from tests.helpers.ansible import run_module
from tests.helpers.cluster import kubectl

pytestmark = pytest.mark.localkube

SECRET_VALUE = "s3cr3t-" + uuid.uuid4().hex


def manifests(namespace, replicas=2, color="blue"):
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"color": color}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "password"}, "stringData": {"value": SECRET_VALUE}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "main", "image": "registry.invalid/web"}]}}}},
    ]


def apply(namespace, definition, check=False, **extra):
    args = {"namespace": namespace, "definition": definition}
    args.update(extra)
    return run_module("stateful.datastores.k8s_apply", args, check=check)


def results(result):
    return {entry["kind"]: entry["result"] for entry in result["resources"]}


def exists(kind, namespace, name):
    return kubectl("get", kind, name, "-n", namespace, "--ignore-not-found", "-o", "name").stdout.strip() != ""


@pytest.fixture
def fresh_namespace():
    name = "apply-" + uuid.uuid4().hex[:8]
    yield name
    kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")


def test_check_mode_into_a_new_namespace_creates_nothing(fresh_namespace):
    rc, result = apply(fresh_namespace, manifests(fresh_namespace), check=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert set(results(result).values()) == {"created"}
    assert kubectl("get", "namespace", fresh_namespace, "--ignore-not-found", "-o", "name").stdout.strip() == ""


def test_apply_then_no_op_then_update_then_wait(fresh_namespace):
    rc, first = apply(fresh_namespace, manifests(fresh_namespace))
    assert rc == 0, first
    assert first["changed"] is True and set(results(first).values()) == {"created"}
    assert exists("deployment", fresh_namespace, "web")

    rc, again = apply(fresh_namespace, manifests(fresh_namespace))
    assert rc == 0, again
    assert again["changed"] is False and set(results(again).values()) == {"unchanged"}, results(again)

    rc, dry = apply(fresh_namespace, manifests(fresh_namespace, color="green"), check=True)
    assert rc == 0, dry
    assert results(dry)["ConfigMap"] == "updated" and results(dry)["Deployment"] == "unchanged", results(dry)
    live = json.loads(kubectl("get", "configmap", "settings", "-n", fresh_namespace, "-o", "json").stdout)
    assert live["data"]["color"] == "blue", "check mode changed nothing"

    rc, scaled = apply(fresh_namespace, manifests(fresh_namespace, replicas=3, color="green"),
                       wait_for=[{"kind": "Deployment", "name": "web"}], wait_timeout=60)
    assert rc == 0, scaled
    assert results(scaled) == {"Namespace": "unchanged", "ConfigMap": "updated", "Secret": "unchanged",
                               "Deployment": "updated"}
    assert scaled["wait"]["ready"] is True
    assert scaled["wait"]["objects"][0]["state"] == "ready"


def test_secret_values_never_come_back(fresh_namespace):
    rc, result = apply(fresh_namespace, manifests(fresh_namespace))
    assert rc == 0, result
    secret = [entry["object"] for entry in result["resources"] if entry["kind"] == "Secret"][0]
    assert "data" not in secret and "stringData" not in secret
    returned = {key: value for key, value in result.items() if key != "invocation"}
    assert SECRET_VALUE not in json.dumps(returned), "only Ansible's echo of the task's own input has it"


def test_a_definition_without_a_name_fails_before_anything_is_sent(fresh_namespace):
    definition = manifests(fresh_namespace)
    del definition[3]["metadata"]["name"]
    rc, result = apply(fresh_namespace, definition)
    assert rc != 0
    assert result["msg"] == "definition[3] (Deployment) has no metadata.name"
    assert kubectl("get", "namespace", fresh_namespace, "--ignore-not-found", "-o", "name").stdout.strip() == ""


def test_a_failing_wait_fails_the_task_with_the_reason_and_reports_what_was_applied(fresh_namespace):
    definition = manifests(fresh_namespace, replicas=1)
    definition[3]["spec"]["template"]["metadata"]["labels"]["localkube.io/fail"] = "CrashLoopBackOff"
    rc, result = apply(fresh_namespace, definition, wait_for=[{"kind": "Deployment", "name": "web"}], wait_timeout=60)
    assert rc != 0
    assert "CrashLoopBackOff" in result["msg"]
    assert result["changed"] is True and len(result["resources"]) == 4


def test_an_unknown_kind_names_it(fresh_namespace):
    rc, result = apply(fresh_namespace, [{"apiVersion": "example.invalid/v1", "kind": "Widget",
                                          "metadata": {"name": "w"}}])
    assert rc != 0
    assert "Widget" in result["msg"] and "example.invalid/v1" in result["msg"], result["msg"]


@pytest.mark.fault
def test_create_only_writes_a_generated_secret_once_even_when_two_runs_race(namespace):
    """Two processes create the same Secret with different values at the same moment: one value wins, for good."""
    import base64
    from concurrent.futures import ThreadPoolExecutor

    def secret(value):
        return [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cookie"}, "stringData": {"cookie": value}}]

    values = ["first-" + uuid.uuid4().hex, "second-" + uuid.uuid4().hex]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda value: apply(namespace, secret(value), create_only=True), values))
    assert [rc for rc, _result in outcomes] == [0, 0], outcomes
    assert sorted(results(result)["Secret"] for _rc, result in outcomes) == ["created", "unchanged"]
    stored = kubectl("get", "secret", "cookie", "-n", namespace, "-o", "jsonpath={.data.cookie}").stdout
    winner = values[[results(result)["Secret"] for _rc, result in outcomes].index("created")]
    assert base64.b64decode(stored).decode() == winner

    rc, again = apply(namespace, secret("third"), create_only=True)
    assert rc == 0 and again["changed"] is False and results(again)["Secret"] == "unchanged", again
    assert kubectl("get", "secret", "cookie", "-n", namespace, "-o", "jsonpath={.data.cookie}").stdout == stored
    returned = json.dumps([result["resources"] for _rc, result in outcomes + [(rc, again)]])
    assert all(value not in returned for value in values + ["third"])
