# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the rules of module_utils/storage_class.py to the storage_class role."""

from ansible_collections.stateful.datastores.plugins.module_utils import storage_class


def default_storage_classes(classes):
    """The names of the StorageClasses marked as the cluster's default."""
    return storage_class.default_classes(classes)


def storage_class_inspection(classes, name, wanted, make_default=False):
    """{exists, changes, demote} of the StorageClass `name` among `classes`."""
    return storage_class.inspection(classes, name, wanted, make_default)


def storage_class_volume_checks(volumes):
    """{inputs, nodes}: input_problems checks of the local volumes and k8s_preflight checks of their nodes."""
    return storage_class.volume_checks(volumes)


def storage_class_pv_clashes(pv_names, volumes):
    """{duplicates, bad_names} of the PersistentVolume names and the volumes' node:path places."""
    return storage_class.pv_clashes(pv_names, volumes)


class FilterModule(object):
    def filters(self):
        return {
            "default_storage_classes": default_storage_classes,
            "storage_class_inspection": storage_class_inspection,
            "storage_class_volume_checks": storage_class_volume_checks,
            "storage_class_pv_clashes": storage_class_pv_clashes,
        }
