# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    # wait_ready's objects and k8s_apply's wait_for take the same entries (module_utils/k8s/wait.py,
    # WAIT_OBJECT_SPEC). ansible-test needs literal strings here; a unit test keeps the two suboptions equal.
    OBJECTS = r"""
options:
  objects:
    description: What to wait for.
    required: true
    type: list
    elements: dict
    suboptions:
      kind:
        description: Kind of the object, for example C(StatefulSet).
        type: str
        required: true
      api_version:
        description: API version; needed for kinds that are not built into Kubernetes.
        type: str
      name:
        description: Name of the object. Without it, every object matching O(objects[].label_selectors) counts.
        type: str
      namespace:
        description: Namespace of the object; defaults to O(namespace).
        type: str
      label_selectors:
        description: Label selectors such as C(app=web); all must match.
        type: list
        elements: str
      condition:
        description: Ready when this status condition holds (for custom resources).
        type: dict
        suboptions:
          type:
            description: Condition type.
            type: str
            required: true
          status:
            description: Condition status.
            type: str
            default: "True"
          reason:
            description: Condition reason, when it must match too.
            type: str
      field:
        description: Ready when the field at O(objects[].field.path) (dotted, e.g. C(status.state)) has this value.
        type: dict
        suboptions:
          path:
            description: Dotted path into the object.
            type: str
            required: true
          value:
            description: The value that means ready.
            type: raw
            required: true
      replace_stuck_pods:
        description:
          - For a StatefulSet, delete its pods of an older revision that are not Ready, once the StatefulSet's
            controller has observed its current generation; while they are being replaced their failures do not
            fail the wait.
          - With podManagementPolicy C(OrderedReady) Kubernetes never replaces such a pod by itself, so a template
            fixed after its first pod failed never rolls out (the "forced rollback" of the Kubernetes
            documentation); with C(Parallel) the rolling update replaces them one at a time. Each pod is deleted
            once, by UID; Ready pods are left to the rolling update. Ignored in check mode.
          - The result lists the deleted pods in C(replaced_pods).
        type: bool
        default: false
"""

    WAIT_FOR = r"""
options:
  wait_for:
    description:
      - Objects to wait for once everything is applied, as O(stateful.datastores.wait_ready#module:objects) takes them.
      - One watch and one deadline, O(wait_timeout), for all of them; nothing is waited for when empty.
    default: []
    type: list
    elements: dict
    suboptions:
      kind:
        description: Kind of the object, for example C(StatefulSet).
        type: str
        required: true
      api_version:
        description: API version; needed for kinds that are not built into Kubernetes.
        type: str
      name:
        description: Name of the object. Without it, every object matching O(wait_for[].label_selectors) counts.
        type: str
      namespace:
        description: Namespace of the object; defaults to O(namespace).
        type: str
      label_selectors:
        description: Label selectors such as C(app=web); all must match.
        type: list
        elements: str
      condition:
        description: Ready when this status condition holds (for custom resources).
        type: dict
        suboptions:
          type:
            description: Condition type.
            type: str
            required: true
          status:
            description: Condition status.
            type: str
            default: "True"
          reason:
            description: Condition reason, when it must match too.
            type: str
      field:
        description: Ready when the field at O(wait_for[].field.path) (dotted, e.g. C(status.state)) has this value.
        type: dict
        suboptions:
          path:
            description: Dotted path into the object.
            type: str
            required: true
          value:
            description: The value that means ready.
            type: raw
            required: true
      replace_stuck_pods:
        description:
          - For a StatefulSet, delete its pods of an older revision that are not Ready, once the StatefulSet's
            controller has observed its current generation; while they are being replaced their failures do not
            fail the wait.
          - With podManagementPolicy C(OrderedReady) Kubernetes never replaces such a pod by itself, so a template
            fixed after its first pod failed never rolls out (the "forced rollback" of the Kubernetes
            documentation); with C(Parallel) the rolling update replaces them one at a time. Each pod is deleted
            once, by UID; Ready pods are left to the rolling update. Ignored in check mode.
          - The result lists the deleted pods in C(replaced_pods).
        type: bool
        default: false
"""
