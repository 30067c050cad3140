# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes glue for the Antidote modules: which pod each DC is reached at, the port-forwards,
node names from StatefulSets, and the connection record kept in a ConfigMap.

The protocol and the operations live in antidote_pb.py and antidote.py; this file only turns
module parameters into ``DcEndpoint`` objects (a local port-forward listener per DC, or a direct
address), runs the operations, and words the errors so that they name the DC, the pod and the
cause (the port-forward's own error when the tunnel failed).
"""

import contextlib
import json
import re

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.antidote.operations import (
    DEFAULT_METRICS_PORT,
    DEFAULT_PB_PORT,
    DcEndpoint,
    DcOperationError,
    MultiDcError,
    RetryPolicy,
    TopologyError,
    create_dc,
    ensure_connected,
    read_dc_counts,
    run_parallel,
)
from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import AntidoteError
from ansible_collections.stateful.datastores.plugins.module_utils.antidote.topology import (
    DEFAULT_NODE_NAME_PREFIX,
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    check_node_name_prefix,
    node_names,
    pod_name,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.forward import LocalForward
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.lease import held
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import object_path

FIELD_MANAGER = "stateful.datastores"
# createDC and connectDCs from two runs at once leave real AntidoteDB DCs that do not replicate (a createDC
# that ends after the other run connected undoes the connection), so both modules hold this Lease in the
# DCs' namespace while they act; the second run waits, then finds the ring full and the record current.
ADMIN_LEASE = "stateful-datastores-antidote-admin"
RECORD_KEY = "record.json"
DEFAULT_RECORD_CONFIGMAP = "antidote-dc-connections"
RECORD_LABELS = {
    "app.kubernetes.io/name": "antidote",
    "app.kubernetes.io/component": "connection-record",
    "app.kubernetes.io/part-of": "stateful-datastores",
    "app.kubernetes.io/managed-by": "stateful.datastores",
}

# ---------------------------------------------------------------------------------------------
# Argument specs (the modules' DOCUMENTATION describes the same options)

_TARGET_OPTIONS = {
    "name": {"type": "str"},
    "namespace": {"type": "str"},
    "statefulset": {"type": "str"},
    "pod": {"type": "str"},
    "endpoint": {"type": "str"},
}
DC_ENTRY_OPTIONS = dict(_TARGET_OPTIONS, **{
    "service": {"type": "str"},
    "replicas": {"type": "int"},
    "nodes": {"type": "list", "elements": "str"},
})
CONNECT_ENTRY_OPTIONS = dict(_TARGET_OPTIONS, metrics_endpoint={"type": "str"})
_COMMON = {
    "namespace": {"type": "str"},
    "pb_port": {"type": "int", "default": DEFAULT_PB_PORT},
    "timeout": {"type": "int", "default": 300},
    "call_timeout": {"type": "int", "default": 120},
}


def _named_entries(options):
    entries = dict((key, dict(value)) for key, value in options.items())
    entries["name"]["required"] = True
    return entries


def dc_argument_spec():
    spec = dict((key, dict(value)) for key, value in DC_ENTRY_OPTIONS.items())
    spec.update(_COMMON)
    spec.update({
        "dcs": {"type": "list", "elements": "dict", "options": _named_entries(DC_ENTRY_OPTIONS)},
        "node_name_prefix": {"type": "str", "default": DEFAULT_NODE_NAME_PREFIX},
    })
    return spec


DC_MUTUALLY_EXCLUSIVE = [("dcs", key) for key in DC_ENTRY_OPTIONS if key != "namespace"]


def connect_argument_spec():
    spec = dict(_COMMON)
    spec.update({
        "dcs": {"type": "list", "elements": "dict", "required": True, "options": _named_entries(CONNECT_ENTRY_OPTIONS)},
        "metrics_port": {"type": "int", "default": DEFAULT_METRICS_PORT},
        "record_configmap": {"type": "str", "default": DEFAULT_RECORD_CONFIGMAP},
        "record_namespace": {"type": "str"},
        "record_labels": {"type": "dict", "default": {}},
        "verify": {"type": "bool", "default": True},
        "verify_replication": {"type": "bool", "default": True},
        "force": {"type": "bool", "default": False},
    })
    return spec


# ---------------------------------------------------------------------------------------------
# Where each DC is


class AntidoteK8sError(DatastoresError):
    """A failure to report as the module's message, with what is known so far."""


class Target:
    """One DC as the user named it: a pod to port-forward to, or a direct address."""

    def __init__(self, where, name, namespace=None, statefulset=None, pod=None, endpoint=None,
                 metrics_endpoint=None, service=None, replicas=None, nodes=None):
        self.where = where  # the option path for messages, e.g. "dcs[1]"
        self.name = name
        self.namespace = namespace
        self.statefulset = statefulset
        self.pod = pod or (pod_name(statefulset) if statefulset else None)
        self.endpoint = endpoint
        self.metrics_endpoint = metrics_endpoint
        self.service = service
        self.replicas = replicas
        self.nodes = list(nodes) if nodes else None

    @property
    def direct(self):
        return bool(self.endpoint)


def parse_address(text, default_port, option):
    """'host:port', 'host' or '[v6]:port' -> (host, port)."""
    text = (text or "").strip()
    match = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", text) or re.match(r"^([^:\s/]+)(?::(\d+))?$", text)
    if not match:
        raise ValueError("{0} must be host:port (or host, or [ipv6]:port), got {1!r}".format(option, text))
    port = int(match.group(2)) if match.group(2) else int(default_port)
    if not 0 < port < 65536:
        raise ValueError("{0} has port {1}, outside 1-65535".format(option, port))
    return match.group(1), port


def _entries(params, entry_options):
    """[(where, entry)]: the `dcs` list, or one entry from the top-level options."""
    if params.get("dcs"):
        return [("dcs[{0}]".format(index), entry) for index, entry in enumerate(params["dcs"])]
    single = dict((key, params.get(key)) for key in entry_options)
    if not any(single.get(key) for key in ("name", "statefulset", "pod", "endpoint")):
        raise ValueError("name the DC: give statefulset (with namespace), pod, or endpoint, or a list in dcs")
    return [("", single)]


def _opt(where, key):
    return "{0}.{1}".format(where, key) if where else key


def targets_from_params(params, entry_options, need_nodes=False):
    """Targets from module parameters; ValueError names the option at fault."""
    targets = []
    for where, entry in _entries(params, entry_options):
        name = entry.get("name") or entry.get("statefulset") or entry.get("pod") or entry.get("endpoint")
        if where and not entry.get("name"):
            raise ValueError("{0} needs a name (the DC's name, used in messages and the record)".format(
                _opt(where, "name")))
        namespace = entry.get("namespace") or params.get("namespace")
        if entry.get("endpoint"):
            parse_address(entry["endpoint"], params.get("pb_port") or DEFAULT_PB_PORT, _opt(where, "endpoint"))
        elif not (entry.get("pod") or entry.get("statefulset")):
            raise ValueError("{0}: give endpoint (a direct host:port), or pod or statefulset to reach the DC through "
                             "the Kubernetes API's port-forward".format(where or "the DC"))
        if not entry.get("endpoint") and not namespace:
            raise ValueError("{0}: namespace is needed to find pod {1!r} (set {2} or the top-level namespace)".format(
                where or "the DC", entry.get("pod") or pod_name(entry["statefulset"]), _opt(where, "namespace")))
        for key in ("statefulset", "pod", "service"):
            value = entry.get(key)
            if value and not DNS1123_SUBDOMAIN.match(value):
                raise ValueError("{0} {1!r} is not a Kubernetes object name".format(_opt(where, key), value))
        if entry.get("metrics_endpoint"):
            parse_address(entry["metrics_endpoint"], DEFAULT_METRICS_PORT, _opt(where, "metrics_endpoint"))
        if entry.get("replicas") is not None and entry["replicas"] < 1:
            raise ValueError("{0} must be 1 or more, got {1}".format(_opt(where, "replicas"), entry["replicas"]))
        if need_nodes and not entry.get("nodes") and not entry.get("statefulset"):
            raise ValueError("{0}: give nodes (the Erlang node names, antidote@host) or statefulset to derive them "
                             "from".format(where or "the DC"))
        targets.append(Target(where, name, namespace, entry.get("statefulset"), entry.get("pod"),
                              entry.get("endpoint"), entry.get("metrics_endpoint"), entry.get("service"),
                              entry.get("replicas"), entry.get("nodes")))
    names = [target.name for target in targets]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise ValueError("DC names must be unique in dcs, used more than once: {0}".format(", ".join(duplicates)))
    return targets


def resolve_nodes(kube, target, prefix=DEFAULT_NODE_NAME_PREFIX):
    """The node names of a target: given, or derived from its StatefulSet (read when needed)."""
    if target.nodes:
        return target.nodes
    check_node_name_prefix(prefix)
    service, replicas = target.service, target.replicas
    if service is None or replicas is None:
        if kube is None or not target.namespace:
            raise ValueError("{0}: service and replicas are needed to derive node names without reading the "
                             "StatefulSet".format(target.where or "the DC"))
        sts = kube.get(object_path("StatefulSet", target.namespace, target.statefulset), missing_ok=True)
        if sts is None:
            raise AntidoteK8sError("DC {0}: StatefulSet {1}/{2} does not exist; node names are derived from its "
                                   "replicas and serviceName".format(target.name, target.namespace, target.statefulset))
        spec = sts.get("spec") or {}
        service = service or spec.get("serviceName")
        replicas = replicas if replicas is not None else spec.get("replicas", 1)
        if not service:
            raise AntidoteK8sError("DC {0}: StatefulSet {1}/{2} has no serviceName (a headless Service); Antidote's "
                                   "node names antidote@<pod>.<service> need one".format(
                                       target.name, target.namespace, target.statefulset))
    return node_names(target.statefulset, service, replicas, prefix)


class ReachedDc(DcEndpoint):
    """A DcEndpoint that says how it is reached (no __slots__: carries `via`, `target`, `forwards`)."""

    def __str__(self):
        return "{0} ({1})".format(self.name, getattr(self, "via", self.address))


@contextlib.contextmanager
def reach(kube, targets, pb_port, metrics_port=None):
    """Yield one ReachedDc per target: a local listener per port-forwarded port, or the direct address."""
    with contextlib.ExitStack() as stack:
        reached = []
        for target in targets:
            forwards = []
            if target.direct:
                host, port = parse_address(target.endpoint, pb_port, "endpoint")
                metrics = None
                if metrics_port:
                    metrics = (parse_address(target.metrics_endpoint, metrics_port, "metrics_endpoint")
                               if target.metrics_endpoint else (host, metrics_port))
                via = "{0}:{1}".format(host, port)
            else:
                forwards = [LocalForward(kube, target.namespace, target.pod, each) for each in (pb_port, metrics_port)
                            if each]
                addresses = [stack.enter_context(forward) for forward in forwards]
                (host, port), metrics = addresses[0], addresses[1] if metrics_port else None
                via = "pod {0}/{1} port {2} through port-forward".format(target.namespace, target.pod, pb_port)
            dc = ReachedDc(target.name, host, port, metrics[1] if metrics else None)
            if metrics and metrics[0] != host:
                dc.metrics_host = metrics[0]
            dc.via, dc.target, dc.forwards = via, target, forwards
            reached.append(dc)
        yield reached


def _forward_problem(dc):
    return ["{0}: {1}".format(forward, forward.failure()) for forward in getattr(dc, "forwards", [])
            if forward.last_error]


def explain(error, dcs):
    """The error's text plus what the port-forwards of the failed DCs reported."""
    failed = [item.dc.name for item in getattr(error, "errors", [])] or (
        [error.dc.name] if isinstance(error, DcOperationError) else [dc.name for dc in dcs])
    extra = []
    for dc in dcs:
        if dc.name in failed:
            extra += _forward_problem(dc)
    return str(error) + ("" if not extra else ". " + "; ".join(extra))


# ---------------------------------------------------------------------------------------------
# createDC


def create_dcs(kube, params, check_mode=False, open_client=None):
    """Run createDC (when membership must change) on every DC in parallel; return the module result."""
    targets = targets_from_params(params, DC_ENTRY_OPTIONS, need_nodes=True)
    for target in targets:
        target.nodes = resolve_nodes(kube, target, params.get("node_name_prefix") or DEFAULT_NODE_NAME_PREFIX)
    lease_namespace = params.get("namespace") or targets[0].namespace
    warnings = []
    lock = contextlib.nullcontext(0.0) if check_mode or kube is None or not lease_namespace else held(
        kube, lease_namespace, ADMIN_LEASE, params["timeout"], "antidote_dc", warnings)
    with lock as waited, reach(kube, targets, params["pb_port"]) as dcs:
        policy = RetryPolicy(timeout=max(1, params["timeout"] - waited), call_timeout=params["call_timeout"])
        try:
            results = run_parallel(dcs, "createDC", lambda dc: create_dc(
                dc, dc.target.nodes, policy=policy, check_mode=check_mode, open_client=open_client))
        except (MultiDcError, DcOperationError) as error:
            raise AntidoteK8sError(explain(error, dcs)) from error
        entries = []
        for dc in dcs:
            outcome = results[dc.name]
            entries.append({
                "name": dc.name, "reached": dc.via, "changed": outcome["changed"], "dc_id": outcome["dc_id"],
                "partitions": outcome["partitions"], "nodes": outcome["requested"],
                "expected_members": outcome["expected_members"], "members_before": outcome["members_before"],
                "members": outcome["members"], "attempts": outcome["attempts"],
            })
            if outcome["members_before"] > outcome["expected_members"]:
                warnings.append(
                    "DC {0} has {1} ring members, more than the {2} node(s) asked for: Antidote offers no way to "
                    "leave a DC over its API, so nodes removed by a scale-down stay in the ring".format(
                        dc.name, outcome["members_before"], outcome["expected_members"]))
    return {"changed": any(entry["changed"] for entry in entries), "dcs": entries, "warnings": warnings}


# ---------------------------------------------------------------------------------------------
# The connection record


def read_record(kube, namespace, name):
    """(record or None, warning or None) from the ConfigMap's data[record.json]."""
    configmap = kube.get(object_path("ConfigMap", namespace, name), missing_ok=True)
    if configmap is None:
        return None, None
    text = (configmap.get("data") or {}).get(RECORD_KEY)
    try:
        record = json.loads(text) if text else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("dcs"), dict):
        return None, "ConfigMap {0}/{1} holds no valid {2}; the DCs are connected again".format(
            namespace, name, RECORD_KEY)
    return record, None


