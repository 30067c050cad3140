# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Elasticsearch 2.4.6 as the Docker Hub library image elasticsearch:2.4.6 runs it (loklak's cluster, seed 001).

The contract the elasticsearch role relies on in its 2.x mode: ES_HOME /usr/share/elasticsearch with bin/,
lib/, modules/ and config/ (logging.yml, scripts/); `elasticsearch` on PATH and as the command; the role
mounts config/elasticsearch.yml, a data volume at /usr/share/elasticsearch/data and an emptyDir at logs/;
ES_HEAP_SIZE sets the heap; any non-root user whose group can write the data volume (the role runs uid
1000 with fsGroup 1000); bash and curl for the role's readiness probe; ports 9200 and 9300.
Differences: the distribution from Maven Central (org.elasticsearch.distribution.tar:elasticsearch:2.4.6)
on Debian's OpenJDK 17 instead of OpenJDK 8, so ES_GC_OPTS=-XX:+UseSerialGC replaces the CMS collector
that Java 17 no longer has; the entrypoint does not chown the data directory or switch users (gosu): the
pod's securityContext decides the user."""
import tarfile

from tests.servers.loklak.elasticsearch2 import ES2_VERSION, ensure_tarball

IMAGE = "docker.io/library/elasticsearch:" + ES2_VERSION
PACKAGES = ("openjdk-17-jre-headless", "curl")
HOME = "/usr/share/elasticsearch"
CONFIG = {
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["elasticsearch"],
    "Env": ["PATH=" + HOME + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ES_GC_OPTS=-XX:+UseSerialGC", "LANG=C.UTF-8"],
    "WorkingDir": HOME,
    "ExposedPorts": {"9200/tcp": {}, "9300/tcp": {}},
}
# As the library image's entrypoint: options alone mean `elasticsearch <options>`.
ENTRYPOINT = """#!/bin/bash
set -e
if [ "${1:0:1}" = '-' ]; then
  set -- elasticsearch "$@"
fi
exec "$@"
"""
DEFAULT_CONFIG = "network.host: 0.0.0.0\n"


def populate(tree):
    home = tree / HOME.lstrip("/")
    home.parent.mkdir(parents=True)
    with tarfile.open(ensure_tarball()) as tar:
        tar.extractall(tree / "usr" / "share", filter="data")
    (tree / "usr" / "share" / ("elasticsearch-" + ES2_VERSION)).rename(home)
    (home / "config" / "elasticsearch.yml").write_text(DEFAULT_CONFIG)
    for sub in ("data", "logs", "plugins", "config/scripts"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        (home / sub).chmod(0o777 if sub in ("data", "logs") else 0o755)
    entrypoint = tree / "docker-entrypoint.sh"
    entrypoint.write_text(ENTRYPOINT)
    entrypoint.chmod(0o755)
