# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k8s_objects
version_added: 0.2.0
short_description: Read Kubernetes objects, retrying through API server restarts
description:
  - Returns the objects of one kind, or the one object named O(resource_name) (an empty list when it does
    not exist), as C(kubernetes.core.k8s) does; given kinds as terms, the objects of every kind given. It reads
    through the collection's own client, with no API discovery for built-in kinds, transient failures (connection
    refused, 429, 5xx) retried for O(retry_timeout) seconds,
    and errors that name the credential and the variables to fix instead of the client's raw text.
  - Connection settings are resolved as in the collection's modules, O(kubeconfig) and O(context) first,
    then the C(K8S_AUTH_*) variables, C($KUBECONFIG), C(~/.kube/config) and in-cluster configuration.
options:
  _terms:
    description:
      - Several kinds to read, each a dictionary with C(kind) and, for kinds that are not built in, C(api_version).
      - Either terms or O(kind), not both.
    type: list
    elements: dict
  kind:
    description: The one kind to read, such as C(StatefulSet); either O(kind) or terms, not both.
    type: str
  api_version:
    description: The API version of O(kind); needed for kinds that are not built in (custom resources).
    type: str
  namespace:
    description: The namespace of namespaced kinds; omitted, every namespace.
    type: str
  resource_name:
    description: One object's name.
    type: str
  label_selector:
    description: A label selector, such as C(app.kubernetes.io/name=antidote).
    type: str
  kubeconfig:
    description: Path of a kubeconfig file, or its content as a dictionary.
    type: raw
  context:
    description: The kubeconfig context.
    type: str
  connection_variables:
    description: How the caller names its connection settings, for error messages.
    type: str
  retry_timeout:
    description: Seconds during which transient failures are retried.
    type: float
    default: 60
author: stateful.datastores developers (@stateful-datastores)
"""

EXAMPLES = r"""
- name: Read the StatefulSets of the namespace
  ansible.builtin.set_fact:
    found: "{{ query('stateful.datastores.k8s_objects', kind='StatefulSet', namespace='antidote') }}"

- name: Read the Services and StatefulSets of the namespace in one call
  ansible.builtin.set_fact:
    found: >-
      {{ query('stateful.datastores.k8s_objects', {'kind': 'Service', 'api_version': 'v1'},
               {'kind': 'StatefulSet', 'api_version': 'apps/v1'}, namespace='atomix') }}
"""

RETURN = r"""
_list:
  description: The objects, each with C(apiVersion) and C(kind).
  type: list
  elements: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.connection import KubeConnection
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import ResourceCatalog

CONNECTION = ("kubeconfig", "context")
TERM_KEYS = ("kind", "api_version")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        kinds = kinds_to_read(terms, self.get_option("kind"), self.get_option("api_version"))
        params = dict((name, self.get_option(name)) for name in CONNECTION)
        connection = KubeConnection(params, variables=self.get_option("connection_variables"))
        try:
            kube = connection.kube(retry_deadline=self.get_option("retry_timeout"))
            catalog = ResourceCatalog(kube)  # one discovery call per API group for all the kinds
            return [found for kind, api_version in kinds
                    for found in read_objects(kube, kind, api_version, self.get_option("namespace"),
                                              self.get_option("resource_name"), self.get_option("label_selector"),
                                              catalog)]
        except DatastoresError as error:
            raise AnsibleLookupError(connection.describe(error))


def kinds_to_read(terms, kind, api_version):
    """(kind, api_version) pairs: the kind option's, or one per term."""
    if bool(terms) == bool(kind):
        raise AnsibleLookupError("k8s_objects reads either the kind option or kinds given as terms "
                                 "({'kind': ..., 'api_version': ...}), exactly one of them")
    if kind:
        return [(kind, api_version)]
    if api_version or not all(isinstance(term, Mapping) and term.get("kind") and set(term) <= set(TERM_KEYS)
                              for term in terms):
        raise AnsibleLookupError("k8s_objects terms are kinds, each a dictionary with kind and optionally "
                                 "api_version (not the api_version option); got {0!r}".format(terms))
    return [(term["kind"], term.get("api_version")) for term in terms]


def read_objects(kube, kind, api_version=None, namespace=None, name=None, label_selector=None, catalog=None):
    resource = (catalog or ResourceCatalog(kube)).lookup(kind, api_version)
    identity = {"apiVersion": resource.api_version, "kind": resource.kind}
    if name:
        found = kube.get(resource.object_path(name, namespace), missing_ok=True)
        return [found] if found else []
    query = {"labelSelector": label_selector} if label_selector else None
    listed = kube.get(resource.collection_path(namespace), query, missing_ok=True) or {}
    return [dict(identity, **item) for item in listed.get("items") or []]
