# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AntidoteDB data centres as Kubernetes objects: names and input validation.

Pure functions, no Kubernetes and no network: the role's validation (through the filter plugin
``stateful.datastores.antidote_topology_problems``) and the modules use the same rules.

Naming. A DC named ``dc1`` with the prefix ``antidote`` is the StatefulSet ``antidote-dc1`` whose
headless Service has the same name, so pod ``i`` is ``antidote-dc1-<i>`` and its Erlang node name
``antidote@antidote-dc1-<i>.antidote-dc1`` (the image's NODE_NAME=antidote@$(HOSTNAME).<service>
with long names). The client Service is ``antidote-dc1-client``. createDC goes to pod 0.
"""

import re

from ansible_collections.stateful.datastores.plugins.module_utils.validation import DNS_LABEL, DNS_SUBDOMAIN

DNS1123_LABEL, DNS1123_SUBDOMAIN = DNS_LABEL, DNS_SUBDOMAIN

ERLANG_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
LABEL_MAX = 63
# A StatefulSet stamps each pod with controller-revision-hash=<name>-<hash of up to 10 characters>,
# a label value of at most 63 characters, so longer StatefulSet names cannot create pods.
STATEFULSET_NAME_MAX = 52
RING_SIZE_MAX = 1024
DEFAULT_NODE_NAME_PREFIX = "antidote"
CLIENT_SERVICE_SUFFIX = "-client"

_LABEL_RULE = "lowercase letters, digits and '-', starting and ending with a letter or digit"


def statefulset_name(dc_name, name_prefix=DEFAULT_NODE_NAME_PREFIX):
    """The StatefulSet (and headless Service) of DC `dc_name`: '<prefix>-<dc>' or '<dc>' without prefix."""
    return "{0}-{1}".format(name_prefix, dc_name) if name_prefix else dc_name


def client_service_name(statefulset):
    return statefulset + CLIENT_SERVICE_SUFFIX


def pod_name(statefulset, ordinal=0):
    return "{0}-{1}".format(statefulset, int(ordinal))


def node_name(statefulset, service, ordinal, prefix=DEFAULT_NODE_NAME_PREFIX):
    """Erlang node name of pod `ordinal`: '<prefix>@<statefulset>-<ordinal>.<service>'."""
    return "{0}@{1}.{2}".format(prefix, pod_name(statefulset, ordinal), service)


def node_names(statefulset, service, replicas, prefix=DEFAULT_NODE_NAME_PREFIX):
    """Node names of pods 0..replicas-1, in ordinal order."""
    replicas = int(replicas)
    if replicas < 1:
        raise ValueError("a DC needs at least one node, got replicas={0}".format(replicas))
    if not service:
        raise ValueError("the headless Service name is needed to derive node names")
    return [node_name(statefulset, service, ordinal, prefix) for ordinal in range(replicas)]


def is_power_of_two(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0 and value & (value - 1) == 0


def _as_int(value):
    """int for ints and digit strings (as Ansible's 'int' type accepts them); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.match(r"^\s*[-+]?\d+\s*$", value):
        return int(value)
    return None


def _shown(value):
    return repr(value) if isinstance(value, str) else "{0} ({1})".format(value, type(value).__name__)


def _check_prefix(name_prefix, prefix_variable):
    if name_prefix in (None, ""):
        return []
    if not isinstance(name_prefix, str) or not DNS1123_LABEL.match(name_prefix):
        return ["{0} must be empty or a DNS-1123 label ({1}), got {2}".format(
            prefix_variable, _LABEL_RULE, _shown(name_prefix))]
    return []


def _check_name(index, name, name_prefix, variable):
    where = "{0}[{1}].name".format(variable, index)
    if not isinstance(name, str) or not name:
        return ["{0} is required: a DNS-1123 label ({1}), got {2}".format(where, _LABEL_RULE, _shown(name))]
    if not DNS1123_LABEL.match(name):
        return ["{0} {1!r} is not a DNS-1123 label: use {2}".format(where, name, _LABEL_RULE)]
    sts = statefulset_name(name, name_prefix)
    if len(sts) > STATEFULSET_NAME_MAX:
        allowed = STATEFULSET_NAME_MAX - (len(sts) - len(name))
        return ["{0} {1!r} is too long: the StatefulSet name {2!r} may have at most {3} characters "
                "(Kubernetes labels each pod with <name>-<revision hash>), so this name at most {4}".format(
                    where, name, sts, STATEFULSET_NAME_MAX, allowed)]
    return []


def _check_count(where, value, what, minimum=1):
    number = _as_int(value)
    if number is None or number < minimum:
        return None, ["{0} must be an integer >= {1} ({2}), got {3}".format(where, minimum, what, _shown(value))]
    return number, []


def _check_ring_size(where, value):
    number = _as_int(value)
    if number is None or not is_power_of_two(number) or number > RING_SIZE_MAX:
        return None, ["{0} must be a power of two from 1 to {1} (riak_core's ring_creation_size, the number of "
                      "partitions), got {2}".format(where, RING_SIZE_MAX, _shown(value))]
    return number, []


def validate_datacenters(datacenters, replicas=1, ring_size=16, name_prefix=DEFAULT_NODE_NAME_PREFIX,
                         variable="antidote_datacenters", replicas_variable="antidote_replicas",
                         ring_size_variable="antidote_ring_size", prefix_variable="antidote_name_prefix"):
    """Every problem with a list of DCs, each naming the variable and what is allowed ([] when fine).

    datacenters: [{name, replicas?, ring_size?}]; replicas and ring_size are the defaults of the
    entries that do not set their own.
    """
    problems = _check_prefix(name_prefix, prefix_variable)
    usable_prefix = None if problems else name_prefix
    default_replicas, found = _check_count(replicas_variable, replicas, "nodes per DC")
    problems += found
    default_ring, found = _check_ring_size(ring_size_variable, ring_size)
    problems += found
    if not isinstance(datacenters, (list, tuple)) or not datacenters:
        problems.append("{0} must be a non-empty list of DCs such as [{{name: dc1}}, {{name: dc2}}], got {1}".format(
            variable, _shown(datacenters)))
        return problems
    seen, rings = {}, []
    for index, entry in enumerate(datacenters):
        if not isinstance(entry, dict):
            problems.append("{0}[{1}] must be a mapping with at least a name, such as {{name: dc1}}, got {2}".format(
                variable, index, _shown(entry)))
            continue
        name = entry.get("name")
        found = _check_name(index, name, usable_prefix, variable)
        problems += found
        if not found:
            seen.setdefault(name, []).append(index)
        where = "{0}[{1}]".format(variable, index)
        count, found = (default_replicas, []) if entry.get("replicas") is None else _check_count(
            where + ".replicas", entry.get("replicas"), "the DC's node count")
        problems += found
        ring, found = (default_ring, []) if entry.get("ring_size") is None else _check_ring_size(
            where + ".ring_size", entry.get("ring_size"))
        problems += found
        if ring is not None:
            rings.append((name if isinstance(name, str) and name else where, ring))
        if count is not None and ring is not None and count > ring:
            problems.append("{0}.replicas {1} is more than the ring size {2}: every node needs at least one "
                            "partition; use fewer nodes or a larger ring size".format(where, count, ring))
    for name, indexes in seen.items():
        if len(indexes) > 1:
            problems.append("{0}: the DC name {1!r} is used {2} times (entries {3}); every DC needs its own "
                            "name".format(variable, name, len(indexes), ", ".join(str(i) for i in indexes)))
    if len(set(ring for _name, ring in rings)) > 1:
        problems.append("{0}: every DC needs the same ring size ({1} or each entry's ring_size), because Antidote "
                        "does not connect DCs whose RING_SIZE differs (partition_num_mismatch); got {2}".format(
                            variable, ring_size_variable, ", ".join("{0}={1}".format(n, r) for n, r in rings)))
    return problems


def topology(datacenters, replicas=1, ring_size=16, name_prefix=DEFAULT_NODE_NAME_PREFIX,
             node_name_prefix=DEFAULT_NODE_NAME_PREFIX):
    """The DCs with every derived name; call validate_datacenters first (raises ValueError if invalid).

    Returns [{name, statefulset, service, client_service, pod, replicas, ring_size, pods, nodes}].
    """
    problems = validate_datacenters(datacenters, replicas, ring_size, name_prefix)
    if problems:
        raise ValueError("; ".join(problems))
    result = []
    for entry in datacenters:
        sts = statefulset_name(entry["name"], name_prefix)
        count = _as_int(entry.get("replicas") if entry.get("replicas") is not None else replicas)
        ring = _as_int(entry.get("ring_size") if entry.get("ring_size") is not None else ring_size)
        result.append({
            "name": entry["name"], "statefulset": sts, "service": sts, "client_service": client_service_name(sts),
            "pod": pod_name(sts, 0), "replicas": count, "ring_size": ring,
            "pods": [pod_name(sts, ordinal) for ordinal in range(count)],
            "nodes": node_names(sts, sts, count, node_name_prefix),
        })
    return result


def check_node_name_prefix(prefix):
    """The part before '@' must be a plain Erlang name."""
    if not isinstance(prefix, str) or not ERLANG_NAME.match(prefix):
        raise ValueError("node_name_prefix must be letters, digits, '_' or '-', got {0}".format(_shown(prefix)))
    return prefix


def wait_objects(dcs):
    """What the apply waits for: every StatefulSet (all replicas ready and updated) and client Service."""
    return [obj for dc in dcs for obj in ({"kind": "StatefulSet", "name": dc["statefulset"]},
                                          {"kind": "Service", "name": dc["client_service"]})]


def admin_targets(dcs, namespace, endpoint_port=None, counts=True):
    """antidote_dc entries (counts: names and replicas, so that the module reads no StatefulSet) or antidote_connect
    entries; with endpoint_port, each DC's first pod by its DNS name as the endpoint (antidote_access: direct)."""
    targets = []
    for dc in dcs:
        target = {"name": dc["name"], "statefulset": dc["statefulset"]}
        if counts:
            target.update(service=dc["service"], replicas=dc["replicas"])
        if endpoint_port:
            target["endpoint"] = "{0}.{1}.{2}.svc:{3}".format(dc["pod"], dc["service"], namespace, endpoint_port)
        targets.append(target)
    return targets


def scale_downs(dcs, current_replicas):
    """'<dc>: <now> -> <wanted>' for each DC whose StatefulSet exists with more replicas than wanted."""
    return ["{0}: {1} -> {2}".format(dc["name"], current_replicas[dc["statefulset"]], dc["replicas"])
            for dc in dcs if dc["statefulset"] in current_replicas
            and dc["replicas"] < int(current_replicas[dc["statefulset"]])]
