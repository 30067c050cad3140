# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module runner: one way to validate, run, fail with the partial result and the traceback, and check the client."""
import importlib.metadata

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils import runner
from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import AUTH_ARG_SPEC
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError


class Exited(Exception):
    pass


class FakeModule(object):
    """Stands in for AnsibleModule: records what the module reports."""

    def __init__(self, argument_spec, params, options):
        self.options = options
        self.params = dict(dict.fromkeys(argument_spec), **params)
        self.check_mode = False
        self.warnings = []
        self.reported = None

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **result):
        self.reported = dict(result, failed=False)
        raise Exited()

    def fail_json(self, **result):
        self.reported = dict(result, failed=True)
        raise Exited()


def run(monkeypatch, operation, params=None, **options):
    modules = []

    def make(argument_spec, **module_options):
        modules.append(FakeModule(argument_spec, params or {}, module_options))
        return modules[-1]

    monkeypatch.setattr(runner, "AnsibleModule", make)
    with pytest.raises(Exited):
        runner.run_module(dict(AUTH_ARG_SPEC, timeout={"type": "int"}), operation, **options)
    return modules[0]


def fail(error):
    def operation(task):
        raise error
    return operation


def test_a_result_is_reported_unchanged_by_default_and_its_warnings_are_warned(monkeypatch):
    module = run(monkeypatch, lambda task: {"objects": [], "warnings": ["slow"]}, supports_check_mode=True)
    assert module.reported == {"changed": False, "objects": [], "failed": False}
    assert module.warnings == ["slow"]
    assert module.options == {"supports_check_mode": True}


def test_a_failure_keeps_the_partial_result_and_its_own_changed(monkeypatch):
    error = DatastoresError("apply of StatefulSet db/hz failed", {"changed": True, "resources": ["a"]})
    module = run(monkeypatch, fail(error), failure_result={"resources": [], "problems": []})
    assert module.reported["msg"] == "apply of StatefulSet db/hz failed"
    assert module.reported["changed"] is True
    assert module.reported["resources"] == ["a"] and module.reported["problems"] == []


def test_a_failure_carries_the_traceback_that_ansible_prints_at_vvv(monkeypatch):
    module = run(monkeypatch, fail(DatastoresError("no quorum")))
    assert module.reported["failed"] and module.reported["changed"] is False
    assert module.reported["exception"].startswith("Traceback (most recent call last):")
    assert "DatastoresError: no quorum" in module.reported["exception"]


def test_validation_problems_are_joined_and_nothing_runs(monkeypatch):
    ran = []
    module = run(monkeypatch, ran.append, validate=lambda params: ["timeout must be 0 or more", "name is required"])
    assert module.reported["msg"] == "timeout must be 0 or more; name is required"
    assert ran == []
    module = run(monkeypatch, ran.append, validate=lambda params: "namespace is required")
    assert module.reported["msg"] == "namespace is required"


def test_a_value_error_is_reported_as_its_message(monkeypatch):
    module = run(monkeypatch, fail(ValueError("bad selector 'a=='")))
    assert module.reported["msg"] == "bad selector 'a=='" and module.reported["changed"] is False


def test_a_kube_error_is_explained_with_the_modules_connection_variables(monkeypatch):
    module = run(monkeypatch, fail(KubeError("Unauthorized", 401)), params={"variables": "hazelcast_kubeconfig"},
                 variables_option="variables")
    assert "401 Unauthorized" in module.reported["msg"] and "hazelcast_kubeconfig" in module.reported["msg"]


def test_an_unreadable_kubeconfig_is_a_configuration_error(monkeypatch, tmp_path):
    missing = str(tmp_path / "nowhere")
    module = run(monkeypatch, lambda task: task.kube(), params={"kubeconfig": missing})
    assert "cannot configure the Kubernetes client" in module.reported["msg"]
    assert "the file {} does not exist".format(missing) in module.reported["msg"]


def test_an_old_kubernetes_library_is_named_with_the_required_version(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "23.6.0")
    module = run(monkeypatch, lambda task: task.kube())
    assert "the Python library `kubernetes` 24.2 or later is required" in module.reported["msg"]
    assert "installed: 23.6.0" in module.reported["msg"]


def test_a_missing_kubernetes_library_is_named(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    module = run(monkeypatch, lambda task: task.kube())
    assert "`kubernetes` 24.2 or later is required" in module.reported["msg"]
    assert "installed: none" in module.reported["msg"]


def test_the_library_is_checked_only_when_a_client_is_needed(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.0.0")
    module = run(monkeypatch, lambda task: {"endpoint": "127.0.0.1:8087"})
    assert module.reported == {"changed": False, "endpoint": "127.0.0.1:8087", "failed": False}


def test_a_check_failure_fails_with_its_result(monkeypatch):
    module = run(monkeypatch, runner.check(lambda params, check_mode, kube_factory: ("2 of 3 members", {"members": 2})))
    assert module.reported["msg"] == "2 of 3 members" and module.reported["members"] == 2
    assert module.reported["changed"] is False
