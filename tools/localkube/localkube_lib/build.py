# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`localkube build`: compile the pinned control plane into the version-keyed cache."""
import datetime
import json
import os
import shutil
import subprocess
import time

from .cluster import KWOK_PLURALS
from .gomod import KUBE_COMMANDS, NODE_COMMANDS
from .versions import MODULES_DIR, bin_dir, coredns_binary, load


def version_ldflags(kube_version):
    major, minor = kube_version.split(".")[:2]
    built = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        for key, value in (("gitVersion", "v" + kube_version), ("gitMajor", major), ("gitMinor", minor),
                           ("gitTreeState", "clean"), ("buildDate", built)):
            flags.append("-X {}.{}={}".format(package, key, value))
    return " ".join(flags)


def targets(versions, real_nodes):
    """(output path, wrapper module, Go package, ldflags) for everything `up` needs."""
    kube, out = versions["KUBERNETES_VERSION"], bin_dir(versions)
    result = [(out / "etcd", "etcd", "go.etcd.io/etcd/server/v3", "-s -w"),
              (out / "kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok",
               "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v" + versions["KWOK_VERSION"])]
    for command in KUBE_COMMANDS + (NODE_COMMANDS if real_nodes else ()):
        result.append((out / command, "kubernetes", "k8s.io/kubernetes/cmd/" + command, version_ldflags(kube)))
    if real_nodes:
        result.append((coredns_binary(versions), "coredns", "github.com/coredns/coredns", "-s -w"))
    return result


def copy_kwok_crds(out):
    """KWOK's CRDs for port-forward, logs and exec simulation, taken from the pinned module source."""
    target = out / "kwok-crds"
    if target.exists():
        return
    download = subprocess.run(["go", "mod", "download", "-json", "sigs.k8s.io/kwok"], cwd=MODULES_DIR / "kwok",
                              check=True, capture_output=True, text=True).stdout
    module_dir = json.loads(download)["Dir"]
    partial = out / "kwok-crds.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    bases = os.path.join(module_dir, "kustomize", "crd", "bases")
    for kind in KWOK_PLURALS:
        shutil.copyfile(os.path.join(bases, "kwok.x-k8s.io_{}.yaml".format(kind)),
                        partial / "{}.yaml".format(kind))
    os.replace(partial, target)


def build(force=False, real_nodes=False):
    versions = load()
    out = bin_dir(versions)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false")
    copy_kwok_crds(out)
    todo = [t for t in targets(versions, real_nodes) if force or not t[0].exists()]
    if not todo:
        print("localkube: binaries cached in {}".format(out), flush=True)
        return out
    for index, (path, module, package, ldflags) in enumerate(todo, 1):
        started = time.monotonic()
        print("localkube: [{}/{}] building {} ...".format(index, len(todo), path.name), flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        subprocess.run(["go", "build", "-trimpath", "-tags=selinux,notest", "-ldflags=" + ldflags,
                        "-o", str(partial), package], cwd=MODULES_DIR / module, env=env, check=True)
        os.replace(partial, path)
        print("localkube: [{}/{}] {} built in {:.0f}s".format(index, len(todo), path.name, time.monotonic() - started),
              flush=True)
    return out
