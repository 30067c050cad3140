# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks every role runs on its input before the first write, each message naming the variable.

`problems(checks)` takes a list of {variable, value, type, ...} and returns one sentence per bad value
(empty when all are good). Roles call it through the stateful.datastores.input_problems filter.
"""
import re
from decimal import Decimal, InvalidOperation

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kubernetes' own quantity grammar (resource.Quantity): a number, then a binary or decimal suffix or exponent.
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$")
SUFFIXES = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
            "m": Decimal("0.001"), "": 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12,
            "P": 10 ** 15, "E": 10 ** 18}
# An image reference: [registry[:port]/]path[:tag][@digest], lowercase path components.
IMAGE = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")
JAVA_HEAP = re.compile(r"(?:^|\s)(?:-Xmx|-XX:MaxHeapSize=)([0-9]+)([kKmMgGtT]?)(?=\s|$)")
JAVA_UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}
RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")


def parse_quantity(value):
    """A Kubernetes quantity as a Decimal (bytes, or cores for cpu); None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip() if isinstance(value, (int, float)) else value
    if not isinstance(text, str):
        return None
    match = QUANTITY.match(text)
    if not match:
        return None
    number, suffix = match.group(1), match.group(3) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number + suffix)
        return Decimal(number) * SUFFIXES[suffix]
    except (InvalidOperation, KeyError):
        return None


def java_heap(java_opts):
    """The maximum heap the options set (the last -Xmx or -XX:MaxHeapSize wins), in bytes; None if unset."""
    found = JAVA_HEAP.findall(str(java_opts or ""))
    if not found:
        return None
    number, unit = found[-1]
    return int(number) * JAVA_UNITS[unit.lower()]


def _show(value):
    return "'{}'".format(value) if isinstance(value, str) else repr(value)


def _dns_label(check):
    value, limit = check["value"], check.get("max_length", 63)
    if isinstance(value, str) and DNS_LABEL.match(value) and len(value) <= limit:
        return None
    return ("must be a DNS label of at most {} characters (lowercase letters, digits and '-', starting and "
            "ending with a letter or digit)".format(limit))


def _dns_subdomain(check):
    value = check["value"]
    if isinstance(value, str) and DNS_SUBDOMAIN.match(value) and len(value) <= check.get("max_length", 253):
        return None
    return "must be a DNS name such as cluster.local (lowercase labels separated by dots)"


def _image(check):
    value = check["value"]
    if isinstance(value, str) and len(value) <= 512 and IMAGE.match(value):
        return None
    return "must be an image reference such as docker.io/hazelcast/hazelcast:5.7.0 (no spaces, lowercase name)"


def _quantity(check):
    parsed = parse_quantity(check["value"])
    if parsed is not None and parsed > 0:
        return None
    return "must be a positive Kubernetes quantity such as {}".format(check.get("example", "500m, 1 or 512Mi"))


def _absolute_path(check):
    value = check["value"]
    if isinstance(value, str) and value.startswith("/") and "\n" not in value and "\x00" not in value:
        return None
    return "must be an absolute path (starting with /)"


def _positive_int(check):
    value, minimum = check["value"], check.get("minimum", 1)
    if not isinstance(value, bool) and isinstance(value, int) and value >= minimum:
        return None
    return "must be a whole number of at least {}".format(minimum)


def _resources(check):
    value = check["value"]
    shape = ("must be {requests: {cpu, memory}, limits: {cpu, memory}} (keys requests and limits, each a "
             "mapping of cpu, memory or ephemeral-storage to a positive quantity such as 500m or 512Mi)")
    if not isinstance(value, dict) or set(value) - {"requests", "limits"}:
        return shape
    bad = []
    for kind, entries in value.items():
        if not isinstance(entries, dict) or set(entries) - set(RESOURCE_NAMES):
            return shape
        for resource, quantity in entries.items():
            parsed = parse_quantity(quantity)
            if parsed is None or parsed <= 0:
                bad.append("{}.{} {}".format(kind, resource, _show(quantity)))
    if bad:
        return "values must be positive Kubernetes quantities such as 500m, 1 or 512Mi; not: " + ", ".join(bad)
    requests, limits = value.get("requests") or {}, value.get("limits") or {}
    above = [resource for resource in requests if resource in limits
             and parse_quantity(requests[resource]) > parse_quantity(limits[resource])]
    if above:
        return "requests must not exceed limits; above for: " + ", ".join(sorted(above))
    return None


def memory_limit(resources):
    """limits.memory of a container's resources; None when it has none or is not a mapping of mappings."""
    limits = (resources.get("limits") or {}) if isinstance(resources, dict) else None
    return limits.get("memory") if isinstance(limits, dict) else None


def _heap(check):
    """check: value (JVM options), memory_limit (a quantity or None) or resources (the container's)."""
    heap = java_heap(check["value"])
    limit_text = check["memory_limit"] if "memory_limit" in check else memory_limit(check.get("resources"))
    limit = parse_quantity(limit_text)
    if heap is None or limit is None or heap < limit:
        return None
    return ("sets a heap of {} MiB (-Xmx), not below the container memory limit {} ({}): the kernel would kill "
            "the JVM. Lower -Xmx (at most about 80% of the limit) or raise {}"
            .format(heap // 2 ** 20, limit_text, check.get("limit_variable", "the memory limit"),
                    check.get("limit_variable", "the memory limit")))


CHECKS = {
    "dns_label": _dns_label,
    "dns_subdomain": _dns_subdomain,
    "image": _image,
    "quantity": _quantity,
    "absolute_path": _absolute_path,
    "positive_int": _positive_int,
    "resources": _resources,
    "heap": _heap,
}


def problems(checks):
    """One sentence per failed check, each starting with the variable's name and ending with the value.

    A check with `optional: true` passes when its value is empty or null (the role then uses a default).
    """
    found = []
    for check in checks or []:
        if check.get("optional") and check["value"] in ("", None):
            continue
        test = CHECKS.get(check.get("type"))
        if test is None:
            raise ValueError("unknown input check type {!r}; known: {}".format(check.get("type"), ", ".join(CHECKS)))
        failure = test(check)
        if failure:
            found.append("{} {}, got {}".format(check["variable"], failure, _show(check["value"])))
    return found
