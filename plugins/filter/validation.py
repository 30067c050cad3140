# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared input checks of module_utils/validation.py, for roles to run before their first write."""

from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.module_utils import validation


def input_problems(checks):
    """[{variable, value, type, ...}] -> one sentence per bad value, naming the variable; [] when all are good."""
    try:
        return validation.problems(checks)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


def k8s_quantity(value):
    """A Kubernetes quantity as a number (bytes, or cores for cpu); fails on anything else."""
    parsed = validation.parse_quantity(value)
    if parsed is None:
        raise AnsibleFilterError("{!r} is not a Kubernetes quantity".format(value))
    return float(parsed)


def java_heap_bytes(java_opts):
    """The heap that JVM options set with -Xmx or -XX:MaxHeapSize, in bytes; None when they set none."""
    return validation.java_heap(java_opts)


class FilterModule(object):
    def filters(self):
        return {
            "input_problems": input_problems,
            "k8s_quantity": k8s_quantity,
            "java_heap_bytes": java_heap_bytes,
        }
