# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak_server as the seed's image loklak/loklak_server:latest-kubernetes-development runs it (seed 001).

The contract the loklak role relies on: the working directory /loklak_server holds bin/, conf/, html/,
ssi/, installation/, test/queries and build/libs/loklak_server-all.jar; the command is `bin/start.sh -Idn`
(foreground, logs to stdout); loklak reads data/settings/customized_config.properties over
conf/config.properties (the role mounts that file and a volume at data/); bash for the role's init
container and readiness probe (bash's /dev/tcp, no curl); Jetty on port.http (the role's 80, so
NET_BIND_SERVICE when not root). Differences: built from ../shared/vendor/loklak (development head f79c657,
the seed's branch) with Maven Central instead of gradle and jcenter (tests/servers/loklak/build.py); Debian's
OpenJDK 17 instead of Alpine's OpenJDK 8; the seed's image ran as root, this one too (the role can set
loklak_run_as_user; data/ must then be writable by that user)."""
import shutil

from tests.servers.loklak.build import JAR, RUNTIME_PATHS, ensure_dist

IMAGE = "docker.io/loklak/loklak_server:latest-kubernetes-development"
PACKAGES = ("openjdk-17-jre-headless",)
HOME = "/loklak_server"
CONFIG = {
    "Cmd": ["bin/start.sh", "-Idn"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=en_US.UTF-8",
            "JAVA_TOOL_OPTIONS=-Dfile.encoding=UTF8"],
    "WorkingDir": HOME,
    "ExposedPorts": {"80/tcp": {}, "9000/tcp": {}},
}


def populate(tree):
    dist = ensure_dist()
    home = tree / HOME.lstrip("/")
    for relative in RUNTIME_PATHS:
        shutil.copytree(dist / relative, home / relative, symlinks=True)
    (home / JAR).parent.mkdir(parents=True)
    shutil.copyfile(dist / JAR, home / JAR)
    (home / "data" / "settings").mkdir(parents=True)
