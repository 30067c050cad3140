# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pods that match a label selector in one namespace, kept current by one list-and-watch while waiting."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import collection_path
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.watched import Watched


class PodSet(Watched):
    def __init__(self, kube, namespace, selector):
        super(PodSet, self).__init__(kube, collection_path("Pod", namespace), {"labelSelector": selector},
                                     what="pods in " + namespace)
        self.namespace, self.selector = namespace, selector

    @property
    def pods(self):
        """name -> pod"""
        return self.objects

    def wait(self, predicate, deadline):
        """Until predicate(pods) holds (True) or `deadline.remaining()` runs out (False); one watch meanwhile."""
        self.list_once()
        return super(PodSet, self).wait(predicate, deadline)
