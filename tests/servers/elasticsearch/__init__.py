# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real OpenSearch nodes on 127.0.0.1 for the Elasticsearch integration tests.

Elasticsearch 8.x cannot be had on this machine: elastic.co is out of reach, and the module
jars that an 8.x node needs (transport-netty4 and the rest) are not on Maven Central (Elastic
stopped publishing them after 7.17; the codelibs cluster-runner and its module copies stop at
7.10.2 there). OpenSearch, the Apache-2.0 fork of Elasticsearch 7.10, publishes its server,
its modules and its security plugin to Maven Central, and it answers the same REST API that
the collection uses for health and membership (GET /, _cluster/health, _cat/nodes, _nodes,
_cluster/allocation/explain, _cluster/settings, _cluster/voting_config_exclusions, _flush).

``pom.xml`` beside this file assembles a distribution (lib/, modules/transport-netty4/,
plugins/opensearch-security/) under ``~/.cache/stateful-datastores/``. Each node is its own
JVM started through the real entry point ``org.opensearch.bootstrap.OpenSearch`` (security
manager on), like one pod each: HTTP and transport bound to 127.0.0.1 on free ports, a small
heap, TLS on transport and HTTP from a throw-away CA, basic authentication for a user with a
generated password. Only the PIDs started here are ever stopped.

One deviation from a packaged install: the server refuses to run as root, and test machines
run as root, so JNA's native library is kept from loading (``-Djna.nosys -Djna.nounpack``);
the node then logs that it cannot check for root and skips native features (mlockall,
seccomp), which a test cluster does not need.
"""

import atexit
import base64
import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from tests.helpers.ports import free_ports

OPENSEARCH_VERSION = "2.19.1"
HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
CACHE = Path(os.environ.get("STATEFUL_DATASTORES_CACHE", Path.home() / ".cache" / "stateful-datastores"))
DIST = CACHE / ("opensearch-" + OPENSEARCH_VERSION)
ADMIN_USER = "admin"
NODE_DN = "CN=node.datastores.test,OU=tests,O=stateful-datastores"

NETTY_DESCRIPTOR = """\
description=Netty 4 HTTP and transport, assembled from Maven Central for tests
version={v}
name=transport-netty4
classname=org.opensearch.transport.Netty4Plugin
java.version=11
opensearch.version={v}
""".format(v=OPENSEARCH_VERSION)

# What netty needs under the security manager: sockets, the backlog file, one NIO property.
NETTY_POLICY = """\
grant {
  permission java.net.SocketPermission "*", "accept,connect";
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
  permission java.lang.RuntimePermission "setContextClassLoader";
};
"""

LOG4J2 = """\
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = error
"""


_LIVE: set = set()  # clusters with JVMs started by this process, stopped at exit at the latest


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL this JVM if the Python process that started it dies (Linux).

    The signal follows the thread that called Popen, so start clusters from a thread that lives
    as long as they should (pytest's main thread)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


@atexit.register
def _stop_leftovers() -> None:
    for cluster in list(_LIVE):
        cluster.stop(grace=10)


class HarnessError(RuntimeError):
    """The test server could not be built or started; the message says why."""


def missing_tools() -> List[str]:
    """Names of the programs the harness needs that are not on PATH."""
    return [tool for tool in ("java", "mvn", "openssl") if shutil.which(tool) is None]


def ensure_distribution(timeout: float = 900) -> Path:
    """Build the distribution once (Maven, from Central) and return its home directory."""
    marker = DIST / ".assembled"
    stamp = str(POM.stat().st_mtime_ns)
    if marker.is_file() and marker.read_text() == stamp:
        return DIST
    cmd = ["mvn", "-B", "-q", "-f", str(POM), "package"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise HarnessError("mvn package failed (%d): %s" % (done.returncode, (done.stdout + done.stderr)[-3000:]))
    netty = DIST / "modules" / "transport-netty4"
    (netty / "plugin-descriptor.properties").write_text(NETTY_DESCRIPTOR)
    (netty / "plugin-security.policy").write_text(NETTY_POLICY)
    marker.write_text(stamp)
    return DIST


def _run(cmd: List[str], **kwargs) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kwargs)
    if done.returncode != 0:
        raise HarnessError("%s failed: %s" % (cmd[0], done.stderr[-2000:]))


@dataclass
class Pki:
    """A throw-away CA and one certificate for all nodes (SAN 127.0.0.1 and localhost)."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    def create(self) -> "Pki":
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        if self.ca_file.is_file():
            return self
        genkey = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"]
        _run(genkey + [str(d / "ca.key")])
        _run(["openssl", "req", "-x509", "-new", "-key", str(d / "ca.key"), "-days", "3", "-subj",
              "/O=stateful-datastores/CN=stateful-datastores test CA", "-out", str(d / "ca.tmp")])
        _run(genkey + [str(d / "node.key")])
        _run(["openssl", "req", "-new", "-key", str(d / "node.key"), "-out", str(d / "node.csr"),
              "-subj", "/" + "/".join(reversed(NODE_DN.split(",")))])
        (d / "node.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _run(["openssl", "x509", "-req", "-in", str(d / "node.csr"), "-CA", str(d / "ca.tmp"),
              "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "3", "-extfile", str(d / "node.ext"),
              "-out", str(d / "node.pem")])
        os.replace(d / "ca.tmp", self.ca_file)
        return self


