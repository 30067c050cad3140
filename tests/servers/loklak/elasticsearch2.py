# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real Elasticsearch 2.4.6 nodes (the generation loklak's transport client speaks) in a sealed namespace.

The distribution comes from Maven Central (org.elasticsearch.distribution.tar:elasticsearch:2.4.6,
fetched with mvn into ~/.m2). It runs on Java 17 once ES_GC_OPTS replaces its CMS defaults
(-XX:+UseSerialGC), and it refuses to run as root, so each node runs as nobody (setpriv) from a copy
unpacked into a work directory nobody can read (root's home is closed to other users). Node i binds
127.0.0.<i+1>:9200 (HTTP) and :9300 (transport) inside the namespace, the ports of the role's pods; the
nodes find each other by unicast. Data directories outlive the processes, so stopping and starting the
nodes again is a restart with the same volumes.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ES2_VERSION = "2.4.6"
ARTIFACT = "org.elasticsearch.distribution.tar:elasticsearch:%s:tar.gz" % ES2_VERSION
NOBODY = 65534
JAVA_HOME = os.environ.get("ES2_JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")


def tarball_path(m2_repository=None):
    repo = Path(m2_repository or Path.home() / ".m2" / "repository")
    return repo / "org" / "elasticsearch" / "distribution" / "tar" / "elasticsearch" / ES2_VERSION / (
        "elasticsearch-%s.tar.gz" % ES2_VERSION)


def ensure_tarball(out=sys.stderr):
    path = tarball_path()
    if path.is_file():
        return path
    print("elasticsearch2: fetching %s with mvn ..." % ARTIFACT, file=out, flush=True)
    result = subprocess.run(["mvn", "--batch-mode", "--no-transfer-progress", "dependency:get",
                             "-Dartifact=" + ARTIFACT, "-Dtransitive=false"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if result.returncode != 0 or not path.is_file():
        raise RuntimeError("elasticsearch2: mvn could not fetch %s:\n%s" % (ARTIFACT, result.stdout[-3000:]))
    return path


def _chown_tree(root, uid):
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, uid)
        for name in files:
            os.lchown(os.path.join(folder, name), uid, uid)


class Cluster(object):
    """`size` nodes of one cluster named `cluster_name` inside `namespace` (a netns.Namespace)."""

    def __init__(self, namespace, workdir, size=3, cluster_name="elasticsearch", heap="192m", node_prefix="es"):
        self.namespace, self.size, self.cluster_name, self.heap = namespace, size, cluster_name, heap
        self.node_prefix = node_prefix
        self.workdir = Path(workdir)
        self.home = self.workdir / ("elasticsearch-" + ES2_VERSION)
        self.processes = {}
        self.relays = {}
        if not self.home.is_dir():
            self.workdir.mkdir(parents=True, exist_ok=True)
            with tarfile.open(ensure_tarball()) as tar:
                tar.extractall(self.workdir, filter="data")
            for index in range(size):
                (self.workdir / ("data-%d" % index)).mkdir()
            os.chmod(self.workdir, 0o755)
            _chown_tree(self.workdir, NOBODY)

    def address(self, index):
        return "127.0.0.%d" % (index + 1)

    def http_relay(self, index):
        """The host-side loopback port that reaches node `index`'s HTTP port."""
        if index not in self.relays:
            self.relays[index] = self.namespace.relay((self.address(index), 9200))
        return self.relays[index].port

    def start(self, indexes=None):
        hosts = ",".join("%s:9300" % self.address(i) for i in range(self.size))
        for index in indexes if indexes is not None else range(self.size):
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--",
                    str(self.home / "bin" / "elasticsearch"),
                    "-Des.cluster.name=" + self.cluster_name, "-Des.node.name=%s-%d" % (self.node_prefix, index),
                    "-Des.network.host=" + self.address(index), "-Des.http.port=9200", "-Des.transport.tcp.port=9300",
                    "-Des.discovery.zen.ping.unicast.hosts=" + hosts,
                    "-Des.discovery.zen.minimum_master_nodes=%d" % (self.size // 2 + 1),
                    "-Des.path.data=%s" % (self.workdir / ("data-%d" % index)),
                    "-Des.path.logs=%s" % (self.workdir / ("logs-%d" % index)),
                    # The watermarks are shares of the whole shared disk, not of what these tests write.
                    "-Des.cluster.routing.allocation.disk.threshold_enabled=false"]
            env = dict(os.environ, JAVA_HOME=JAVA_HOME, ES_HEAP_SIZE=self.heap, ES_GC_OPTS="-XX:+UseSerialGC")
            log = open(self.workdir / ("node-%d.out" % index), "ab")
            self.processes[index] = subprocess.Popen(self.namespace.command(argv), stdout=log,
                                                     stderr=subprocess.STDOUT, env=env, cwd=str(self.workdir))
            log.close()
        self.wait_for_nodes(self.size if indexes is None else None)

    def request(self, index, method, path, body=None, timeout=10.0):
        url = "http://127.0.0.1:%d%s" % (self.http_relay(index), path)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_for_nodes(self, count=None, timeout=120.0):
        count = count or self.size
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for index, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError("elasticsearch2: node %d exited (%s); log:\n%s" % (
                        index, process.returncode, self.log_tail(index)))
            try:
                status, last = self.request(min(self.processes), "GET",
                                            "/_cluster/health?wait_for_nodes=%d&timeout=5s" % count)
                if status == 200 and not last.get("timed_out"):
                    return last
            except (OSError, ValueError) as error:
                last = str(error)
                time.sleep(0.5)
        raise TimeoutError("elasticsearch2: %d nodes did not form a cluster in %.0f s: %s" % (count, timeout, last))

    def log_tail(self, index, lines=30):
        path = self.workdir / ("node-%d.out" % index)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, indexes=None):
        for index in list(indexes if indexes is not None else self.processes):
            process = self.processes.pop(index, None)
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def close(self):
        self.stop()
        for relay in self.relays.values():
            relay.close()
        self.relays = {}


def purge(workdir):
    shutil.rmtree(workdir, ignore_errors=True)
