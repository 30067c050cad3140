#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wait_ready
short_description: Wait until Kubernetes objects are ready, or fail fast with the reason
version_added: 0.1.0
description:
  - Waits for many objects at once, named or picked by label selector, within one deadline.
  - Watches the API instead of polling, so it returns within moments of the last object becoming ready.
  - Knows what ready means for Deployment, StatefulSet, DaemonSet, Job, Pod, PersistentVolumeClaim,
    Service (ready endpoints), CustomResourceDefinition (Established) and Namespace; any other kind is
    judged by a status condition, a status field value, or its existence.
  - Fails at once, without waiting for the deadline, when a pod cannot become ready by waiting
    (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError, Unschedulable, a failed Job,
    a claim whose provisioning failed). The message names the object and the reason and carries
    recent events and the last lines of the failing container's log.
  - Never changes anything. In check mode it reports the current state once instead of waiting.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
  - stateful.datastores.wait_objects.objects
attributes:
  check_mode:
    support: full
    description: Reports the current state once, without waiting.
  diff_mode:
    support: none
    description: Changes nothing, so there is no difference to show.
options:
  namespace:
    description: Default namespace for namespaced objects.
    type: str
  timeout:
    description: Seconds to wait for all objects together.
    type: int
    default: 300
  fail_fast:
    description: Fail as soon as an object reaches a state that waiting cannot heal.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Wait for a data centre's pods, service and claims together
  stateful.datastores.wait_ready:
    namespace: antidote
    timeout: 300
    objects:
      - kind: StatefulSet
        name: dc1
      - kind: Service
        name: dc1-client
      - kind: PersistentVolumeClaim
        label_selectors: ["app.kubernetes.io/instance=dc1"]

- name: Wait for a custom resource to report Ready
  stateful.datastores.wait_ready:
    objects:
      - kind: RaftCluster
        api_version: raft.atomix.io/v1beta2
        namespace: atomix
        name: raft
        condition:
          type: Ready
"""

RETURN = r"""
ready:
  description: Whether every object was ready (always true unless in check mode).
  type: bool
  returned: always
elapsed:
  description: Seconds the wait took.
  type: float
  returned: always
objects:
  description: One entry per requested object.
  type: list
  elements: dict
  returned: always
  contains:
    kind:
      description: Kind of the object.
      type: str
    name:
      description: Name, when one was given.
      type: str
    namespace:
      description: Namespace.
      type: str
    state:
      description: One of C(ready), C(waiting), C(failed).
      type: str
    reason:
      description: Short reason, such as C(ReplicasNotReady) or C(CrashLoopBackOff).
      type: str
    message:
      description: What is missing, in words.
      type: str
    ready_after:
      description: Seconds from the start of the wait until the object was first seen ready.
      type: float
    replaced_pods:
      description: Pods deleted because of O(objects[].replace_stuck_pods).
      type: list
      elements: str
"""

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.wait import WAIT_OBJECT_SPEC, Waiter
from ansible_collections.stateful.datastores.plugins.module_utils.runner import run_module


def argument_spec():
    spec = auth_arg_spec()
    spec.update({
        "objects": {"type": "list", "elements": "dict", "required": True, "options": WAIT_OBJECT_SPEC},
        "namespace": {"type": "str"},
        "timeout": {"type": "int", "default": 300},
        "fail_fast": {"type": "bool", "default": True},
    })
    return spec


def _problems(params):
    return ["timeout must be 0 or more seconds, got {}".format(params["timeout"])] if params["timeout"] < 0 else []


def _wait(task):
    params = task.params
    kube = task.kube(retry_deadline=max(1, params["timeout"]))
    return Waiter(kube, params["objects"], default_namespace=params["namespace"], timeout=params["timeout"],
                  fail_fast=params["fail_fast"], check_mode=task.check_mode, describe_error=task.describe).run()


def main():
    run_module(argument_spec(), _wait, validate=_problems, supports_check_mode=True)


if __name__ == "__main__":
    main()
