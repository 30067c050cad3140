#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: k8s_preflight
short_description: Check the connection and the cluster before a role writes anything
version_added: 0.2.0
description:
  - Reads, never writes. Roles run it before their first write or C(kubernetes.core.k8s) lookup, so that
    a missing kubeconfig, an unreachable API server, rejected credentials or a missing permission fail
    with one clear message (what failed, which credential or variable, what to do) instead of the
    client library's text.
  - Then checks, all at once, that the namespace exists when the role may not create it, that the objects
    in O(present) exist and that the objects in O(absent) do not; each problem carries its own message.
  - Retries transient failures (an API server restarting) for up to O(timeout) seconds.
  - A check of O(present) or O(absent) that the user may not read (403) is skipped with a warning, so that a
    deployer with least privilege is not refused for a check alone.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads only; the same checks run in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
options:
  variables:
    description:
      - The variables that hold the connection, named in messages about it
        (for example C(hazelcast_kubeconfig and hazelcast_context)).
    type: str
  namespace:
    description: The namespace the role works in, and whether it may create it.
    type: dict
    suboptions:
      name:
        description: Namespace name.
        type: str
      variable:
        description: The variable that holds the name, for the message.
        type: str
      create:
        description: Whether the role creates the namespace; when false it must exist.
        type: bool
        default: true
      create_variable:
        description: The variable that holds O(namespace.create), for the message.
        type: str
  present:
    description: Objects that must exist; O(present[].msg) is the message when one does not.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: Kind of the object.
        type: str
        required: true
      api_version:
        description: apiVersion, needed for kinds that are not built in.
        type: str
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Namespace of a namespaced object; defaults to O(namespace.name).
        type: str
      msg:
        description: The message when the check fails; name the variable and what to do.
        type: str
        required: true
  absent:
    description: Objects that must not exist; O(absent[].msg) is the message when one does.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: Kind of the object.
        type: str
        required: true
      api_version:
        description: apiVersion, needed for kinds that are not built in.
        type: str
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Namespace of a namespaced object; defaults to O(namespace.name).
        type: str
      msg:
        description: The message when the check fails; name the variable and what to do.
        type: str
        required: true
  timeout:
    description: Seconds to retry transient failures of the API server.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Check the connection, the namespace and that no Deployment of the same name exists
  stateful.datastores.k8s_preflight:
    kubeconfig: "{{ hazelcast_kubeconfig | default(omit, true) }}"
    variables: hazelcast_kubeconfig and hazelcast_context
    namespace:
      name: "{{ hazelcast_namespace }}"
      variable: hazelcast_namespace
      create: "{{ hazelcast_create_namespace }}"
      create_variable: hazelcast_create_namespace
    absent:
      - kind: Deployment
        name: hazelcast
        msg: a Deployment hazelcast exists; hazelcast_workload_kind cannot switch in place
"""

RETURN = r"""
server_version:
  description: The API server's gitVersion.
  type: str
  returned: success
  sample: v1.34.4
problems:
  description: One message per failed check.
  type: list
  elements: str
  returned: always
"""

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.preflight import check
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def argument_spec():
    objects = {
        "kind": {"type": "str", "required": True},
        "api_version": {"type": "str"},
        "name": {"type": "str", "required": True},
        "namespace": {"type": "str"},
        "msg": {"type": "str", "required": True},
    }
    spec = auth_arg_spec()
    spec.update({
        "variables": {"type": "str"},
        "namespace": {"type": "dict", "options": {
            "name": {"type": "str"},
            "variable": {"type": "str"},
            "create": {"type": "bool", "default": True},
            "create_variable": {"type": "str"},
        }},
        "present": {"type": "list", "elements": "dict", "default": [], "options": objects},
        "absent": {"type": "list", "elements": "dict", "default": [], "options": objects},
        "timeout": {"type": "int", "default": 30},
    })
    return spec


def _check(task):
    return check(task.kube(retry_deadline=max(1, task.params["timeout"])), task.params)


def main():
    run_module(argument_spec(), _check, variables_option="variables", failure_result={"problems": []},
               supports_check_mode=True)


if __name__ == "__main__":
    main()
