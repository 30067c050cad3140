# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way every module of the collection runs: parse, validate, do its work, report."""
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.connection import KubeConnection


class ModuleTask(KubeConnection):
    """What an operation works with: the parameters, check mode, and a client built when first asked for."""

    def __init__(self, params, check_mode, variables=None):
        super(ModuleTask, self).__init__(params, variables)
        self.params = params
        self.check_mode = check_mode


def run_module(argument_spec, operation, validate=None, variables_option=None, failure_result=None,
               **module_options):
    """Runs ``operation(task)``, which returns the result (``warnings`` are warned).

    ``validate(params)`` returns the problems (a list, or one string). A DatastoresError or a ValueError fails
    the task with its message (``task.describe``) and the partial result it carries, above ``failure_result``;
    its traceback shows at -vvv (ansible-core 2.19: with ANSIBLE_DISPLAY_TRACEBACK=error). ``variables_option``
    names the option that says, in the module's words, which variables set the connection. Other keyword
    arguments go to AnsibleModule.
    """
    module = AnsibleModule(argument_spec=argument_spec, **module_options)
    task = ModuleTask(module.params, module.check_mode, module.params.get(variables_option))
    try:
        problems = validate(module.params) if validate else None
        if problems:
            raise ValueError(problems if isinstance(problems, str) else "; ".join(problems))
        result = dict({"changed": False}, **operation(task))
        for warning in result.pop("warnings", []):
            module.warn(warning)
        module.exit_json(**result)
    except (DatastoresError, ValueError) as error:
        partial = dict({"changed": False}, **(failure_result or {}))
        partial.update(getattr(error, "result", {}))
        module.fail_json(msg=task.describe(error), exception=traceback.format_exc(), **partial)


def check(function):
    """An operation made of a ``function(params, check_mode, kube_factory)`` returning (failure or None, result)."""
    def operation(task):
        failure, result = function(task.params, task.check_mode, kube_factory=task.kube)
        if failure:
            raise DatastoresError(failure, result)
        return result
    return operation
