# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSearch 2.19.1 as the opensearchproject/opensearch image runs it (elasticsearch_distribution: opensearch).

The contract the elasticsearch role relies on: OPENSEARCH_HOME /usr/share/opensearch; config/opensearch.yml
(mounted by the role), config/opensearch-security/ (the security plugin's files, replaced by the role's
init container), plugins/opensearch-security/tools/hash.sh; the entrypoint turns environment variables named
like settings (cluster.initial_cluster_manager_nodes, from the role's bootstrap ConfigMap) into -E options,
honours OPENSEARCH_JAVA_OPTS, DISABLE_SECURITY_PLUGIN and DISABLE_INSTALL_DEMO_CONFIG; uid 1000, which owns the
home (OpenSearch writes config/opensearch.keystore at start); bash and
curl for the role's readiness probe; ports 9200 and 9300.
Differences: assembled from Maven Central by tests/servers/elasticsearch (server, transport-netty4, the
security plugin) on Debian's OpenJDK 17, so only those modules and plugins are present; the demo
configuration is never installed (as with DISABLE_INSTALL_DEMO_CONFIG=true, which the role sets)."""
import shutil

from tests.servers.elasticsearch import LOG4J2, OPENSEARCH_VERSION, ensure_distribution

IMAGE = "docker.io/opensearchproject/opensearch:" + OPENSEARCH_VERSION
PACKAGES = ("openjdk-17-jre-headless", "curl")
HOME = "/usr/share/opensearch"
CONFIG = {
    "Entrypoint": [HOME + "/opensearch-docker-entrypoint.sh"],
    "Cmd": ["opensearchwrapper"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "OPENSEARCH_HOME=" + HOME,
            "OPENSEARCH_PATH_CONF=" + HOME + "/config", "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64",
            "LANG=C.UTF-8"],
    "WorkingDir": HOME,
    "User": "1000:1000",
    "ExposedPorts": {"9200/tcp": {}, "9300/tcp": {}},
}
# As upstream: the home belongs to the opensearch user, which writes config/opensearch.keystore at start.
OWNERS = {HOME.lstrip("/"): (1000, 1000)}
ENTRYPOINT = """#!/bin/bash
# Settings from the environment (names with a dot, as the upstream entrypoint takes them), then the JVM.
set -e
opts=()
while IFS='=' read -r key value; do
  if [[ "$key" =~ ^[a-z0-9_]+\\.[a-z0-9_]+ ]] && [[ -n "$value" ]]; then
    opts+=("-E${key}=${value}")
  fi
done < <(env)
if [[ "${DISABLE_SECURITY_PLUGIN:-false}" == "true" ]]; then
  opts+=("-Eplugins.security.disabled=true")
fi
if [[ "$1" != "opensearchwrapper" ]]; then
  exec "$@"
fi
cd "$OPENSEARCH_HOME"
exec java -Xss1m -XX:+UseG1GC -Djava.io.tmpdir=/tmp -Djava.locale.providers=SPI,COMPAT \\
  -Dlog4j2.disable.jmx=true -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \\
  -Djna.nosys=true ${OPENSEARCH_JAVA_OPTS:-} \\
  -Dopensearch.path.home="$OPENSEARCH_HOME" -Dopensearch.path.conf="$OPENSEARCH_PATH_CONF" \\
  -Dopensearch.distribution.type=docker -Dopensearch.bundled_jdk=false \\
  -cp "$OPENSEARCH_HOME/lib/*" org.opensearch.bootstrap.OpenSearch "${opts[@]}"
"""
DEFAULT_CONFIG = "cluster.name: docker-cluster\nnetwork.host: 0.0.0.0\n"


def populate(tree):
    dist = ensure_distribution()
    home = tree / HOME.lstrip("/")
    for sub in ("lib", "modules", "plugins"):
        shutil.copytree(dist / sub, home / sub, symlinks=True)
    config = home / "config"
    shutil.copytree(dist / "plugins" / "opensearch-security" / "config", config / "opensearch-security")
    (config / "opensearch.yml").write_text(DEFAULT_CONFIG)
    (config / "log4j2.properties").write_text(LOG4J2)
    for sub in ("data", "logs"):
        (home / sub).mkdir()
        (home / sub).chmod(0o777)
    for script in (home / "plugins" / "opensearch-security" / "tools").glob("*.sh"):
        script.chmod(0o755)
    entrypoint = home / "opensearch-docker-entrypoint.sh"
    entrypoint.write_text(ENTRYPOINT)
    entrypoint.chmod(0o755)
