# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hazelcast cluster health from every member's REST API (verified on Hazelcast 5.7.0).

Each member answers on its member port, once ``hazelcast.network.rest-api.enabled: true``:

- ``GET /hazelcast/health`` (endpoint group HEALTH_CHECK): JSON ``{"nodeState": "ACTIVE",
  "clusterState": "ACTIVE", "clusterSafe": true, "migrationQueueSize": 0, "clusterSize": 2}``.
  A member still joining already answers ``ACTIVE`` with ``clusterSize`` 1.
- ``GET /hazelcast/health/ready`` (HEALTH_CHECK): 200 once the member has started and joined, else 503.
- ``GET /hazelcast/rest/cluster`` (CLUSTER_READ): ``{"members": [{"address": "[127.0.0.1]:5701",
  "liteMember": false, "localMember": true, "uuid": "...", "memberVersion": "5.7.0"}, ...],
  "connectionCount": 1, "allConnectionCount": 2}``.

A member whose REST API or endpoint group is disabled closes the connection without a response.

``check_cluster`` asks every member in parallel, again every ``interval`` seconds until one deadline
(HTTP offers no watch), until each member is ready, ACTIVE, cluster safe, has no migrations pending
and sees the expected number of members, all of them the same members. Members are told apart by
the UUID each reports as its local member, never by the address used to reach it, so port-forwarded
endpoints work. Endpoints whose member lists share no member are reported as a split into separate
clusters.
"""

import base64
import concurrent.futures
import http.client
import json
import ssl
import time

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError

HEALTH_PATH = "/hazelcast/health"
READY_PATH = "/hazelcast/health/ready"
MEMBERS_PATH = "/hazelcast/rest/cluster"
DEFAULT_PORT = 5701

HEALTH_FIELDS = {
    "nodeState": "node_state",
    "clusterState": "cluster_state",
    "clusterSafe": "cluster_safe",
    "migrationQueueSize": "migration_queue_size",
    "clusterSize": "cluster_size",
}

_NO_RESPONSE_HINT = ("the member closed the connection without a response; is the REST API enabled with the "
                     "{group} endpoint group (hazelcast.network.rest-api)?")


class HazelcastError(DatastoresError):
    pass


class HazelcastResponseError(HazelcastError):
    """A member answered something that is not the documented response."""


class HazelcastClusterError(HazelcastError):
    """The cluster was not healthy by the deadline; ``result`` has the shape of check_cluster's return."""

    def __init__(self, message, result):
        super().__init__(message, result)


class HttpTransport:
    """GET over http.client (no proxy from the environment); https and basic auth for fronting proxies."""

    def __init__(self, scheme="http", validate_certs=True, ca_cert=None, username=None, password=None):
        if scheme not in ("http", "https"):
            raise ValueError("scheme must be http or https, not %r" % scheme)
        self.scheme = scheme
        self._headers = {"Accept": "application/json"}
        if username is not None:
            token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
            self._headers["Authorization"] = "Basic " + token
        self._context = None
        if scheme == "https":
            self._context = ssl.create_default_context(cafile=ca_cert)
            if not validate_certs:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE

    def get(self, host, port, path, timeout):
        """Return (status, body text); raise OSError or http.client.HTTPException when there is no answer."""
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", path, headers=self._headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()


def parse_endpoint(value):
    """(host, port) from a (host, port) pair, a {"host", "port"} dict, "host:port", "[v6]:port" or "host"."""
    if isinstance(value, dict):
        return str(value["host"]), int(value.get("port") or DEFAULT_PORT)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return str(value[0]), int(value[1])
    text = str(value).strip()
    if text.startswith("["):
        host, _bracket, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    if not text:
        raise ValueError("empty Hazelcast endpoint")
    return text, DEFAULT_PORT


