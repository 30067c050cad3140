# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real cloud-v1beta2 Atomix controllers, run on the host out of cluster against localkube.

atomix/kubernetes-controller v0.2.0-beta.5 and atomix/raft-storage-controller v0.1.1, built by
tests.servers.atomix.build. They only talk to the API server (no pod is ever dialed), so they can
run on the host. Each waits until the role has created its ServiceAccount, then runs with a token
of that ServiceAccount: it has exactly the permissions the role's ClusterRole grants, like the
Deployment the role deploys (which KWOK only simulates). Everything they listen on is 127.0.0.1.

    controllers = CloudControllers(kubeconfig, namespace, workdir).start()
    ...                                  # run the role
    controllers.stop()
"""
import os
import signal
import subprocess
import threading

from tests.helpers.ports import free_port
from tests.servers.atomix.build import build
from tests.servers.atomix.service_account import admin_client, service_account_kubeconfig, wait_for_service_account

# ServiceAccount / Deployment name -> binary (the role's names for the two controllers)
CLOUD_BINARIES = {
    "atomix-controller": "kubernetes-controller-v0.2.0-beta.5",
    "raft-storage-controller": "raft-storage-controller-v0.1.1",
}


class HostController(object):
    """One controller process, started as a ServiceAccount once that account exists."""

    def __init__(self, binary, name, namespace, admin_kubeconfig, workdir, args=(), env=None):
        self.binary, self.name, self.namespace = binary, name, namespace
        self.admin_kubeconfig, self.workdir, self.args = admin_kubeconfig, workdir, list(args)
        self.extra_env = dict(env or {})
        self.process = None
        self.log_path = os.path.join(workdir, name + ".log")
        self.error = None

    def run_when_account_exists(self, stop):
        try:
            api = admin_client(self.admin_kubeconfig)
            if not wait_for_service_account(api, self.namespace, self.name, stop):
                return
            kubeconfig = service_account_kubeconfig(api, self.admin_kubeconfig, self.namespace, self.name,
                                                    os.path.join(self.workdir, self.name + ".kubeconfig"))
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.workdir, "KUBECONFIG": kubeconfig,
                   "CONTROLLER_NAME": self.name, "CONTROLLER_NAMESPACE": self.namespace,
                   "METRICS_BIND_ADDRESS": "127.0.0.1:{}".format(free_port())}
            env.update(self.extra_env)
            if stop.is_set():
                return
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen([self.binary] + self.args, cwd=self.workdir, env=env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except Exception as error:  # reported through .error and the test's assertion message
            self.error = "{}: {}".format(self.name, error)

    def stop(self, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()


class CloudControllers(object):
    """Both cloud-v1beta2 controllers for one namespace's ServiceAccounts, watching every namespace
    as the role's Deployments do."""

    def __init__(self, admin_kubeconfig, namespace, workdir):
        bindir = build("cloud-v1beta2")
        os.makedirs(workdir, exist_ok=True)
        self.controllers = [
            HostController(os.path.join(bindir, CLOUD_BINARIES["atomix-controller"]), "atomix-controller", namespace,
                           admin_kubeconfig, workdir,
                           env={"CONTROLLER_API_ADDRESS": "127.0.0.1:{}".format(free_port())}),
            HostController(os.path.join(bindir, CLOUD_BINARIES["raft-storage-controller"]), "raft-storage-controller",
                           namespace, admin_kubeconfig, workdir),
        ]
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        for controller in self.controllers:
            thread = threading.Thread(target=controller.run_when_account_exists, args=(self._stop,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for controller in self.controllers:
            controller.stop()

    @property
    def errors(self):
        return [c.error for c in self.controllers if c.error]

    def logs(self, tail=40):
        return {c.name: "\n".join(c.log().splitlines()[-tail:]) for c in self.controllers}

    def exited(self):
        """Names of controllers that started and have exited since."""
        return [c.name for c in self.controllers if c.process is not None and c.process.poll() is not None]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
