# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reach a pod's port through the API server's port-forward, from anywhere Ansible runs."""
import http.client
import re
import socket
import threading

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError


def open_socket(kube, namespace, pod, port):
    """A connected socket to `port` of the pod, tunnelled through the API server."""
    from kubernetes import client
    from kubernetes.stream import portforward

    # kubernetes.stream swaps the request method of the ApiClient it is given while it opens the tunnel;
    # with a shared client, tunnels opened from several threads at once (one per DC) can leave the swap in
    # place and break every later API call. A client of its own per tunnel keeps that local.
    api = client.ApiClient(kube.api.configuration)
    api.default_headers.update(kube.api.default_headers)
    core = client.CoreV1Api(api)
    try:
        forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    except Exception as error:  # the client raises ApiException or websocket errors
        raise KubeError("port-forward to pod {}/{} port {}: {}".format(namespace, pod, port, error))
    return forward.socket(int(port)), forward


def _pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


class LocalForward(object):
    """Listens on 127.0.0.1:<free port>; each accepted connection gets its own tunnel to the pod.

    with LocalForward(kube, "db", "antidote-0", 8087) as (host, port): ...
    """

    def __init__(self, kube, namespace, pod, port):
        self.kube, self.namespace, self.pod, self.port = kube, namespace, pod, int(port)
        self._listener = None
        self._accepting = None
        self._closed = threading.Event()
        self.last_error = None  # why the last tunnel failed (API refusal or the target's error), for messages
        self.refused = False  # the API server refused the tunnel in a way that retrying cannot change

    def __str__(self):
        return "port-forward to pod {0}/{1} port {2}".format(self.namespace, self.pod, self.port)

    def __enter__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._accepting = threading.Thread(target=self._accept_loop, daemon=True)
        self._accepting.start()
        return self._listener.getsockname()

    def __exit__(self, *exc):
        self._closed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(), which close() alone does not
        except OSError:
            pass
        self._listener.close()
        self._accepting.join(timeout=5)

    def _accept_loop(self):
        while not self._closed.is_set():
            try:
                local = self._listener.accept()[0]
            except OSError:
                return
            threading.Thread(target=self._serve, args=(local,), daemon=True).start()

    def _serve(self, local):
        try:
            remote, forward = open_socket(self.kube, self.namespace, self.pod, self.port)
        except KubeError as error:
            self.last_error = str(error)
            self.refused = _handshake_status(self.last_error) in ("401", "403", "404")
            local.close()
            return
        reverse = threading.Thread(target=_pump, args=(remote, local), daemon=True)
        reverse.start()
        _pump(local, remote)
        reverse.join(timeout=5)
        try:
            error = forward.error(self.port)
        except Exception:  # pylint: disable=broad-except  # the error channel is best effort
            error = None
        if error:
            self.last_error = str(error).strip()
        local.close()
        remote.close()
        forward.close()

    def failure(self):
        """The last failure in words: what a refusal means, or the error as it came."""
        status = _handshake_status(self.last_error or "")
        pod = "{0}/{1}".format(self.namespace, self.pod)
        if status == "404":
            return "pod {0} does not exist (the API server answered 404)".format(pod)
        if status in ("401", "403"):
            # The client opens port-forwards over WebSocket (an HTTP GET): authorized as 'get' up to Kubernetes
            # 1.34, and as 'get' and 'create' from 1.35 on (AuthorizePodWebsocketUpgradeCreatePermission).
            return ("the API server refused the port-forward ({0}); the credentials need 'get' and 'create' on "
                    "pods/portforward in namespace {1}".format(status, self.namespace))
        if status:
            return "the API server answered {0} to the port-forward request".format(status)
        lines = [line.strip() for line in (self.last_error or "").splitlines() if line.strip()]
        return " ".join(lines)[:300]

    def raise_for(self, error, refused_error, closed_hint):
        """Raise what `error` of a request through this tunnel means; return when the tunnel adds nothing.

        Clear last_error before the request. A refusal (retrying cannot help) raises refused_error; a closed
        connection without a reason from the tunnel ends in closed_hint (what else may not listen there).
        """
        if self.refused:
            raise refused_error("{0}: {1}".format(self, self.failure())) from error
        if self.last_error:
            raise ConnectionError("{0} failed: {1}".format(self, " ".join(self.last_error.split()))) from error
        if isinstance(error, http.client.RemoteDisconnected):
            # Through a tunnel, a refused connection and a server that closes the connection look alike.
            raise ConnectionError("{0} closed without an HTTP response: nothing listens on the port in the pod{1}"
                                  .format(self, closed_hint)) from error


def _handshake_status(text):
    status = re.search(r"Handshake status (\d+)", text)
    return status.group(1) if status else None