def hash_password(password: str, home: Path) -> str:
    """BCrypt hash made by the security plugin's own tool; the password travels in the environment."""
    classpath = "%s/plugins/opensearch-security/*:%s/lib/*" % (home, home)
    env = dict(os.environ, SD_ADMIN_PASSWORD=password)
    done = subprocess.run(
        ["java", "-cp", classpath, "org.opensearch.security.tools.Hasher", "-env", "SD_ADMIN_PASSWORD", "-r", "10"],
        capture_output=True, text=True, timeout=120, env=env, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("$2")]
    if done.returncode != 0 or not lines:
        raise HarnessError("hashing the password failed: %s" % done.stderr[-1000:])
    return lines[-1].strip()


@dataclass
class Node:
    name: str
    http_port: int
    transport_port: int
    home: Path
    scheme: str
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return "%s://127.0.0.1:%d" % (self.scheme, self.http_port)

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "stdout.log"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass(eq=False)  # identity semantics: clusters live in a set
class Cluster:
    """``size`` OpenSearch nodes forming one cluster, each in its own JVM.

    Share ``pki`` and ``password`` between two Cluster objects to get a second, separately
    bootstrapped cluster that the same client can reach (a foreign cluster_uuid).
    """

    workdir: Path
    size: int = 3
    cluster_name: str = "datastores-test"
    node_prefix: str = "os"
    security: bool = True
    heap_mb: int = 256
    pki: Optional[Pki] = None
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    nodes: List[Node] = field(default_factory=list)
    # The user the harness creates (with the admin backend role), and the subject DNs of the node
    # certificates: set both to run the nodes with credentials and a PKI made elsewhere (a Pki
    # directory that already holds ca.pem, node.pem and node.key is used as it is).
    admin_user: str = ADMIN_USER
    nodes_dn: List[str] = field(default_factory=lambda: [NODE_DN])
    # Settings written last, over the harness's own (for example a role's rendered plugins.security.*);
    # the certificates are also in config/certs under the role's names (tls.crt, tls.key, ca.crt).
    extra_settings: Dict[str, object] = field(default_factory=dict)
    # config/opensearch-security/internal_users.yml as written elsewhere (a role's init container), verbatim.
    internal_users_yml: Optional[str] = None

    @property
    def username(self) -> str:
        return self.admin_user

    @property
    def ca_file(self) -> Optional[str]:
        return str(self.pki.ca_file) if self.security and self.pki else None

    @property
    def endpoints(self) -> List[str]:
        return [n.url for n in self.nodes]

    # ---------------------------------------------------------------- start
    def start(self, timeout: float = 240) -> "Cluster":
        """launch() then wait_formed(); stops what it started when that fails."""
        return start_clusters([self], timeout)[0]

    def launch(self) -> None:
        """Write every node's configuration and start its JVM; returns without waiting."""
        home = ensure_distribution()
        self.workdir.mkdir(parents=True, exist_ok=True)
        password_hash = None
        if self.security:
            self.pki = (self.pki or Pki(self.workdir / "pki")).create()
            password_hash = "(given)" if self.internal_users_yml else hash_password(self.password, home)
        ports = free_ports(2 * self.size)
        scheme = "https" if self.security else "http"
        self.nodes = [
            Node("%s-%d" % (self.node_prefix, i), ports[2 * i], ports[2 * i + 1],
                 self.workdir / ("%s-%d" % (self.node_prefix, i)), scheme)
            for i in range(self.size)
        ]
        for node in self.nodes:
            self._write_config(node, home, password_hash)
        for node in self.nodes:
            node.process = self._launch(node, home)

    def _write_config(self, node: Node, home: Path, password_hash: Optional[str]) -> None:
        conf = node.home / "config"
        for sub in ("config", "data", "logs", "tmp"):
            (node.home / sub).mkdir(parents=True, exist_ok=True)
        settings: Dict[str, object] = {
            "cluster.name": self.cluster_name,
            "node.name": node.name,
            "network.host": "127.0.0.1",
            "http.port": node.http_port,
            "transport.port": node.transport_port,
            "path.data": str(node.home / "data"),
            "path.logs": str(node.home / "logs"),
            "node.processors": 1,
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        if self.size == 1:
            settings["discovery.type"] = "single-node"
        else:
            settings["discovery.seed_hosts"] = ["127.0.0.1:%d" % n.transport_port for n in self.nodes]
            settings["cluster.initial_cluster_manager_nodes"] = [n.name for n in self.nodes]
        if password_hash is None:
            settings["plugins.security.disabled"] = True
        else:
            shutil.copytree(home / "plugins" / "opensearch-security" / "config",
                            conf / "opensearch-security", dirs_exist_ok=True)
            (conf / "certs").mkdir(exist_ok=True)
            for name, alias in (("ca.pem", "ca.crt"), ("node.pem", "tls.crt"), ("node.key", "tls.key")):
                shutil.copy(self.pki.directory / name, conf / "certs" / name)
                shutil.copy(self.pki.directory / name, conf / "certs" / alias)
            (conf / "opensearch-security" / "internal_users.yml").write_text(
                self.internal_users_yml or '_meta: {type: "internalusers", config_version: 2}\n'
                '%s: {hash: "%s", reserved: true, backend_roles: ["admin"]}\n' % (self.admin_user, password_hash))
            for layer in ("transport", "http"):
                prefix = "plugins.security.ssl.%s." % layer
                settings[prefix + "pemcert_filepath"] = "certs/node.pem"
                settings[prefix + "pemkey_filepath"] = "certs/node.key"
                settings[prefix + "pemtrustedcas_filepath"] = "certs/ca.pem"
            settings.update({
                "plugins.security.ssl.http.enabled": True,
                "plugins.security.ssl.transport.enforce_hostname_verification": False,
                "plugins.security.nodes_dn": list(self.nodes_dn),
                "plugins.security.allow_default_init_securityindex": True,
                "plugins.security.audit.type": "noop",
            })
        settings.update(self.extra_settings)
        # JSON is YAML: no YAML library needed.
        (conf / "opensearch.yml").write_text("\n".join("%s: %s" % (k, json.dumps(v)) for k, v in settings.items()) + "\n")
        (conf / "log4j2.properties").write_text(LOG4J2)
        _owner_only(conf)

    def _launch(self, node: Node, home: Path) -> subprocess.Popen:
        heap = "%dm" % self.heap_mb
        cmd = [
            "java", "-Xms" + heap, "-Xmx" + heap, "-Xss1m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.io.tmpdir=%s" % (node.home / "tmp"), "-Djava.locale.providers=SPI,COMPAT",
            "-Dlog4j2.disable.jmx=true", "-Dlog4j.shutdownHookEnabled=false",
            "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true",
            "-Dio.netty.recycler.maxCapacityPerThread=0",
            "-Djna.nosys=true", "-Djna.nounpack=true",
            "-Dopensearch.path.home=%s" % home, "-Dopensearch.path.conf=%s" % (node.home / "config"),
            "-Dopensearch.distribution.type=tar", "-Dopensearch.bundled_jdk=false",
            "-cp", "%s/lib/*" % home, "org.opensearch.bootstrap.OpenSearch",
        ]
        log = open(node.log_file, "ab")  # pylint: disable=consider-using-with
        try:
            process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=str(node.home), preexec_fn=_die_with_parent)
        finally:
            log.close()
        _LIVE.add(self)
        return process

    # ---------------------------------------------------------------- HTTP
    def request(self, node: Node, method: str, path: str, body=None, timeout: float = 30, auth: bool = True):
        """(status, parsed JSON or text) from one node; used by the harness and by tests for set-up."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(node.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.security and auth:
            token = base64.b64encode(("%s:%s" % (self.username, self.password)).encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.security else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw.decode() or "null")
        except ValueError:
            return status, raw.decode(errors="replace")

    # ---------------------------------------------------------------- waiting
    def _check_alive(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise HarnessError("node %s exited with %s; last log lines:\n%s"
                                   % (node.name, node.process.returncode, node.log_tail()))

    def wait_formed(self, deadline: float) -> None:
        """Until every node answers and the cluster has all ``size`` nodes and is green.

        The port and security-initialisation phase is probed with a growing back-off (the
        server has no way to announce it); membership and status use the server's own
        long-poll (wait_for_nodes, wait_for_status, timeout).
        """
        pause = 0.05
        pending = list(self.nodes)
        last = ""
        while pending:
            self._check_alive()
            node = pending[0]
            try:
                status, body = self.request(node, "GET", "/", timeout=5)
                if status == 200:
                    pending.pop(0)
                    continue
                last = "%s answered %s: %s" % (node.name, status, str(body)[:200])
            except (OSError, urllib.error.URLError) as err:
                last = "%s: %s" % (node.name, err)
            if time.monotonic() > deadline:
                raise HarnessError("cluster %s did not come up: %s\n%s" % (self.cluster_name, last, node.log_tail()))
            time.sleep(pause)  # back-off between probes of a condition, not a fixed wait
            pause = min(pause * 2, 1.0)
        remaining = max(1, int(deadline - time.monotonic()))
        status, body = self.request(
            self.nodes[0], "GET",
            "/_cluster/health?wait_for_nodes=%d&wait_for_status=green&timeout=%ds" % (self.size, remaining),
            timeout=remaining + 10)
        if status != 200 or body.get("number_of_nodes") != self.size:
            raise HarnessError("cluster %s did not form: %s %s" % (self.cluster_name, status, body))

    # ---------------------------------------------------------------- stop
    def stop(self, grace: float = 30) -> None:
        """SIGTERM the JVMs started here (by PID), SIGKILL any still running after ``grace``."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=grace)
        _LIVE.discard(self)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _owner_only(root: Path) -> None:
    """0700 directories, 0600 files: the security plugin warns about anything wider."""
    os.chmod(root, 0o700)
    for path in root.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def start_clusters(clusters: List[Cluster], timeout: float = 240) -> List[Cluster]:
    """Launch all clusters at once (their JVMs boot in parallel), then wait for each to form."""
    deadline = time.monotonic() + timeout
    try:
        for cluster in clusters:
            cluster.launch()
        for cluster in clusters:
            cluster.wait_formed(deadline)
    except BaseException:
        for cluster in clusters:
            cluster.stop()
        raise
    return clusters


def poll_until(predicate, deadline: float, what: str):
    """predicate()'s first truthy value, asked with a growing back-off until ``deadline`` (monotonic).

    For conditions the server cannot wait on by itself (it has no watch for them)."""
    pause = 0.05
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError("timed out waiting for " + what)
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 1.0)


def new_workdir(prefix: str = "opensearch-") -> Path:
    """A fresh directory for node homes when no pytest tmp_path is at hand."""
    return Path(tempfile.mkdtemp(prefix=prefix))
