#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: loklak_verify
short_description: Prove that loklak stores messages in Elasticsearch and finds them again
version_added: 0.2.0
description:
  - Searches one ready loklak server (a pod of the Deployment O(name), reached through the Kubernetes API
    server's port-forward, or O(endpoint) directly) for a marker message, with C(source=cache), which loklak
    answers from Elasticsearch.
  - When the marker is not found, pushes it (C(/api/push.json)) and searches until loklak finds it, within
    O(timeout) seconds. The path is loklak -> Elasticsearch -> loklak, so a found marker proves that the
    application works on its backend; the pod probes cannot show that.
  - The marker is one word derived from the namespace and name, and the message has a fixed id, so a second
    run finds it and pushes nothing (C(changed=false)). After the workloads were deleted and deployed again,
    finding it without a push proves that the index kept the data.
  - Without Elasticsearch loklak answers searches with an empty body; the failure message says so.
  - In check mode it only searches, once, and never fails for a missing marker.
author: stateful.datastores developers (@stateful-datastores)
extends_documentation_fragment:
  - stateful.datastores.k8s_auth
attributes:
  check_mode:
    support: full
    description: Searches once; pushes nothing.
  diff_mode:
    support: none
    description: The only change is one message in the index.
options:
  namespace:
    description: Namespace of the Deployment; with O(name) it also names the marker.
    type: str
    required: true
  name:
    description: Name of the loklak Deployment.
    type: str
    required: true
  port:
    description: Port loklak serves HTTP on in the pod.
    type: int
    default: 80
  endpoint:
    description: Ask this URL (such as C(http://loklak.loklak.svc)) instead of a pod through port-forward.
    type: str
  marker:
    description: The word to push and search for. Default - derived from O(namespace) and O(name).
    type: str
  timeout:
    description: Seconds for finding a ready pod, pushing and finding the marker, together.
    type: int
    default: 120
  sleep:
    description: Seconds between two searches.
    type: float
    default: 1.0
  request_timeout:
    description: Seconds for one request to loklak.
    type: float
    default: 15.0
notes:
  - With port-forward the user needs C(get) on the Deployment, C(list) and C(watch) on C(pods), and C(get) and
    C(create) on C(pods/portforward) in the namespace.
"""

EXAMPLES = r"""
- name: Push a marker through loklak and find it through search
  stateful.datastores.loklak_verify:
    namespace: loklak
    name: loklak
  register: loklak_marker

- name: Show whether this run wrote it or found it already
  ansible.builtin.debug:
    msg: "marker {{ loklak_marker.marker }} found={{ loklak_marker.found }} pushed={{ loklak_marker.pushed }}"
"""

RETURN = r"""
found:
  description: Whether search found the marker (always true unless in check mode).
  type: bool
  returned: always
pushed:
  description: Whether this run pushed the marker (it was not found before).
  type: bool
  returned: always
marker:
  description: The word searched for.
  type: str
  returned: always
  sample: sdverify1a2b3c4d5e6f
message_id:
  description: The id of the marker message.
  type: str
  returned: always
backend_answered:
  description: Whether loklak answered a search from Elasticsearch at least once.
  type: bool
  returned: always
searches:
  description: How many searches were made.
  type: int
  returned: always
pod:
  description: The pod asked, or null with O(endpoint).
  type: str
  returned: always
source:
  description: C(port-forward) or C(endpoint).
  type: str
  returned: always
elapsed:
  description: Seconds spent.
  type: float
  returned: always
"""

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import auth_arg_spec
from ansible_collections.stateful.datastores.plugins.module_utils.loklak.k8s import run
from ansible_collections.stateful.datastores.plugins.module_utils.runner import check, run_module

ARGUMENT_SPEC = dict(
    namespace=dict(type="str", required=True),
    name=dict(type="str", required=True),
    port=dict(type="int", default=80),
    endpoint=dict(type="str"),
    marker=dict(type="str"),
    timeout=dict(type="int", default=120),
    sleep=dict(type="float", default=1.0),
    request_timeout=dict(type="float", default=15.0),
)


def _verify(task):
    try:
        return check(run)(task)
    except OSError as error:  # a connection to loklak that failed outside its client's own handling
        raise DatastoresError(str(error)) from error


def main():
    spec = auth_arg_spec()
    spec.update(ARGUMENT_SPEC)
    run_module(spec, _verify, supports_check_mode=True)


if __name__ == "__main__":
    main()