def endpoint_label(endpoint):
    host, port = endpoint
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def parse_health(body):
    """Snake-case fields of a /hazelcast/health JSON body."""
    try:
        data = json.loads(body)
    except ValueError:
        raise HazelcastResponseError("%s is not JSON: %r" % (HEALTH_PATH, body[:200])) from None
    if not isinstance(data, dict) or any(field not in data for field in HEALTH_FIELDS):
        raise HazelcastResponseError("%s lacks %s: %r" % (HEALTH_PATH, ", ".join(HEALTH_FIELDS), body[:200]))
    return {name: data[field] for field, name in HEALTH_FIELDS.items()}


def normalize_address(address):
    """Hazelcast prints addresses as "[host]:port"; keep brackets for IPv6 only."""
    if address.startswith("["):
        host, _bracket, rest = address[1:].partition("]")
        if ":" not in host:
            return host + rest
    return address


def parse_members(body):
    """Members of a /hazelcast/rest/cluster JSON body: address, uuid, local, lite, version."""
    try:
        data = json.loads(body)
        members = data["members"]
        return [
            {
                "address": normalize_address(member["address"]),
                "uuid": member["uuid"],
                "local": bool(member.get("localMember")),
                "lite": bool(member.get("liteMember")),
                "version": member.get("memberVersion"),
            }
            for member in members
        ]
    except (ValueError, KeyError, TypeError):
        raise HazelcastResponseError("%s is not a member list: %r" % (MEMBERS_PATH, body[:200])) from None


def _no_answer(error, group):
    if isinstance(error, http.client.RemoteDisconnected):
        return _NO_RESPONSE_HINT.format(group=group)
    return "%s: %s" % (type(error).__name__, error) if str(error) else type(error).__name__


def probe_member(endpoint, transport, timeout):
    """One member's view: its health, readiness and member list, as a JSON-friendly dict."""
    host, port = endpoint
    report = {
        "endpoint": endpoint_label(endpoint),
        "reachable": False,
        "error": None,
        "ready": None,
        "node_state": None,
        "cluster_state": None,
        "cluster_safe": None,
        "migration_queue_size": None,
        "cluster_size": None,
        "uuid": None,
        "address": None,
        "version": None,
        "members": None,
        "members_error": None,
    }
    try:
        status, body = transport.get(host, port, HEALTH_PATH, timeout)
    except (OSError, http.client.HTTPException) as error:
        report["error"] = "unreachable: " + _no_answer(error, "HEALTH_CHECK")
        return report
    report["reachable"] = True
    if status != 200:
        report["error"] = "%s answered HTTP %d" % (HEALTH_PATH, status)
        return report
    try:
        report.update(parse_health(body))
    except HazelcastResponseError as error:
        report["error"] = str(error)
        return report
    try:
        status, _body = transport.get(host, port, READY_PATH, timeout)
        # 404: a version without the endpoint; readiness then rests on the health fields alone.
        report["ready"] = None if status == 404 else status == 200
    except (OSError, http.client.HTTPException) as error:
        report["ready"] = False
        report["error"] = "%s: %s" % (READY_PATH, _no_answer(error, "HEALTH_CHECK"))
    try:
        status, body = transport.get(host, port, MEMBERS_PATH, timeout)
        if status != 200:
            raise HazelcastResponseError("%s answered HTTP %d" % (MEMBERS_PATH, status))
        members = parse_members(body)
    except (OSError, http.client.HTTPException) as error:
        report["members_error"] = "member list unavailable: " + _no_answer(error, "CLUSTER_READ")
        return report
    except HazelcastResponseError as error:
        report["members_error"] = "member list unavailable: %s" % error
        return report
    report["members"] = sorted(members, key=lambda member: member["address"])
    local = [member for member in members if member["local"]]
    if local:
        report.update(uuid=local[0]["uuid"], address=local[0]["address"], version=local[0]["version"])
    return report


def probe_members(endpoints, transport=None, timeout=5.0, executor=None):
    """probe_member for every endpoint in parallel, in the order given."""
    transport = transport or HttpTransport()
    endpoints = [parse_endpoint(endpoint) for endpoint in endpoints]

    def probe(endpoint):
        return probe_member(endpoint, transport, timeout)

    if executor is not None:
        return list(executor.map(probe, endpoints))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(16, len(endpoints)))) as pool:
        return list(pool.map(probe, endpoints))


