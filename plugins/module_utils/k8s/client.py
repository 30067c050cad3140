# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin Kubernetes API client: raw paths, JSON in and out, retries on transient failures.

It skips API discovery, which costs seconds per task. For a token or client certificate with a CA
it talks through urllib3 alone (k8s_direct); for everything else (exec plugins, in-cluster service
account, proxies) it uses the `kubernetes` package's configuration and connection pool.
"""
import importlib.util
import json
import os
import random
import time

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.auth import resolve
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.direct import DirectConnection, direct_settings

# Found, not imported: importing it loads every API model, which only some connections need.
HAS_KUBERNETES = importlib.util.find_spec("kubernetes") is not None
KUBERNETES_IMPORT_ERROR = None if HAS_KUBERNETES else ImportError("No module named 'kubernetes'")

RETRIABLE_STATUS = (429, 500, 502, 503, 504)
# A 500 with one of these in its message is the API server refusing the object itself (for example a
# quantity such as "2 GB" in a server-side apply): retrying cannot help.
PERMANENT_SERVER_ERRORS = ("failed to convert new object", "unable to convert unstructured object",
                           "failed to create typed patch object", "failed to create typed live object")


class KubeError(DatastoresError):
    """An API call failed; `status` is the HTTP status (0 when the server was not reached)."""

    def __init__(self, message, status=0, reason="", body=None, host=""):
        super(KubeError, self).__init__(message)
        self.status = status
        self.reason = reason
        self.body = body or {}
        self.host = host
        self.retried = 0.0


def build_configuration(params, environ=None):
    from kubernetes import client, config

    settings = resolve(params, environ)
    configuration = client.Configuration()
    kubeconfig = settings.get("kubeconfig")
    in_cluster = os.environ.get("KUBERNETES_SERVICE_HOST") and not (kubeconfig or settings.get("context"))
    if settings.get("host") and (settings.get("api_key") or settings.get("username") or settings.get("client_cert")):
        configuration.host = settings["host"]
    elif isinstance(kubeconfig, dict):
        config.load_kube_config_from_dict(kubeconfig, context=settings.get("context"),
                                          client_configuration=configuration)
    elif in_cluster and not os.path.exists(os.path.expanduser("~/.kube/config")):
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(config_file=kubeconfig and os.path.expanduser(kubeconfig),
                                context=settings.get("context"), client_configuration=configuration,
                                persist_config=settings.get("persist_config", False))
    _apply_overrides(configuration, settings)
    return configuration, settings


def _apply_overrides(configuration, settings):
    if settings.get("host"):
        configuration.host = settings["host"]
    if settings.get("api_key"):
        configuration.api_key = {"authorization": "Bearer " + settings["api_key"]}
    if settings.get("username"):
        configuration.username = settings["username"]
        configuration.password = settings.get("password")
    if "validate_certs" in settings:
        configuration.verify_ssl = settings["validate_certs"]
    for option, attribute in (("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"), ("client_key", "key_file"),
                              ("proxy", "proxy"), ("no_proxy", "no_proxy")):
        if settings.get(option):
            setattr(configuration, attribute, settings[option])
    headers = settings.get("proxy_headers") or {}
    if any(headers.values()):
        from urllib3.util import make_headers
        configuration.proxy_headers = make_headers(**{k: v for k, v in headers.items() if v})


class Kube(object):
    """JSON requests against the API server with bounded retries of transient failures."""

    def __init__(self, params, environ=None, retry_deadline=60.0):
        if not HAS_KUBERNETES:
            raise KubeError("the Python library `kubernetes` is required: {}".format(KUBERNETES_IMPORT_ERROR))
        self.params, self.environ = params, environ
        self.retry_deadline = retry_deadline
        self._api = None
        found = direct_settings(resolve(params, environ), environ)
        self.direct = DirectConnection(found) if found else None
        self.host = self.direct.host if self.direct else self.api.configuration.host

    @property
    def api(self):
        """The `kubernetes` package's ApiClient for this connection (port-forward needs it), made on first use."""
        if self._api is None:
            from kubernetes import client

            configuration, settings = build_configuration(self.params, self.environ)
            api = client.ApiClient(configuration)
            if settings.get("impersonate_user"):
                api.set_default_header("Impersonate-User", settings["impersonate_user"])
            for group in settings.get("impersonate_groups") or []:
                api.set_default_header("Impersonate-Group", group)
            self._api = api
        return self._api

    def request(self, method, path, query=None, body=None, content_type="application/json", stream=False,
                timeout=None, retry=True):
        started = time.monotonic()
        deadline = started + (self.retry_deadline if retry else 0)
        attempt = 0
        while True:
            try:
                return self._once(method, path, query, body, content_type, stream, timeout)
            except KubeError as error:
                attempt += 1
                wait = self._retry_wait(error, attempt)
                if wait is None or time.monotonic() + wait > deadline:
                    error.retried = time.monotonic() - started
                    raise
                time.sleep(wait)

    @staticmethod
    def _retry_wait(error, attempt):
        if error.status and error.status not in RETRIABLE_STATUS:
            return None
        if error.status == 500 and any(text in str(error) for text in PERMANENT_SERVER_ERRORS):
            return None
        retry_after = (error.body or {}).get("_retry_after")
        if retry_after:
            return float(retry_after)
        return min(5.0, 0.2 * (2 ** (attempt - 1))) * (0.75 + random.random() / 2)

    def _once(self, method, path, query, body, content_type, stream, timeout):
        from urllib3.exceptions import HTTPError

        send = self._send_direct if self.direct else self._send_library
        try:
            response = send(method, path, query, body, content_type, stream, timeout)
        except (HTTPError, OSError) as error:
            raise KubeError("{} {}: cannot reach the API server at {}: {}".format(method, path, self.host, error),
                            host=self.host)
        if stream:
            return response
        data = response.data
        return json.loads(data) if data else {}

    def _send_direct(self, method, path, query, body, content_type, stream, timeout):
        response = self.direct.request(method, path, query, body, content_type, stream, timeout)
        if response.status >= 400:
            data = response.data
            response.release_conn()
            raise _api_error(method, path, response.status, response.reason, data, response.headers)
        return response

    def _send_library(self, method, path, query, body, content_type, stream, timeout):
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json", "Content-Type": content_type}
        # Objects stay objects: the kubernetes REST client JSON-encodes the body itself for JSON and
        # apply-patch+yaml content types (encoding it here too would send a JSON string).
        try:
            return self.api.call_api(
                path, method, query_params=list((query or {}).items()), header_params=headers, body=body,
                auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                _request_timeout=timeout)
        except ApiException as error:
            raise _api_error(method, path, error.status, error.reason, error.body, error.headers)

    def get(self, path, query=None, missing_ok=False):
        try:
            return self.request("GET", path, query)
        except KubeError as error:
            if missing_ok and error.status == 404:
                return None
            raise

    def apply(self, path, obj, field_manager, force=False, dry_run=False):
        """Server-side apply of one object at its own path (.../namespaces/NS/KIND/NAME)."""
        query = {"fieldManager": field_manager}
        if force:
            query["force"] = "true"
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", path, query, body=obj, content_type="application/apply-patch+yaml")

    def delete(self, path, missing_ok=True, propagation="Background", uid=None):
        """DELETE; with `uid`, only that incarnation of the name (a newer one is left alone: 409)."""
        body = {"propagationPolicy": propagation}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            return self.request("DELETE", path, body=body)
        except KubeError as error:
            if missing_ok and error.status == 404:
                return None
            raise


def _api_error(method, path, status, reason, raw_body, headers):
    if isinstance(raw_body, bytes):
        raw_body = raw_body.decode("utf-8", "replace")
    body = {}
    try:
        body = json.loads(raw_body) if raw_body else {}
    except ValueError:
        body = {"message": str(raw_body)[:500]}
    if not isinstance(body, dict):
        body = {"message": str(body)}
    retry_after = (headers or {}).get("Retry-After") if headers else None
    if retry_after and retry_after.isdigit():
        body["_retry_after"] = retry_after
    message = body.get("message") or reason or "HTTP {}".format(status)
    return KubeError("{} {}: {} ({})".format(method, path, message, status), status=status or 0,
                     reason=body.get("reason", ""), body=body)