def record_configmap(namespace, name, record, labels=None):
    merged = dict(RECORD_LABELS)
    merged.update(labels or {})
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": merged},
        "data": {RECORD_KEY: json.dumps(record, sort_keys=True, indent=1)},
    }


def write_record(kube, namespace, name, record, labels=None):
    kube.apply(object_path("ConfigMap", namespace, name), record_configmap(namespace, name, record, labels),
               FIELD_MANAGER, force=True)


# ---------------------------------------------------------------------------------------------
# connectToDCs


def unreachable_hint(counts, total):
    """Words for a failed antidote_dc_count check: which DC the others most likely cannot reach.

    A DC whose inter-DC ports (8085/8086 on the pod IPs in its descriptor) the others cannot reach
    still subscribes to them, so it counts every DC while each of the others counts one fewer.
    """
    if not counts:
        return None
    full = sorted(name for name, count in counts.items() if count >= total)
    lagging = sorted(name for name, count in counts.items() if count < total)
    if not lagging:
        return None
    shown = ", ".join("{0}={1}".format(name, counts[name]) for name in sorted(counts))
    if full and all(counts[name] == total - len(full) for name in lagging):
        return ("DC {0} {1} unreachable from {2}: those DCs count {3} of {4} DCs while {0} counts all {4} "
                "(antidote_dc_count {5}); check that {2} can reach the pod IPs of {0} on ports 8085 and 8086").format(
                    ", ".join(full), "is" if len(full) == 1 else "are", ", ".join(lagging), total - len(full),
                    total, shown)
    return "antidote_dc_count per DC: {0} (of {1} DCs)".format(shown, total)