def member_problems(report, expected_size, cluster_states=("ACTIVE",)):
    """What keeps one member from counting as healthy, as short phrases (empty when healthy)."""
    if report["node_state"] is None:
        return [report["error"] or "no health answer"]
    problems = []
    if report["ready"] is False:
        problems.append(report["error"] or "not ready (%s answered 503: starting or joining)" % READY_PATH)
    if report["node_state"] != "ACTIVE":
        problems.append("nodeState %s" % report["node_state"])
    if report["cluster_state"] not in cluster_states:
        problems.append("clusterState %s" % report["cluster_state"])
    if report["cluster_safe"] is not True:
        problems.append("cluster not safe (backups not in sync)")
    if report["migration_queue_size"]:
        problems.append("%s migration(s) pending" % report["migration_queue_size"])
    if report["cluster_size"] != expected_size:
        problems.append("sees %s member(s), expected %d" % (report["cluster_size"], expected_size))
    return problems


def find_clusters(reports):
    """Group members by the cluster they see: members whose member lists share a UUID are one cluster.

    Returns a list of {"endpoints": [...], "members": [addresses seen], "sizes": [clusterSize seen]},
    largest first; empty when no member list is available.
    """
    groups = []
    for report in reports:
        if not report["members"]:
            continue
        uuids = {member["uuid"] for member in report["members"]}
        merged = {"uuids": set(uuids), "endpoints": [report["endpoint"]],
                  "members": {m["uuid"]: m["address"] for m in report["members"]},
                  "sizes": {report["cluster_size"]}}
        for group in [g for g in groups if g["uuids"] & uuids]:
            groups.remove(group)
            merged["uuids"] |= group["uuids"]
            merged["endpoints"] = group["endpoints"] + merged["endpoints"]
            merged["members"].update(group["members"])
            merged["sizes"] |= group["sizes"]
        groups.append(merged)
    groups.sort(key=lambda g: (-len(g["uuids"]), g["endpoints"]))
    return [{"endpoints": g["endpoints"], "members": sorted(g["members"].values()),
             "sizes": sorted(s for s in g["sizes"] if s is not None)} for g in groups]


def cluster_problems(reports):
    """Problems between members: a split into separate clusters, disagreeing views, one member twice."""
    problems = []
    clusters = find_clusters(reports)
    if len(clusters) > 1:
        split = "split into %d separate clusters: %s" % (len(clusters), "; ".join(
            "{%s} see members [%s]" % (", ".join(c["endpoints"]), ", ".join(c["members"])) for c in clusters))
        joining = [r["endpoint"] for r in reports if r["ready"] is False]
        if joining:
            split += " (not ready yet, may still be joining: %s)" % ", ".join(joining)
        problems.append(split)
    views = {}
    for report in reports:
        if report["members"]:
            views.setdefault(tuple(sorted(m["uuid"] for m in report["members"])), []).append(report["endpoint"])
    if len(clusters) == 1 and len(views) > 1:
        problems.append("members see different member lists (membership is changing): %s" % "; ".join(
            "{%s} see %d" % (", ".join(endpoints), len(view)) for view, endpoints in views.items()))
    by_uuid = {}
    for report in reports:
        if report["uuid"]:
            by_uuid.setdefault(report["uuid"], []).append(report)
    for same in by_uuid.values():
        if len(same) > 1:
            problems.append("endpoints %s reach the same member %s" % (
                ", ".join(r["endpoint"] for r in same), same[0]["address"]))
    problems.extend(_split_by_size(reports, clusters))
    return problems


def _split_by_size(reports, clusters):
    """Without member lists, N distinct members that each see fewer than N cannot be one cluster."""
    blind = [r for r in reports if r["cluster_size"] is not None and not r["members"]]
    if clusters or len(blind) < 2:
        return []
    sizes = sorted({r["cluster_size"] for r in blind})
    if len(blind) <= max(sizes):
        if len(sizes) > 1:
            return ["members disagree on the cluster size: %s" % "; ".join(
                "%s see %d" % (", ".join(r["endpoint"] for r in blind if r["cluster_size"] == size), size)
                for size in sizes)]
        return []
    return ["%d endpoints but each member sees at most %d member(s): split into separate clusters "
            "(enable the CLUSTER_READ REST endpoint group to see which members form each)"
            % (len(blind), max(sizes))]


