# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wrapper Go modules that pin the control plane's sources (`localkube pin`)."""
import json
import re
import shutil
import subprocess

from .versions import MODULES_DIR, load

KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
NODE_COMMANDS = ("kubelet", "kube-proxy")


def go(args, cwd, capture=False):
    print("+ go " + " ".join(args), flush=True)
    result = subprocess.run(["go"] + list(args), cwd=cwd, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout


def fresh_module(name):
    path = MODULES_DIR / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    go(["mod", "init", "localkube/" + name], path)
    return path


def staging_modules(kube_version, cwd):
    """The staging modules that k8s.io/kubernetes maps to ./staging, read from its own go.mod."""
    info = json.loads(go(["mod", "download", "-json", "k8s.io/kubernetes@v" + kube_version], cwd, capture=True))
    with open(info["GoMod"]) as handle:
        text = handle.read()
    return sorted(set(re.findall(r"^\s+(k8s\.io/[a-z0-9-]+) => \./staging/", text, re.M)))


def pin_kubernetes(kube_version):
    path = fresh_module("kubernetes")
    go(["mod", "edit", "-go=1.24.0", "-godebug=default=go1.24"], path)
    staging_version = "v0." + kube_version.split(".", 1)[1]
    for module in staging_modules(kube_version, path):
        go(["mod", "edit", "-replace={0}={0}@{1}".format(module, staging_version)], path)
    tools = ["k8s.io/kubernetes/cmd/{}@v{}".format(cmd, kube_version) for cmd in KUBE_COMMANDS + NODE_COMMANDS]
    go(["get", "-tool"] + tools, path)


def pin_single(name, package, version):
    path = fresh_module(name)
    go(["mod", "edit", "-go=1.26.0"], path)
    go(["get", "-tool", "{}@{}".format(package, version)], path)


def pin():
    v = load()
    pin_kubernetes(v["KUBERNETES_VERSION"])
    pin_single("etcd", "go.etcd.io/etcd/server/v3", "v" + v["ETCD_VERSION"])
    pin_single("kwok", "sigs.k8s.io/kwok/cmd/kwok", "v" + v["KWOK_VERSION"])
    pin_single("coredns", "github.com/coredns/coredns", "v" + v["COREDNS_VERSION"])
