# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pinned Hazelcast jar, fetched from Maven Central into ~/.m2 by mvn."""

import os
import shutil
import subprocess
import sys

HAZELCAST_VERSION = "5.7.0"
MAIN_CLASS = "com.hazelcast.core.server.HazelcastMemberStarter"


def jar_path(version=HAZELCAST_VERSION, m2_repository=None):
    repo = m2_repository or os.path.join(os.path.expanduser("~"), ".m2", "repository")
    return os.path.join(repo, "com", "hazelcast", "hazelcast", version, "hazelcast-%s.jar" % version)


def ensure_jar(version=HAZELCAST_VERSION, m2_repository=None, out=sys.stderr):
    """Return the path of hazelcast-<version>.jar, running `mvn dependency:get` when it is absent."""
    path = jar_path(version, m2_repository)
    if os.path.isfile(path):
        print("hazelcast: reusing %s" % path, file=out)
        return path
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FileNotFoundError("hazelcast: %s is absent and mvn is not on PATH to fetch it" % path)
    print("hazelcast: fetching com.hazelcast:hazelcast:%s with mvn ..." % version, file=out, flush=True)
    command = [mvn, "--batch-mode", "--no-transfer-progress", "dependency:get",
               "-Dartifact=com.hazelcast:hazelcast:%s" % version, "-Dtransitive=false"]
    if m2_repository:
        command.append("-Dmaven.repo.local=%s" % m2_repository)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if result.returncode != 0 or not os.path.isfile(path):
        tail = "\n".join(result.stdout.splitlines()[-20:])
        raise RuntimeError("hazelcast: mvn could not fetch %s (exit %d):\n%s" % (version, result.returncode, tail))
    print("hazelcast: fetched %s" % path, file=out, flush=True)
    return path
