# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line of localkube."""
import argparse

from . import build, cluster, gomod

USAGE = """commands:
  build        compile the pinned control plane into ~/.cache/localkube (skipped when cached)
  up           start etcd, kube-apiserver, controller-manager, scheduler and 3 nodes in zones a, b, c:
               simulated by KWOK (--nodes kwok, the default) or real (--nodes real: containerd, kubelet,
               kube-proxy and CoreDNS, each node in a sealed network namespace; needs root)
  can-run-real exit 0 when this machine can run real nodes, else print why not
  down         stop what `up` started (add --purge to delete the cluster's state too)
  restart C    stop and start one component (etcd, kube-apiserver, ...), e.g. to test an outage
  status       show the components and nodes; exit 1 unless all are running
  kubeconfig   print the admin kubeconfig path (export KUBECONFIG=$(localkube kubeconfig))
  versions     print the pinned versions
  pin          regenerate the wrapper Go modules from versions.env

LOCALKUBE_PROFILE=test runs a second cluster beside the default one (its own state directory, every
port + 10000): `make test` and `make bench` use it, `make demo` the default one."""


def main(argv):
    parser = argparse.ArgumentParser(prog="localkube", epilog=USAGE, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=("build", "up", "down", "restart", "status", "kubeconfig", "versions",
                                            "pin", "can-run-real", "load"))
    parser.add_argument("component", nargs="*", help="with restart: the component to restart; with load: "
                                                     "OCI image archives to import into every real node")
    parser.add_argument("--purge", action="store_true", help="with down: remove etcd data, certificates and logs")
    parser.add_argument("--force", action="store_true", help="with build: rebuild even when cached")
    parser.add_argument("--nodes", choices=("kwok", "real"), default=None,
                        help="with build: also build kubelet, kube-proxy and CoreDNS (real); with up: simulated nodes "
                             "(kwok, the default) or real kubelet nodes in sealed network namespaces (real)")
    parser.add_argument("--fresh", action="store_true",
                        help="with up: when nothing is running, discard the state of an earlier cluster first")
    args = parser.parse_args(argv)
    if args.command == "build":
        build.build(force=args.force, real_nodes=args.nodes == "real")
        return 0
    if args.command == "pin":
        gomod.pin()
        return 0
    if args.command == "up":
        return cluster.up(fresh=args.fresh, nodes=args.nodes)
    if args.command == "restart":
        return cluster.restart(args.component[0] if args.component else None)
    if args.command == "load":
        return cluster.load_images(args.component)
    if args.command == "down":
        return cluster.down(purge=args.purge)
    return {"status": cluster.status, "can-run-real": cluster.can_run_real, "kubeconfig": cluster.kubeconfig,
            "versions": cluster.versions}[args.command]()
