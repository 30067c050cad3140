# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talk to the API server without importing the `kubernetes` package, for the common configurations.

Importing `kubernetes` loads every API model, about a third of a second per module process. A token
or client certificate with a CA, from the connection options (AWX sets them through K8S_AUTH_*) or
from one kubeconfig file, needs none of it. `direct_settings` returns None for everything else (exec
and auth-provider plugins, basic auth, proxies, several kubeconfig files, in-cluster service
accounts, a kubeconfig given as a dictionary), and the caller uses the `kubernetes` package.
"""
import base64
import json
import os
import ssl
import tempfile

try:
    from urllib.parse import urlencode
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urllib import urlencode

_LIBRARY_ONLY = ("username", "password", "proxy", "no_proxy", "persist_config")


def _load_kubeconfig(path):
    import yaml

    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _named(entries, name):
    for entry in entries or []:
        if entry.get("name") == name:
            return entry
    return None


def _path(base, value):
    return value if os.path.isabs(value) else os.path.join(base, value)


def _from_kubeconfig(settings, environ):
    path = settings.get("kubeconfig")
    if path is None:
        path = environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        if os.pathsep in path:
            return None  # several files are merged by the library
    if not isinstance(path, str) or not os.path.isfile(os.path.expanduser(path)):
        return None
    path = os.path.expanduser(path)
    config = _load_kubeconfig(path)
    context = _named(config.get("contexts"), settings.get("context") or config.get("current-context"))
    if context is None:
        return None
    cluster = (_named(config.get("clusters"), context["context"].get("cluster")) or {}).get("cluster") or {}
    user = (_named(config.get("users"), context["context"].get("user")) or {}).get("user") or {}
    if not cluster.get("server") or cluster.get("proxy-url") or set(user) - {
            "token", "tokenFile", "client-certificate", "client-certificate-data", "client-key", "client-key-data"}:
        return None
    base = os.path.dirname(path)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(_path(base, user["tokenFile"])) as handle:
            token = handle.read().strip()
    return {
        "server": cluster["server"],
        "verify": not cluster.get("insecure-skip-tls-verify", False),
        "server_name": cluster.get("tls-server-name"),
        "ca_file": _path(base, cluster["certificate-authority"]) if cluster.get("certificate-authority") else None,
        "ca_data": base64.b64decode(cluster["certificate-authority-data"]).decode()
        if cluster.get("certificate-authority-data") else None,
        "token": token,
        "cert_file": _path(base, user["client-certificate"]) if user.get("client-certificate") else None,
        "cert_data": base64.b64decode(user["client-certificate-data"]) if user.get("client-certificate-data") else None,
        "key_file": _path(base, user["client-key"]) if user.get("client-key") else None,
        "key_data": base64.b64decode(user["client-key-data"]) if user.get("client-key-data") else None,
    }


def direct_settings(settings, environ=None):
    """Where and how to connect, as plain values; None when the `kubernetes` package must do it."""
    environ = os.environ if environ is None else environ
    headers = settings.get("proxy_headers") or {}
    if any(settings.get(option) for option in _LIBRARY_ONLY) or any(headers.values()):
        return None
    if settings.get("host") and (settings.get("api_key") or settings.get("client_cert")):
        found = {"server": settings["host"], "verify": True, "server_name": None, "ca_file": None, "ca_data": None,
                 "token": None, "cert_file": None, "cert_data": None, "key_file": None, "key_data": None}
    elif environ.get("KUBERNETES_SERVICE_HOST") and not (settings.get("kubeconfig") or settings.get("context")):
        return None  # in-cluster, or a kubeconfig the library finds instead
    else:
        found = _from_kubeconfig(settings, environ)
        if found is None:
            return None
    if settings.get("host"):
        found["server"] = settings["host"]
    if settings.get("api_key"):
        found["token"] = settings["api_key"]
    for option, key in (("ca_cert", "ca_file"), ("client_cert", "cert_file"), ("client_key", "key_file")):
        if settings.get(option):
            found[key] = settings[option]
            found[key.replace("_file", "_data")] = None
    if settings.get("validate_certs") is not None:
        found["verify"] = bool(settings["validate_certs"])
    found["headers"] = {}
    if found["token"]:
        found["headers"]["Authorization"] = "Bearer " + found["token"]
    if settings.get("impersonate_user"):
        found["headers"]["Impersonate-User"] = settings["impersonate_user"]
    found["impersonate_groups"] = list(settings.get("impersonate_groups") or [])
    return found


def _ssl_context(found):
    context = ssl.create_default_context(cafile=found["ca_file"], cadata=found["ca_data"])
    if not found["verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert, key = found["cert_file"], found["key_file"]
    written = []
    try:
        # ssl loads certificates from files only: data from the kubeconfig goes to private temporary files.
        for data, name in ((found["cert_data"], "cert"), (found["key_data"], "key")):
            if data:
                handle, path = tempfile.mkstemp(prefix="k8s-" + name + "-")
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                written.append(path)
                cert, key = (path, key) if name == "cert" else (cert, path)
        if cert:
            context.load_cert_chain(cert, key)
    finally:
        for path in written:
            os.unlink(path)
    return context


class DirectConnection(object):
    """Requests with urllib3 alone; responses are urllib3's, as the `kubernetes` package returns them."""

    def __init__(self, found):
        import urllib3

        self.host = found["server"].rstrip("/")
        self.headers = found["headers"]
        self.groups = found["impersonate_groups"]
        options = {"ssl_context": _ssl_context(found), "maxsize": 16, "block": False}
        if not found["verify"]:
            options["cert_reqs"] = "CERT_NONE"
        if found["server_name"]:
            options["server_hostname"] = found["server_name"]
        self.pool = urllib3.PoolManager(**options)

    def request(self, method, path, query, body, content_type, stream, timeout):
        """The urllib3 response; `error_of(response)` tells whether it is an error."""
        import urllib3
        from urllib3._collections import HTTPHeaderDict

        headers = HTTPHeaderDict(dict(self.headers, Accept="application/json"))
        for group in self.groups:
            headers.add("Impersonate-Group", group)
        payload = None
        if body is not None:
            headers["Content-Type"] = content_type
            payload = json.dumps(body).encode()
        url = self.host + path + ("?" + urlencode(list((query or {}).items())) if query else "")
        if isinstance(timeout, (tuple, list)):
            timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        return self.pool.request(method, url, body=payload, headers=headers, preload_content=not stream,
                                 timeout=timeout, retries=False, redirect=False)
