# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hazelcast 5.7.0 as the official hazelcast/hazelcast image runs it.

The contract the role relies on: HZ_HOME=/opt/hazelcast with the jars in lib/, JAVA_OPTS appended after
the image's JAVA_OPTS_DEFAULT (so the user's options win), HAZELCAST_CONFIG naming the configuration file
(relative to HZ_HOME or absolute) unless -Dhazelcast.config in JAVA_OPTS overrides it, HZ_* variables
overriding configuration keys (Hazelcast itself reads them), port 5701, any non-root user.
Differences: Debian's OpenJDK 17 JRE instead of the upstream image's; no `hz` CLI, no Prometheus agent."""
import shutil

from tests.servers.hazelcast.jar import HAZELCAST_VERSION, ensure_jar

IMAGE = "docker.io/hazelcast/hazelcast:" + HAZELCAST_VERSION
PACKAGES = ("openjdk-17-jre-headless",)
HOME = "/opt/hazelcast"
CONFIG = {
    "Entrypoint": [HOME + "/bin/start-hazelcast"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HZ_HOME=" + HOME,
            "HAZELCAST_CONFIG=config/hazelcast-docker.yaml", "LANG=C.UTF-8",
            "JAVA_OPTS_DEFAULT=-Djava.net.preferIPv4Stack=true -XX:MaxRAMPercentage=80.0 -XX:MaxGCPauseMillis=5"],
    "WorkingDir": HOME,
    "User": "65534:65534",
    "ExposedPorts": {"5701/tcp": {}},
}
START = """#!/bin/sh
# Options in the order of the official image's start: image defaults, then the configuration file, then JAVA_OPTS.
set -e
cd "$HZ_HOME"
exec java -server $JAVA_OPTS_DEFAULT -Dhazelcast.config="$HAZELCAST_CONFIG" $JAVA_OPTS \\
  -cp "$HZ_HOME/lib/*${CLASSPATH:+:$CLASSPATH}" com.hazelcast.core.server.HazelcastMemberStarter "$@"
"""
DEFAULT_CONFIG = """hazelcast:
  network:
    join:
      auto-detection:
        enabled: true
      multicast:
        enabled: false
    rest-api:
      enabled: true
      endpoint-groups:
        HEALTH_CHECK:
          enabled: true
"""


def populate(tree):
    home = tree / HOME.lstrip("/")
    for sub in ("bin", "lib", "config"):
        (home / sub).mkdir(parents=True)
    shutil.copyfile(ensure_jar(), home / "lib" / "hazelcast-{}.jar".format(HAZELCAST_VERSION))
    (home / "bin" / "start-hazelcast").write_text(START)
    (home / "bin" / "start-hazelcast").chmod(0o755)
    (home / "config" / "hazelcast-docker.yaml").write_text(DEFAULT_CONFIG)
