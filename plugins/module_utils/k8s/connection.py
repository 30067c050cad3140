# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client of a caller's connection settings, built when first asked for, and its failures in the caller's words."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import AUTH_ARG_SPEC
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import Kube, KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.errors import (
    ConfigurationError,
    explain,
    require_kubernetes,
)


class KubeConnection(object):
    """`variables` says how the caller names its connection settings (k8s.errors.explain)."""

    def __init__(self, params, variables=None):
        self.connection = {option: params.get(option) for option in AUTH_ARG_SPEC}
        self.variables = variables
        self._kube = None

    def kube(self, retry_deadline=60.0):
        if self._kube is None:
            require_kubernetes()
            try:
                self._kube = Kube(self.connection, retry_deadline=retry_deadline)
            except Exception as error:  # configuration errors come from several libraries
                raise ConfigurationError(error) from error
        return self._kube

    def describe(self, error):
        """A Kubernetes failure in words (k8s.errors.explain); other errors as they are."""
        if isinstance(error, (KubeError, ConfigurationError)):
            return explain(error, self.connection, self.variables, retried=getattr(error, "retried", None))
        return str(error)
