# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builds the real Atomix controllers from the pristine upstream archives in the vendor folder.

Each generation is cached under ~/.cache/atomix/<input checksum>/bin; the checksum covers the
archives' sha256, this file (the recipe and its source edits) and the Go version, so a cached
build is reused until one of them changes. Nothing is downloaded for github.com/atomix/*: every
one of those modules is an archive from SOURCES.tsv wired in with a `replace` directive. The
third-party modules come from the Go module proxy.

    python -m tests.servers.atomix.build [cloud-v1beta2] [v1]    # prints each generation's bin dir
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile

VENDOR = os.environ.get("ATOMIX_VENDOR", "/work/shared/vendor/atomix")
CACHE = os.environ.get("ATOMIX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "atomix"))

# Module directory (the archive's name) -> the github.com/atomix modules it takes from siblings.
REPLACES = {
    "kubernetes-controller-v0.2.0-beta.5": {"github.com/atomix/api": "api-13b24edbe32d"},
    "raft-storage-controller-v0.1.1": {
        "github.com/atomix/api": "api-13b24edbe32d",
        "github.com/atomix/kubernetes-controller": "kubernetes-controller-v0.2.0-beta.5",
    },
    "atomix-controller-v1.0.0": {
        "github.com/atomix/atomix/api": "atomix-api-v1.0.0",
        "github.com/atomix/atomix/runtime": "atomix-runtime-v1.0.0",
    },
    "atomix-stores-raft-v0.7.0": {
        "github.com/atomix/atomix/api": "atomix-api-v1.1.0",
        "github.com/atomix/atomix/controller": "atomix-controller-v1.0.0",
        "github.com/atomix/atomix/protocols/rsm": "atomix-protocols-rsm-v1.1.1",
        "github.com/atomix/atomix/runtime": "atomix-runtime-v1.1.0",
    },
}

# dragonboat -> miekg/dns -> an old golang.org/x/net that links to syscall.recvmsg, which Go >= 1.23
# refuses unless the linkname check is off.
_OLD_LINKNAME = "-checklinkname=0"

# Generation -> binaries: (output name, module directory, package, needs the linkname flag).
GENERATIONS = {
    "cloud-v1beta2": [
        ("kubernetes-controller-v0.2.0-beta.5", "kubernetes-controller-v0.2.0-beta.5", "./cmd/controller", False),
        ("raft-storage-controller-v0.1.1", "raft-storage-controller-v0.1.1", "./cmd/raft-storage-controller", False),
    ],
    "v1": [
        ("atomix-controller-v1.0.0", "atomix-controller-v1.0.0", "./cmd/atomix-controller", False),
        ("atomix-controller-init-v1.0.0", "atomix-controller-v1.0.0", "./cmd/atomix-controller-init", False),
        ("atomix-raft-controller-v0.7.0", "atomix-stores-raft-v0.7.0", "./cmd/atomix-raft-controller", True),
        ("atomix-raft-node-v0.7.0", "atomix-stores-raft-v0.7.0", "./cmd/atomix-raft-node", True),
    ],
}

# Source edits that only make listen addresses configurable, so that the controllers can run out of
# cluster on 127.0.0.1 side by side; with the variables unset they behave as upstream.
_LOCALRUN_GO = """// Added by stateful.datastores' build (not upstream): listen addresses from the environment.
package %(package)s

import (
    "os"
    "strconv"
)

var _ = strconv.Itoa

%(functions)s
"""
_METRICS_FUNC = """// METRICS_BIND_ADDRESS, unset: controller-runtime's default (:8080); "0" disables metrics.
func localrunMetricsAddress() string {
    return os.Getenv("METRICS_BIND_ADDRESS")
}
"""
_WEBHOOK_FUNC = """// WEBHOOK_PORT, unset: upstream's 443.
func localrunWebhookPort() int {
    if p, err := strconv.Atoi(os.Getenv("WEBHOOK_PORT")); err == nil && p > 0 {
        return p
    }
    return 443
}
"""
_CONTROL_FUNC = """// CONTROLLER_API_ADDRESS, unset: upstream's :5679.
func localrunControlAddress() string {
    if a := os.Getenv("CONTROLLER_API_ADDRESS"); a != "" {
        return a
    }
    return ":5679"
}
"""
# (file relative to the module, text upstream, replacement, package of the file, helper it needs)
EDITS = {
    "kubernetes-controller-v0.2.0-beta.5": [
        ("cmd/controller/main.go", "manager.Options{Namespace: namespace}",
         "manager.Options{Namespace: namespace, MetricsBindAddress: localrunMetricsAddress()}", "main", _METRICS_FUNC),
        ("pkg/controller/controller.go", 'net.Listen("tcp", ":5679")',
         'net.Listen("tcp", localrunControlAddress())', "controller", _CONTROL_FUNC),
    ],
    "raft-storage-controller-v0.1.1": [
        ("cmd/raft-storage-controller/main.go", "manager.Options{Namespace: namespace}",
         "manager.Options{Namespace: namespace, MetricsBindAddress: localrunMetricsAddress()}", "main", _METRICS_FUNC),
    ],
    "atomix-controller-v1.0.0": [
        ("cmd/atomix-controller/main.go", "manager.Options{Namespace: namespace}",
         "manager.Options{Namespace: namespace, MetricsBindAddress: localrunMetricsAddress()}", "main", _METRICS_FUNC),
        ("cmd/atomix-controller/main.go", "mgr.GetWebhookServer().Port = 443",
         "mgr.GetWebhookServer().Port = localrunWebhookPort()", "main", _WEBHOOK_FUNC),
    ],
    "atomix-stores-raft-v0.7.0": [
        ("cmd/atomix-raft-controller/main.go", "manager.Options{Namespace: namespace}",
         "manager.Options{Namespace: namespace, MetricsBindAddress: localrunMetricsAddress()}", "main", _METRICS_FUNC),
        ("cmd/atomix-raft-controller/main.go", "mgr.GetWebhookServer().Port = 443",
         "mgr.GetWebhookServer().Port = localrunWebhookPort()", "main", _WEBHOOK_FUNC),
    ],
}

# atomix/api at this commit has no go.mod; this is what the module proxy would synthesize.
_SYNTHESIZED_GO_MOD = {"api-13b24edbe32d": "module github.com/atomix/api\n\ngo 1.13\n"}


class BuildError(RuntimeError):
    pass


def read_sources(vendor=VENDOR):
    """SOURCES.tsv as {name: row dict}."""
    with open(os.path.join(vendor, "SOURCES.tsv"), encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    header, rows = lines[0], lines[1:]
    return {row[0]: dict(zip(header, row)) for row in rows}


def modules_of(generation):
    """Every archive a generation's build unpacks: its modules and what they replace."""
    names = set()
    for _out, module, _pkg, _flag in GENERATIONS[generation]:
        names.add(module)
        names.update(REPLACES.get(module, {}).values())
    for name in list(names):
        names.update(REPLACES.get(name, {}).values())
    return sorted(names)


def go_version():
    result = subprocess.run(["go", "env", "GOVERSION"], stdout=subprocess.PIPE, text=True, check=True)
    return result.stdout.strip()


def input_checksum(generation, vendor=VENDOR, go=None):
    sources = read_sources(vendor)
    digest = hashlib.sha256()
    digest.update(generation.encode())
    digest.update((go or go_version()).encode())
    with open(__file__, "rb") as f:
        digest.update(f.read())
    for name in modules_of(generation):
        digest.update(("%s %s\n" % (name, sources[name]["sha256"])).encode())
    return digest.hexdigest()[:16]


def bin_dir(generation, vendor=VENDOR, cache=CACHE):
    return os.path.join(cache, input_checksum(generation, vendor), "bin")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(name, sources, vendor, work):
    archive = os.path.join(vendor, "sources", name + ".tar.gz")
    actual = _sha256(archive)
    if actual != sources[name]["sha256"]:
        raise BuildError("atomix: %s has sha256 %s, SOURCES.tsv pins %s" % (archive, actual, sources[name]["sha256"]))
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    if not os.path.isdir(os.path.join(work, name)):
        raise BuildError("atomix: %s does not unpack into %s/" % (archive, name))


def _wire(name, work, env):
    """The project's own patch step: go.mod replaces and the listen-address edits."""
    module_dir = os.path.join(work, name)
    if name in _SYNTHESIZED_GO_MOD:
        with open(os.path.join(module_dir, "go.mod"), "w", encoding="utf-8") as f:
            f.write(_SYNTHESIZED_GO_MOD[name])
    for module, sibling in sorted(REPLACES.get(name, {}).items()):
        subprocess.run(["go", "mod", "edit", "-replace", "%s=../%s" % (module, sibling)],
                       cwd=module_dir, env=env, check=True)
    helpers = {}
    for rel, old, new, package, helper in EDITS.get(name, []):
        path = os.path.join(module_dir, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.count(old) != 1:
            raise BuildError("atomix: expected one %r in %s/%s" % (old, name, rel))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
        helpers.setdefault(os.path.dirname(rel), (package, []))[1].append(helper)
    for directory, (package, functions) in helpers.items():
        with open(os.path.join(module_dir, directory, "zz_localrun.go"), "w", encoding="utf-8") as f:
            f.write(_LOCALRUN_GO % {"package": package, "functions": "\n".join(dict.fromkeys(functions))})


def _build_env():
    env = dict(os.environ)
    env.update({"GOFLAGS": "-mod=mod -buildvcs=false", "CGO_ENABLED": "0",
                "GOTOOLCHAIN": env.get("GOTOOLCHAIN", "local")})
    return env


def build(generation, vendor=VENDOR, cache=CACHE, out=sys.stderr):
    """Return the bin directory of a generation, building it first when it is not cached."""
    if generation not in GENERATIONS:
        raise BuildError("atomix: unknown generation %r (%s)" % (generation, ", ".join(GENERATIONS)))
    if shutil.which("go") is None:
        raise BuildError("atomix: go is not on PATH")
    key = input_checksum(generation, vendor)
    root = os.path.join(cache, key)
    done = os.path.join(root, "complete")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, key + ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(done):
            print("atomix: reusing %s" % root, file=out)
            return os.path.join(root, "bin")
        shutil.rmtree(root, ignore_errors=True)
        work = os.path.join(root, "src")
        bindir = os.path.join(root, "bin")
        os.makedirs(work)
        os.makedirs(bindir)
        sources = read_sources(vendor)
        env = _build_env()
        for name in modules_of(generation):
            _unpack(name, sources, vendor, work)
        for name in modules_of(generation):
            _wire(name, work, env)
        for output, module, package, linkname in GENERATIONS[generation]:
            print("atomix: building %s ..." % output, file=out, flush=True)
            command = ["go", "build", "-trimpath", "-o", os.path.join(bindir, output)]
            if linkname:
                command.append("-ldflags=" + _OLD_LINKNAME)
            result = subprocess.run(command + [package], cwd=os.path.join(work, module), env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            if result.returncode != 0:
                raise BuildError("atomix: go build of %s failed (exit %d):\n%s"
                                 % (output, result.returncode, "\n".join(result.stdout.splitlines()[-30:])))
        shutil.rmtree(work)
        with open(done, "w", encoding="utf-8") as f:
            f.write("%s\n" % go_version())
        print("atomix: built %s" % bindir, file=out, flush=True)
        return bindir


def main(argv):
    generations = argv or sorted(GENERATIONS)
    try:
        for generation in generations:
            print("%s %s" % (generation, build(generation)))
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
