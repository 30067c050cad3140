# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One translation of Kubernetes failures into words: what failed, which credential or variable, what to do.

Used by every module of the collection (through the module runner) and by k8s_preflight, which roles run
before their k8s_objects lookups. No response headers, no tracebacks: the API server's own
message is kept, clipped.
"""
import importlib.metadata
import os
import re
import sys

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import resolve
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import PERMANENT_SERVER_ERRORS

MAX_SERVER_TEXT = 300
DEFAULT_VARIABLES = "the kubeconfig and context options (K8S_AUTH_KUBECONFIG, K8S_AUTH_CONTEXT or $KUBECONFIG)"
KUBERNETES_REQUIRED = "24.2"

_UNREACHABLE = (
    ("connection refused", "connection refused (nothing listens there: is the cluster running?)"),
    ("name or service not known", "the host name does not resolve"),
    ("nodename nor servname", "the host name does not resolve"),
    ("temporary failure in name resolution", "the host name does not resolve"),
    ("timed out", "the connection timed out"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "the network is unreachable"),
    ("certificate verify failed", "the server's TLS certificate is not trusted by the configured CA"),
    ("wrong version number", "the server does not speak TLS on that port (http:// vs https://?)"),
)


class ConfigurationError(DatastoresError):
    """The client could not be configured (no kubeconfig, no such context...): no HTTP status."""


def require_kubernetes():
    """Raises a DatastoresError naming the versions unless the Python `kubernetes` library is there and new enough."""
    try:  # from the package metadata: importing the library loads every API model
        installed = importlib.metadata.version("kubernetes")
    except importlib.metadata.PackageNotFoundError:
        installed = "none"
    if _release(installed) < _release(KUBERNETES_REQUIRED):
        raise DatastoresError("the Python library `kubernetes` {0} or later is required on {1}; installed: {2}"
                              .format(KUBERNETES_REQUIRED, sys.executable, installed))


def _release(version):
    return tuple(int(number) for number in re.findall(r"\d+", version)[:2])


def credential(params=None, environ=None):
    """Which credential a connection uses, in words, without its secret parts."""
    environ = os.environ if environ is None else environ
    settings = resolve(params or {}, environ)
    parts = []
    if settings.get("host"):
        parts.append("host {}".format(settings["host"]))
    if settings.get("api_key"):
        parts.append("the token given as api_key")
    if settings.get("username"):
        parts.append("user {}".format(settings["username"]))
    if settings.get("client_cert"):
        parts.append("client certificate {}".format(settings["client_cert"]))
    kubeconfig = settings.get("kubeconfig")
    if settings.get("host") and (settings.get("api_key") or settings.get("username") or settings.get("client_cert")):
        kubeconfig = None  # not read for this connection
    if isinstance(kubeconfig, dict):
        parts.append("the kubeconfig given as a dictionary")
    elif kubeconfig:
        parts.append("kubeconfig {}".format(kubeconfig))
    elif not settings.get("host"):
        parts.append("kubeconfig {}".format(environ.get("KUBECONFIG") or "~/.kube/config (the default)"))
    if settings.get("context"):
        parts.append("context {}".format(settings["context"]))
    return ", ".join(parts)


def _clip(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_SERVER_TEXT else text[:MAX_SERVER_TEXT] + "..."


def _unreachable_cause(text):
    lowered = text.lower()
    for needle, words in _UNREACHABLE:
        if needle in lowered:
            return words
    return _clip(text)


def explain(error, params=None, variables=None, environ=None, retried=None):
    """The message for a failed API call (a KubeError) or a client that could not be configured."""
    variables = variables or DEFAULT_VARIABLES
    used = credential(params, environ)
    status = getattr(error, "status", None)
    text = str(error)
    retry_note = " (retried for {:.0f}s)".format(retried) if retried and retried >= 1 else ""
    if status is None:
        kubeconfig = resolve(params or {}, os.environ if environ is None else environ).get("kubeconfig")
        if isinstance(kubeconfig, str) and not os.path.exists(os.path.expanduser(kubeconfig)):
            text = "the file {} does not exist".format(kubeconfig)
        return ("cannot configure the Kubernetes client from {}: {}. Set {} to a readable kubeconfig "
                "file with a valid context".format(used, _clip(text).rstrip("."), variables))
    if status == 0:
        host = getattr(error, "host", "") or "the configured address"
        return ("cannot reach the Kubernetes API server at {}: {}{}. Credential used: {}. Start the cluster "
                "(local inventory: tools/localkube/localkube up) or point {} at a running one"
                .format(host, _unreachable_cause(text), retry_note, used, variables))
    if status == 401:
        return ("the Kubernetes API server rejected the credentials (401 Unauthorized) from {}. The token or "
                "client certificate is missing, expired or revoked: renew it, or set {} to a valid one"
                .format(used, variables))
    if status == 403:
        # Whole: for an RBAC escalation the server's text is the list of the permissions that are missing.
        whole = " ".join(text.split())
        return ("{} (403 Forbidden). The user of {} lacks this permission: grant it (docs/rbac/deployer.yaml "
                "lists what the collection needs) or set {} to another user".format(whole, used, variables))
    if status == 500 and any(marker in text for marker in PERMANENT_SERVER_ERRORS):
        return ("the Kubernetes API server refused an object it cannot convert: {}. Not transient, not retried: "
                "fix the value it names (a variable of the role that rendered it)".format(_clip(text)))
    if status >= 500:
        return ("the Kubernetes API server failed: {}{}. Credential used: {}. If it repeats, the request is "
                "probably invalid (check the values the role rendered) or the server is unhealthy"
                .format(_clip(text), retry_note, used))
    return _clip(text)
