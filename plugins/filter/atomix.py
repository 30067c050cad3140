# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the Atomix rules of module_utils/atomix (layout, generations, status) to the atomix role."""

from ansible_collections.stateful.datastores.plugins.module_utils.atomix import generations, layout, status


def atomix_layout(generation, name, namespace, clusters, partitions, replicas, replication_factor=None,
                  persistence=False, security_context=None, crds=(), controllers=()):
    """Names, waits and teardown lists of one database (module_utils/atomix/layout.py)."""
    return layout.layout(generation, name, namespace, int(clusters), int(partitions), int(replicas),
                         replication_factor, persistence, security_context, crds, controllers)


def atomix_doomed_claims(claims, statefulsets_before, statefulsets, generation, name, namespace):
    """The database's PersistentVolumeClaims among `claims`, as documents to delete."""
    return layout.doomed_claims(claims, statefulsets_before, statefulsets, generation, name, namespace)


def atomix_crds(crds, generation, wanted):
    """The Atomix CRDs among `crds`, each with its generation and what conflicts with `generation`."""
    return generations.atomix_crds(crds, generation, wanted)


def atomix_crd_kinds(found, wanted):
    """The kinds of the `wanted` CRDs present without conflict in `found` (atomix_crds), as k8s_objects terms."""
    return generations.crd_kinds(found, wanted)


def atomix_remaining_objects(objects, check_mode, namespace):
    """'Kind namespace/name' of the `objects` that deleting their CRDs would delete (in check mode, not those of
    `namespace`)."""
    return generations.remaining_objects(objects, check_mode, namespace)


def atomix_status(objects, generation, name, namespace, clusters, layout_, crds, controllers):
    """The atomix_status fact from the objects read back."""
    return status.atomix_status(objects, generation, name, namespace, int(clusters), layout_, crds, controllers)


def atomix_missing_products(atomix_status_, generation, namespace, replicas, layout_):
    """'' when the controller produced every StatefulSet and Service as asked; else a sentence saying what not."""
    return status.missing_products(atomix_status_, generation, namespace, replicas, layout_)


class FilterModule(object):
    def filters(self):
        return {
            "atomix_layout": atomix_layout,
            "atomix_doomed_claims": atomix_doomed_claims,
            "atomix_crds": atomix_crds,
            "atomix_crd_kinds": atomix_crd_kinds,
            "atomix_remaining_objects": atomix_remaining_objects,
            "atomix_status": atomix_status,
            "atomix_missing_products": atomix_missing_products,
        }
