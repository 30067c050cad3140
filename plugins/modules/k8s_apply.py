#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: k8s_apply
short_description: Server-side apply of many Kubernetes objects in one call, then wait for them
version_added: 0.2.0
description:
  - Applies every object of O(definition) in order with server-side apply, under one field manager.
  - Talks to the API server directly, without the API discovery C(kubernetes.core.k8s) does on every call;
    kinds that are not built into Kubernetes are looked up once per API group version.
  - Reports C(changed) only when an object was created or differs afterwards, ignoring what the API server
    sets on every write (C(managedFields), C(resourceVersion), C(generation)) and C(status).
  - Can wait for objects afterwards in the same call, as M(stateful.datastores.wait_ready) does.
  - Returned objects carry no Secret values (C(data), C(stringData)). Ansible still echoes a task's own input
    at high verbosity, so tasks that apply Secrets need C(no_log=true).
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
  - stateful.datastores.wait_objects.wait_for
attributes:
  check_mode:
    support: full
    description:
      - Sends every object as a server-side dry run and reports what would be created or updated.
      - Objects in a namespace that the same call would create are reported as created without a request.
      - With O(wait_for), reports the current state once instead of waiting.
  diff_mode:
    support: none
    description: Results name what changed, not how.
options:
  definition:
    description: The objects, each with C(apiVersion), C(kind) and C(metadata.name).
    type: list
    elements: dict
    required: true
  namespace:
    description: Namespace for namespaced objects whose metadata has none.
    type: str
  field_manager:
    description: Server-side apply field manager.
    type: str
    default: stateful.datastores
  force_conflicts:
    description: Take over fields that another field manager set (for example by C(kubectl edit)).
    type: bool
    default: true
  create_only:
    description:
      - Create the objects that do not exist and leave every existing object as it is, with a plain create
        instead of server-side apply.
      - Of two runs that create the same object at once, one creates it and the other reports it unchanged,
        so a generated value (such as a Secret's) is written once.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for all of O(wait_for) together.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Apply a data centre's Services and StatefulSet and wait for them
  stateful.datastores.k8s_apply:
    namespace: antidote
    definition: "{{ lookup('ansible.builtin.template', 'dc.yaml.j2') | ansible.builtin.from_yaml_all | list }}"
    wait_for:
      - kind: StatefulSet
        name: dc1
      - kind: Service
        name: dc1-client
    wait_timeout: 300
"""

RETURN = r"""
resources:
  description: One entry per object, in the order applied.
  type: list
  elements: dict
  returned: always
  contains:
    kind:
      description: Kind of the object.
      type: str
    api_version:
      description: API version of the object.
      type: str
    name:
      description: Name of the object.
      type: str
    namespace:
      description: Namespace of the object, null for cluster-wide kinds.
      type: str
    result:
      description: One of C(created), C(updated), C(unchanged).
      type: str
    object:
      description: The object as the API server returned it (in check mode, as it would be); Secrets without values.
      type: dict
wait:
  description: What M(stateful.datastores.wait_ready) returns (C(ready), C(elapsed), C(objects)) for O(wait_for).
  type: dict
  returned: when O(wait_for) is not empty
"""

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.apply import Applier, check_definitions
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.wait import WAIT_OBJECT_SPEC, WaitError, Waiter
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def argument_spec():
    spec = auth_arg_spec()
    spec.update({
        "definition": {"type": "list", "elements": "dict", "required": True},
        "namespace": {"type": "str"},
        "field_manager": {"type": "str", "default": "stateful.datastores"},
        "force_conflicts": {"type": "bool", "default": True},
        "create_only": {"type": "bool", "default": False},
        "wait_for": {"type": "list", "elements": "dict", "default": [], "options": WAIT_OBJECT_SPEC},
        "wait_timeout": {"type": "int", "default": 300},
    })
    return spec


def _problems(params):
    problems = check_definitions(params["definition"])
    if params["wait_timeout"] < 0:
        problems.append("wait_timeout must be 0 or more seconds, got {}".format(params["wait_timeout"]))
    return problems


def _result(resources):
    return {"changed": any(entry["result"] != "unchanged" for entry in resources), "resources": resources}


def _apply(task):
    params = task.params
    # Transient API failures are retried within wait_timeout, not a fixed minute.
    kube = task.kube(retry_deadline=max(1, params["wait_timeout"]))
    applier = Applier(kube, params["field_manager"], force=params["force_conflicts"], dry_run=task.check_mode,
                      create_only=params["create_only"])
    try:
        applier.apply_all(params["definition"], params["namespace"])
    except (DatastoresError, ValueError) as error:
        raise DatastoresError(task.describe(error), _result(applier.applied)) from error
    result = _result(applier.applied)
    if params["wait_for"]:
        try:
            waiter = Waiter(kube, params["wait_for"], default_namespace=params["namespace"],
                            timeout=params["wait_timeout"], check_mode=task.check_mode, describe_error=task.describe)
            result["wait"] = waiter.run()
        except WaitError as error:
            raise DatastoresError(str(error), dict(result, wait=error.result)) from error
        except (DatastoresError, ValueError) as error:
            raise DatastoresError(task.describe(error), result) from error
    return result


def main():
    run_module(argument_spec(), _apply, validate=_problems, supports_check_mode=True)


if __name__ == "__main__":
    main()
