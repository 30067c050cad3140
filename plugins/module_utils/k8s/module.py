# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection does around its own work: build the client, report errors."""
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.stateful.datastores.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import errors as k8s_errors
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import AUTH_ARG_SPEC


def connection_params(module):
    return {option: module.params.get(option) for option in AUTH_ARG_SPEC}


def error_message(module, error):
    """A KubeError in words (k8s_errors.explain); other errors as they are."""
    if isinstance(error, k8s_client.KubeError):
        return k8s_errors.explain(error, connection_params(module), retried=error.retried)
    return str(error)


def kube_from_module(module, retry_deadline=60.0):
    if not k8s_client.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(k8s_client.KUBERNETES_IMPORT_ERROR))
    params = connection_params(module)
    try:
        return k8s_client.Kube(params, retry_deadline=retry_deadline)
    except Exception as error:  # configuration errors come from several libraries
        module.fail_json(msg=k8s_errors.explain(ConfigurationError(error), params))


class ConfigurationError(Exception):
    """The client could not be configured (no kubeconfig, no such context...): no HTTP status."""


def exit_with_check(module, check, errors=()):
    """For modules that only look: check(params, check_mode, kube_factory) returns (failure or None, result)."""
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

    try:
        failure, result = check(module.params, module.check_mode, kube_factory=lambda: kube_from_module(module))
    except tuple(errors) + (KubeError,) as error:
        module.fail_json(msg=error_message(module, error), changed=False, **getattr(error, "result", {}))
    if failure:
        module.fail_json(msg=failure, changed=False, **result)
    module.exit_json(changed=False, **result)


def exit_with_operation(module, operation, kube, errors=()):
    """For modules that act: operation(kube, params, check_mode) returns the result, warnings included."""
    from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError

    try:
        result = operation(kube, module.params, check_mode=module.check_mode)
    except tuple(errors) + (KubeError, ValueError) as error:
        module.fail_json(msg=error_message(module, error), changed=False, **getattr(error, "result", {}))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
