# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module takes every connection option of k8s_auth.AUTH_ARG_SPEC, as kubernetes.core names them.

That is what lets one `module_defaults` group (group/stateful.datastores.k8s, or kubernetes.core's
group/kubernetes.core.k8s options) configure every module, and what lets each module fall back to the
K8S_AUTH_* variables that AWX's Kubernetes credential sets. The argument spec is read from the real
AnsibleModule call of each module's main(), so a module that builds its spec another way is still checked.
"""
import ast
import importlib
import pathlib

import pytest
import yaml

from ansible_collections.stateful.datastores.plugins.module_utils import runner
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import auth as k8s_auth

REPO = pathlib.Path(__file__).resolve().parents[4]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
PACKAGE = "ansible_collections.stateful.datastores.plugins.modules."


class Captured(Exception):
    """Raised by the stand-in AnsibleModule once it has the module's arguments."""

    def __init__(self, kwargs):
        super(Captured, self).__init__("captured")
        self.kwargs = kwargs


class CapturingModule(object):
    def __init__(self, **kwargs):
        raise Captured(kwargs)


def argument_spec_of(name, monkeypatch):
    module = importlib.import_module(PACKAGE + name)
    monkeypatch.setattr(runner, "AnsibleModule", CapturingModule)
    with pytest.raises(Captured) as captured:
        module.main()
    return captured.value.kwargs["argument_spec"]


def documentation_of(name):
    tree = ast.parse((REPO / "plugins" / "modules" / (name + ".py")).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError("{} has no DOCUMENTATION".format(name))


def test_there_are_modules_to_check():
    assert {"wait_ready", "antidote_dc", "antidote_connect", "hazelcast_cluster"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_takes_every_connection_option_unchanged(name, monkeypatch):
    spec = argument_spec_of(name, monkeypatch)
    missing = sorted(set(k8s_auth.AUTH_ARG_SPEC) - set(spec))
    assert not missing, "{} lacks connection options {}".format(name, missing)
    for option, wanted in k8s_auth.AUTH_ARG_SPEC.items():
        assert spec[option] == wanted, "{}: option {} is {}, k8s_auth says {}".format(name, option, spec[option], wanted)


@pytest.mark.parametrize("name", MODULES)
def test_module_gives_no_connection_option_a_default(name, monkeypatch):
    """A default would hide the K8S_AUTH_* variable: parameters win over the environment."""
    spec = argument_spec_of(name, monkeypatch)
    defaults = {option: spec[option]["default"] for option in k8s_auth.AUTH_ARG_SPEC if "default" in spec[option]}
    assert defaults == {}, name


@pytest.mark.parametrize("name", MODULES)
def test_module_documents_the_connection_options(name):
    assert "stateful.datastores.k8s_auth" in documentation_of(name).get("extends_documentation_fragment", [])


@pytest.mark.parametrize("name", MODULES)
def test_module_builds_its_client_from_the_connection_options(name):
    """The module runner's task.kube passes exactly the AUTH_ARG_SPEC options to k8s_client, which reads K8S_AUTH_*."""
    source = (REPO / "plugins" / "modules" / (name + ".py")).read_text()
    assert "run_module(" in source


def test_doc_fragment_documents_every_option_with_its_type_and_aliases():
    from ansible_collections.stateful.datastores.plugins.doc_fragments.k8s_auth import ModuleDocFragment

    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(k8s_auth.AUTH_ARG_SPEC)
    for option, spec in k8s_auth.AUTH_ARG_SPEC.items():
        assert documented[option].get("type", "str") == spec["type"], option
        assert sorted(documented[option].get("aliases", [])) == sorted(spec.get("aliases", [])), option


def test_every_option_but_proxy_headers_has_its_k8s_auth_variable():
    assert sorted(k8s_auth.ENV_NAMES) == sorted(set(k8s_auth.AUTH_ARG_SPEC) - {"proxy_headers"})
    for option, names in k8s_auth.ENV_NAMES.items():
        assert "K8S_AUTH_" + option.upper() in names, option


@pytest.mark.parametrize("verify", ["True", "False"])
def test_awx_bearer_token_credential_is_all_a_module_needs(verify):
    """The four variables AWX's 'OpenShift or Kubernetes API Bearer Token' credential injects, as it writes them."""
    environ = {"K8S_AUTH_HOST": "https://127.0.0.1:16443", "K8S_AUTH_API_KEY": "token", "K8S_AUTH_VERIFY_SSL": verify,
               "K8S_AUTH_SSL_CA_CERT": "/runner/env/tmpca"}
    configuration, settings = pytest.importorskip("kubernetes") and _configuration(environ)
    assert settings["validate_certs"] is (verify == "True")
    assert configuration.host == "https://127.0.0.1:16443"
    assert configuration.api_key == {"authorization": "Bearer token"}
    assert configuration.verify_ssl is (verify == "True")
    assert configuration.ssl_ca_cert == "/runner/env/tmpca"


def _configuration(environ):
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import build_configuration

    params = dict.fromkeys(k8s_auth.AUTH_ARG_SPEC)
    return build_configuration(params, environ)
