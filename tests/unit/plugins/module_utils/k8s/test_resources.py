# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""API paths of built-in kinds come from one table."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import (
    ResourceCatalog,
    collection_path,
    object_path,
)


def test_object_paths_come_from_one_table():
    assert object_path("StatefulSet", "db", "es") == "/apis/apps/v1/namespaces/db/statefulsets/es"
    assert object_path("Pod", "db", "es-0") == "/api/v1/namespaces/db/pods/es-0"
    assert object_path("Deployment", "ns", "hz") == "/apis/apps/v1/namespaces/ns/deployments/hz"
    assert object_path("Lease", "ns", "lock") == "/apis/coordination.k8s.io/v1/namespaces/ns/leases/lock"


def test_cluster_scoped_kinds_have_no_namespace_in_their_path():
    assert object_path("Namespace", None, "db") == "/api/v1/namespaces/db"
    assert object_path("StorageClass", "ignored", "fast") == "/apis/storage.k8s.io/v1/storageclasses/fast"


def test_collection_paths_in_one_namespace_or_all():
    assert collection_path("Secret", "db") == "/api/v1/namespaces/db/secrets"
    assert collection_path("StatefulSet", "db") == "/apis/apps/v1/namespaces/db/statefulsets"
    assert collection_path("Pod") == "/api/v1/pods"


def test_the_catalog_answers_built_in_kinds_without_asking_the_server():
    resource = ResourceCatalog(kube=None).lookup("Secret", "v1")
    assert (resource.plural, resource.namespaced) == ("secrets", True)
    assert resource.object_path("s", "db") == object_path("Secret", "db", "s")
