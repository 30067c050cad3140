# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubeconfigs that authenticate as a ServiceAccount, so that a controller run on the host has exactly
the permissions the role granted to its in-cluster twin."""
import json
import os

import yaml
from kubernetes import client, config


def admin_client(kubeconfig):
    return config.new_client_from_config(config_file=kubeconfig)


def wait_for_service_account(api, namespace, name, stop, poll=0.5):
    """True once the ServiceAccount exists; False if `stop` (a threading.Event) is set first."""
    core = client.CoreV1Api(api)
    while not stop.is_set():
        try:
            core.read_namespaced_service_account(name, namespace)
            return True
        except client.exceptions.ApiException as error:
            if error.status != 404:
                raise
        stop.wait(poll)
    return False


def service_account_kubeconfig(api, admin_kubeconfig, namespace, name, path, seconds=3600):
    """Write a kubeconfig (mode 0600) for the ServiceAccount with a token from the TokenRequest API.
    The token is never returned or logged."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": seconds}}
    response = api.call_api(
        "/api/v1/namespaces/{}/serviceaccounts/{}/token".format(namespace, name), "POST",
        header_params={"Content-Type": "application/json", "Accept": "application/json"}, body=body,
        auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True)
    token = json.loads(response.data)["status"]["token"]
    with open(admin_kubeconfig, encoding="utf-8") as f:
        admin = yaml.safe_load(f)
    current = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    cluster = next(c for c in admin["clusters"] if c["name"] == current["cluster"])["cluster"]
    user = "{}:{}".format(namespace, name)
    document = {"apiVersion": "v1", "kind": "Config", "current-context": user,
                "clusters": [{"name": "localkube", "cluster": cluster}],
                "users": [{"name": user, "user": {"token": token}}],
                "contexts": [{"name": user, "context": {"cluster": "localkube", "user": user, "namespace": namespace}}]}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        json.dump(document, f)
    return path