def describe_member(report):
    """One line: what this member sees."""
    if report["node_state"] is None:
        return "%s: %s" % (report["endpoint"], report["error"])
    seen = " ".join("%s=%s" % (field, json.dumps(report[name])) for field, name in HEALTH_FIELDS.items())
    seen = seen.replace('"', "") + " ready=%s" % json.dumps(report["ready"])
    if report["members"] is not None:
        seen += " members=[%s]" % ", ".join(m["address"] for m in report["members"])
    elif report["members_error"]:
        seen += " (%s)" % report["members_error"]
    who = report["endpoint"]
    if report["address"] and report["address"] != report["endpoint"]:
        who += " (member %s)" % report["address"]
    return "%s sees %s" % (who, seen)


def evaluate(reports, expected_size, cluster_states=("ACTIVE",)):
    """The check_cluster result for one round of reports (``healthy`` False when anything is wrong)."""
    between = cluster_problems(reports)
    problems = list(between)
    for report in reports:
        report["problems"] = member_problems(report, expected_size, cluster_states)
        problems.extend("%s: %s" % (report["endpoint"], problem) for problem in report["problems"])
    sizes = {r["cluster_size"] for r in reports}
    member_lists = [r["members"] for r in reports if r["members"]]
    return {
        "healthy": not problems,
        "expected_size": expected_size,
        "cluster_size": sizes.pop() if len(sizes) == 1 else None,
        "member_addresses": [m["address"] for m in member_lists[0]] if member_lists else [],
        "versions": sorted({r["version"] for r in reports if r["version"]}),
        "clusters": find_clusters(reports),
        "cluster_problems": between,
        "problems": problems,
        "members": reports,
    }


def failure_message(result, seconds):
    """Cluster-wide problems first (a split above all), then one line per member: what it sees, what is wrong."""
    lines = ["Hazelcast cluster not healthy after %.1fs (%d endpoint(s), expected %d member(s)):"
             % (seconds, len(result["members"]), result["expected_size"])]
    lines.extend("- " + problem for problem in result["cluster_problems"])
    for report in result["members"]:
        line = "- " + describe_member(report)
        if report["problems"] and report["node_state"] is not None:
            line += ": " + "; ".join(report["problems"])
        lines.append(line)
    return "\n".join(lines)


def check_cluster(endpoints, expected_size, deadline, interval=1.0, request_timeout=5.0, transport=None,
                  cluster_states=("ACTIVE",), sleep=time.sleep):
    """Wait until every member at `endpoints` reports a healthy cluster of `expected_size` members.

    endpoints: (host, port) pairs or "host:port" strings, one per member (its REST port).
    deadline: the Deadline (k8s/deadline.py) shared with the other waits of the run.
    Returns the dict of ``evaluate`` plus ``polls`` and ``elapsed``. Raises HazelcastClusterError, whose
    message says what each member sees and names a split into separate clusters, when the deadline passes.
    """
    endpoints = [parse_endpoint(endpoint) for endpoint in endpoints]
    if not endpoints:
        raise ValueError("check_cluster needs at least one endpoint")
    if int(expected_size) < 1:
        raise ValueError("expected_size must be at least 1")
    transport = transport or HttpTransport()
    clock = deadline.clock
    started = clock()
    polls = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(endpoints))) as pool:
        while True:
            polls += 1
            timeout = max(0.5, min(request_timeout, deadline.remaining()))
            reports = probe_members(endpoints, transport, timeout, executor=pool)
            result = evaluate(reports, int(expected_size), tuple(cluster_states))
            result.update(polls=polls, elapsed=round(clock() - started, 3))
            if result["healthy"]:
                return result
            left = deadline.remaining()
            if left <= 0:
                raise HazelcastClusterError(failure_message(result, clock() - started), result)
            sleep(min(interval, left))