def connect(kube, params, check_mode=False, open_client=None):
    """Connect every DC to every other one unless the record says it is done; return the module result."""
    targets = targets_from_params(params, CONNECT_ENTRY_OPTIONS)
    record_namespace = params.get("record_namespace") or params.get("namespace")
    record_name = params.get("record_configmap") or DEFAULT_RECORD_CONFIGMAP
    if not record_namespace:
        raise ValueError("record_namespace (or namespace) is needed: the connection record is a ConfigMap there")
    if not DNS1123_SUBDOMAIN.match(record_name) or not DNS1123_LABEL.match(record_namespace):
        raise ValueError("record_configmap {0!r} / record_namespace {1!r} are not valid Kubernetes names".format(
            record_name, record_namespace))
    warnings = []
    lock = contextlib.nullcontext(0.0) if check_mode else held(
        kube, record_namespace, ADMIN_LEASE, params["timeout"], "antidote_connect", warnings)
    with lock as waited, reach(kube, targets, params["pb_port"],
                               params["metrics_port"] if params.get("verify", True) else None) as dcs:
        old_record, warning = read_record(kube, record_namespace, record_name)
        policy = RetryPolicy(timeout=max(1, params["timeout"] - waited), call_timeout=params["call_timeout"])
        try:
            outcome = ensure_connected(dcs, record=None if params.get("force") else old_record, policy=policy,
                                       check_mode=check_mode, verify=params.get("verify", True),
                                       open_client=open_client,
                                       verify_replication_too=params.get("verify_replication", True))
        except MultiDcError as error:
            message = explain(error, dcs)
            if error.operation == "replication check":
                message = ("Data written in one DC did not reach every other DC before the deadline, so the DCs "
                           "are not fully connected although connectToDCs answered success. " + message)
            if error.operation.startswith("wait for antidote_dc_count"):
                hint = _hint_after_failure(dcs)
                message = (hint + ". " if hint else "") + message
            raise AntidoteK8sError(message) from error
        except (DcOperationError, TopologyError) as error:
            raise AntidoteK8sError(explain(error, dcs)) from error
        reached = dict((dc.name, dc.via) for dc in dcs)
        record_changed = outcome["record"] != old_record
        if record_changed and not check_mode:
            write_record(kube, record_namespace, record_name, outcome["record"], params.get("record_labels"))
    dc_info = {}
    for name, entry in outcome["dcs"].items():
        dc_info[name] = dict(entry, reached=reached[name], dc_count=outcome["dc_count"].get(name))
    return {
        "changed": bool(outcome["changed"] or record_changed),
        "connected": bool(outcome["changed"]),
        "reasons": dict((key, outcome[key]) for key in ("added", "removed", "stale", "lagging", "unmeasured")),
        "replication": outcome["replication"],
        "seconds": outcome["seconds"],
        "forced": bool(params.get("force")),
        "record_configmap": "{0}/{1}".format(record_namespace, record_name),
        "record_written": bool(record_changed and not check_mode),
        "record": outcome["record"],
        "dc_count": outcome["dc_count"],
        "dcs": dc_info,
        "warnings": warnings + ([warning] if warning else []),
    }


def _hint_after_failure(dcs):
    try:
        counts = read_dc_counts(dcs, RetryPolicy(timeout=5, call_timeout=5, initial_delay=0.1, max_delay=0.5))
    except AntidoteError:
        return None
    return unreachable_hint(counts, len(dcs))
