# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""loklak_server built from ../shared/vendor/loklak/ with Maven Central only, cached by input checksum.

The vendored bundle holds the upstream source (a `git archive`) and a pom generated from its
build.gradle (gradle and jcenter are out of reach here). This module unpacks the source, builds the
fat jar with that pom and assembles the directory loklak runs from (bin/, conf/, html/, ssi/,
installation/, test/queries/, build/libs/loklak_server-all.jar) under
~/.cache/loklak/<sha256 of the inputs>/dist. A finished build is reused; a broken one is rebuilt.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

LOKLAK_REVISION = "f79c657"
VENDOR = Path(os.environ.get("LOKLAK_VENDOR", Path(__file__).resolve().parents[4] / "shared" / "vendor" / "loklak"))
CACHE = Path(os.environ.get("LOKLAK_CACHE", Path.home() / ".cache" / "loklak"))
JAR = Path("build") / "libs" / "loklak_server-all.jar"
# What bin/start.sh needs at run time; test/queries is read by DAO.init() when data/queries is nearly empty.
RUNTIME_PATHS = ("bin", "conf", "html", "installation", "ssi", Path("test") / "queries")
DONE = "build.done"


def inputs(revision=LOKLAK_REVISION, vendor=VENDOR):
    return [vendor / ("loklak_server-%s.tar.gz" % revision), vendor / ("pom-%s.xml" % revision)]


def input_checksum(revision=LOKLAK_REVISION, vendor=VENDOR):
    digest = hashlib.sha256()
    for path in inputs(revision, vendor):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def dist_path(revision=LOKLAK_REVISION, vendor=VENDOR, cache=CACHE):
    return cache / input_checksum(revision, vendor) / "dist"


def _verify_archive(archive, vendor):
    sums = dict(reversed(line.split()) for line in (vendor / "SHA256SUMS").read_text().splitlines() if line.strip())
    actual = hashlib.sha256(archive.read_bytes()).hexdigest()
    if sums.get(archive.name) != actual:
        raise RuntimeError("loklak: %s does not match SHA256SUMS (%s)" % (archive, actual))


def ensure_dist(revision=LOKLAK_REVISION, vendor=VENDOR, cache=CACHE, out=sys.stderr):
    """Return the runnable loklak directory, building it first when the cache has none."""
    archive, pom = inputs(revision, vendor)
    dist = dist_path(revision, vendor, cache)
    if (dist.parent / DONE).is_file():
        print("loklak: reusing %s" % dist, file=out)
        return dist
    if shutil.which("mvn") is None:
        raise FileNotFoundError("loklak: mvn is not on PATH to build %s" % archive)
    _verify_archive(archive, vendor)
    shutil.rmtree(dist.parent, ignore_errors=True)
    dist.parent.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="loklak-build-") as work:
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        source = Path(work) / "loklak_server"
        shutil.copyfile(pom, source / "pom.xml")
        print("loklak: building %s with mvn (about a minute) ..." % archive.name, file=out, flush=True)
        result = subprocess.run(["mvn", "--batch-mode", "--no-transfer-progress", "package", "-DskipTests"],
                                cwd=str(source), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                check=False)
        if result.returncode != 0 or not (source / JAR).is_file():
            tail = "\n".join(result.stdout.splitlines()[-30:])
            raise RuntimeError("loklak: mvn package failed (exit %d):\n%s" % (result.returncode, tail))
        for relative in RUNTIME_PATHS:
            shutil.copytree(source / relative, dist / relative, symlinks=True)
        (dist / JAR).parent.mkdir(parents=True)
        shutil.copyfile(source / JAR, dist / JAR)
    (dist.parent / DONE).write_text(revision + "\n")
    print("loklak: built %s" % dist, file=out, flush=True)
    return dist


if __name__ == "__main__":
    print(ensure_dist())
