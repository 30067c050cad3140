# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Elasticsearch cluster membership, health and day-2 calls over the REST API (stdlib only).

Verified against real OpenSearch 2.19.1 nodes (the Apache-2.0 fork of Elasticsearch 7.10, same
REST API for everything below except node shutdown); the node shutdown calls follow the
Elasticsearch >= 7.15.2 reference and are refused on OpenSearch and older versions.

Calls used:

- ``GET /``: ``name``, ``cluster_name``, ``cluster_uuid`` (``_na_`` until the node has joined a
  cluster) and ``version.number`` / ``version.distribution`` (``opensearch``; absent on Elasticsearch).
- ``GET /_cluster/health?wait_for_status=&wait_for_nodes=&timeout=&master_timeout=``: the server
  waits; 200 when the conditions hold, 408 with the same body and ``timed_out: true`` when not.
- ``GET /_cat/nodes?format=json``; ``GET /_cluster/allocation/explain`` (400 when no shard is unassigned).
- ``GET|PUT /_cluster/settings``; ``POST|DELETE /_cluster/voting_config_exclusions`` (ES >= 7.8);
  ``GET /_cluster/state/metadata`` for the current exclusions; ``POST /_flush``.
- ``PUT|GET|DELETE /_nodes/<id>/shutdown`` (Elasticsearch >= 7.15.2).

``check_health`` asks every endpoint (one per pod) in parallel, under one deadline: first who it
is and which cluster it belongs to (same ``cluster_uuid`` everywhere, else a split or a foreign
cluster is reported at once, without waiting), then the server's own long-poll for the node count
and the wanted status. Passwords and API keys never appear in messages or results.
"""

import base64
import concurrent.futures
import http.client
import json
import ssl
import time
from urllib.parse import quote, urlencode, urlsplit

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline

HEALTH_STATUSES = ("green", "yellow", "red")
ALLOCATION_MODES = ("all", "primaries", "new_primaries", "none")
SHUTDOWN_TYPES = ("restart", "remove", "replace")
NOT_JOINED = "_na_"
NODE_SHUTDOWN_SINCE = (7, 15, 2)
ALLOCATION_SETTING = "cluster.routing.allocation.enable"
DEFAULT_PORT = 9200
DEFAULT_WAIT = 60.0
RESULT_FIELDS = ("cluster_name", "cluster_uuid", "status", "number_of_nodes", "number_of_data_nodes",
                 "active_shards_percent", "unassigned_shards", "initializing_shards", "relocating_shards", "version",
                 "distribution", "nodes", "allocation_explanation", "elapsed")
IDENTITY_FIELDS = ("node_name", "cluster_name", "cluster_uuid", "version", "distribution")


class ElasticsearchError(DatastoresError):
    """A call failed. ``endpoint`` (no credentials), ``status`` and ``error_type`` say where and how."""

    def __init__(self, message, endpoint=None, status=None, error_type=None, result=None):
        super().__init__(message, result)
        self.endpoint = endpoint
        self.status = status
        self.error_type = error_type


class ElasticsearchAuthError(ElasticsearchError):
    """HTTP 401 or 403: the credentials were refused or lack a privilege. Waiting will not help."""


class ElasticsearchUnsupportedError(ElasticsearchError):
    """The server's distribution or version does not have the API."""


class ClusterHealthError(ElasticsearchError):
    """The cluster was not healthy by the deadline; ``result`` has check_health's return shape."""

    def __init__(self, message, result):
        super().__init__(message, result=result)


def parse_version(number):
    """'8.11.3' -> (8, 11, 3); pre-release suffixes are dropped."""
    parts = []
    for piece in str(number or "").split("-", 1)[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def _query(params):
    clean = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        clean[key] = value
    return ("?" + urlencode(clean)) if clean else ""


def _seconds(value):
    """Seconds as an Elasticsearch time value, at least 1ms."""
    return "%dms" % max(1, int(value * 1000))


def _error_summary(body):
    """'type: reason' from an Elasticsearch error body, or the start of a text body."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return "%s: %s" % (err.get("type", "error"), err.get("reason", ""))
        if isinstance(err, str):
            return err
        return json.dumps(body)[:300]
    return str(body or "").strip()[:300]


class HttpTransport:
    """One request over http.client (ignores proxy variables, which must not see admin traffic)."""

    def __init__(self, scheme, host, port, ssl_context=None):
        self.scheme, self.host, self.port, self.ssl_context = scheme, host, port, ssl_context

    def __call__(self, method, target, body, headers, timeout):
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


class ElasticsearchClient:
    """REST client for one node.

    url: ``http(s)://host[:port][/prefix]`` (port 9200 by default); credentials embedded in the URL
    are taken out of it. Basic auth (``username``/``password``) or an ``api_key`` (the base64
    ``id:key`` form Elasticsearch issues). TLS: ``ca_cert`` file, ``validate_certs``, optional
    ``client_cert``/``client_key``. ``timeout``: seconds per request. ``transport``: a callable
    ``(method, target, body, headers, timeout) -> (status, bytes)``, for tests.
    """

    def __init__(self, url, username=None, password=None, api_key=None, ca_cert=None, validate_certs=True,
                 client_cert=None, client_key=None, timeout=30.0, transport=None):
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("url must start with http:// or https://")
        if not parts.hostname:
            raise ValueError("url has no host")
        if parts.username and username is None:
            username, password = parts.username, parts.password
        host = parts.hostname
        port = parts.port or DEFAULT_PORT
        self.prefix = parts.path.rstrip("/")
        shown_host = "[%s]" % host if ":" in host else host
        self.url = "%s://%s:%d%s" % (parts.scheme, shown_host, port, self.prefix)
        self.username = username
        self.timeout = float(timeout)
        self._secrets = [s for s in (password, api_key) if s]
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = "ApiKey " + api_key
        elif username is not None:
            token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
            self._headers["Authorization"] = "Basic " + token
            self._secrets.append(token)
        context = None
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_cert)
            if not validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if client_cert:
                context.load_cert_chain(client_cert, client_key)
        self._transport = transport or HttpTransport(parts.scheme, host, port, context)
        self._info = None

    # ------------------------------------------------------------------ plumbing
    def redact(self, text):
        text = str(text)
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def request(self, method, path, params=None, body=None, timeout=None, expect=(200,)):
        """(status, parsed body) for a status in ``expect``; raises ElasticsearchError otherwise."""
        target = self.prefix + path + _query(params)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        where = "%s %s%s" % (method, self.url, path)
        try:
            status, raw = self._transport(method, target, data, dict(self._headers),
                                          self.timeout if timeout is None else timeout)
        except (OSError, http.client.HTTPException) as err:
            reason = str(err) or type(err).__name__
            if isinstance(err, TimeoutError) or "timed out" in reason:
                reason = "no answer within %.1fs (%s)" % (self.timeout if timeout is None else timeout, reason)
            raise ElasticsearchError(self.redact("%s: %s" % (where, reason)), endpoint=self.url) from None
        text = raw.decode("utf-8", "replace") if raw else ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        if status in expect:
            return status, parsed
        raise self._error(where, status, parsed)

    def _error(self, where, status, parsed):
        summary = _error_summary(parsed)
        err_type = parsed.get("error", {}).get("type") if isinstance(parsed, dict) and isinstance(
            parsed.get("error"), dict) else None
        if status == 401:
            who = ("the credentials of user %r were refused" % self.username if self.username is not None
                   else "authentication is required and none was given")
            message = "%s: HTTP 401, %s (%s)" % (where, who, summary or "Unauthorized")
            return ElasticsearchAuthError(self.redact(message), self.url, status, err_type)
        if status == 403:
            message = "%s: HTTP 403, user %r lacks a privilege (%s)" % (where, self.username, summary)
            return ElasticsearchAuthError(self.redact(message), self.url, status, err_type)
        return ElasticsearchError(self.redact("%s: HTTP %d %s" % (where, status, summary)), self.url, status, err_type)

    def get(self, path, params=None, timeout=None, expect=(200,)):
        return self.request("GET", path, params=params, timeout=timeout, expect=expect)[1]

    # ------------------------------------------------------------------ reads
    def info(self, timeout=None):
        """GET / : name, cluster_name, cluster_uuid, version."""
        self._info = self.get("/", timeout=timeout)
        return self._info

    def version(self):
        """(distribution, (major, minor, patch)); distribution is 'elasticsearch' or 'opensearch'."""
        info = self._info or self.info()
        ver = info.get("version", {})
        return ver.get("distribution", "elasticsearch"), parse_version(ver.get("number"))

    def health(self, wait_for_status=None, wait_for_nodes=None, timeout=None, level=None, local=None):
        """Cluster health; with wait_* the server holds the request up to ``timeout`` seconds.

        Returns the body for 200 and for 408 (then ``timed_out`` is true).
        """
        if wait_for_status is not None and wait_for_status not in HEALTH_STATUSES:
            raise ValueError("wait_for_status must be one of %s" % ", ".join(HEALTH_STATUSES))
        params = {"wait_for_status": wait_for_status, "wait_for_nodes": wait_for_nodes, "level": level,
                  "local": local}
        socket_timeout = None
        if timeout is not None:
            params["timeout"] = params["master_timeout"] = _seconds(timeout)
            socket_timeout = timeout + max(5.0, self.timeout)
        return self.get("/_cluster/health", params, timeout=socket_timeout, expect=(200, 408))

    def cat_nodes(self, columns=("name", "id", "ip", "node.role", "master")):
        return self.get("/_cat/nodes", {"format": "json", "h": list(columns), "full_id": True}) or []

    def node_ids(self):
        """{node name: node id} of the nodes in the cluster."""
        body = self.get("/_nodes", {"filter_path": "nodes.*.name"}) or {}
        return {node["name"]: node_id for node_id, node in body.get("nodes", {}).items()}

    def local_node(self):
        """(id, name) of the node this client talks to."""
        body = self.get("/_nodes/_local", {"filter_path": "nodes.*.name"}) or {}
        for node_id, node in body.get("nodes", {}).items():
            return node_id, node.get("name")
        raise ElasticsearchError("%s: /_nodes/_local named no node" % self.url, self.url)

    def allocation_explain(self, timeout=None):
        """Why the first unassigned shard is unassigned, or None when no shard is unassigned."""
        status, body = self.request("GET", "/_cluster/allocation/explain", timeout=timeout, expect=(200, 400))
        if status == 400:
            if "unassigned" in _error_summary(body):
                return None
            raise self._error("GET %s/_cluster/allocation/explain" % self.url, status, body)
        return body

    def cluster_settings(self, include_defaults=False):
        return self.get("/_cluster/settings", {"flat_settings": True, "include_defaults": include_defaults or None})

    def put_cluster_settings(self, persistent=None, transient=None):
        body = {}
        if persistent is not None:
            body["persistent"] = persistent
        if transient is not None:
            body["transient"] = transient
        return self.request("PUT", "/_cluster/settings", params={"flat_settings": True}, body=body)[1]

    # ------------------------------------------------------------------ day 2
    def voting_exclusions(self):
        """[{node_id, node_name}] currently excluded from the voting configuration."""
        path = "metadata.cluster_coordination.voting_config_exclusions"
        body = self.get("/_cluster/state/metadata", {"filter_path": path}) or {}
        return body.get("metadata", {}).get("cluster_coordination", {}).get("voting_config_exclusions", [])

    def exclude_voting(self, node_names, timeout=30.0):
        """Take master-eligible nodes out of the voting configuration before removing them.

        Returns {changed, exclusions}. Nodes already excluded are not posted again.
        """
        names = [node_names] if isinstance(node_names, str) else list(node_names)
        if not names:
            raise ValueError("exclude_voting needs at least one node name")
        before = {e.get("node_name") for e in self.voting_exclusions()}
        missing = [n for n in names if n not in before]
        if missing:
            self.request("POST", "/_cluster/voting_config_exclusions",
                         params={"node_names": missing, "timeout": _seconds(timeout)}, timeout=timeout + self.timeout)
        return {"changed": bool(missing), "exclusions": self.voting_exclusions()}

    def clear_voting_exclusions(self, wait_for_removal=True, timeout=None):
        """Drop all voting exclusions. wait_for_removal=True (the API's default) first waits until
        the excluded nodes have left the cluster; pass False when they stay. Returns {changed, previous}."""
        previous = self.voting_exclusions()
        if previous:
            self.request("DELETE", "/_cluster/voting_config_exclusions",
                         params={"wait_for_removal": bool(wait_for_removal)}, timeout=timeout)
        return {"changed": bool(previous), "previous": previous}

    def allocation(self):
        """The effective cluster.routing.allocation.enable set by users (transient wins), or None."""
        settings = self.cluster_settings()
        for scope in ("transient", "persistent"):
            value = settings.get(scope, {}).get(ALLOCATION_SETTING)
            if value is not None:
                return value
        return None

    def set_allocation(self, mode):
        """Set cluster.routing.allocation.enable (persistent); None removes it (back to 'all').

        Use 'primaries' before restarting a data node, None (or 'all') afterwards.
        Returns {changed, previous, current}.
        """
        if mode is not None and mode not in ALLOCATION_MODES:
            raise ValueError("allocation mode must be one of %s or None" % ", ".join(ALLOCATION_MODES))
        settings = self.cluster_settings()
        persistent = settings.get("persistent", {}).get(ALLOCATION_SETTING)
        transient = settings.get("transient", {}).get(ALLOCATION_SETTING)
        previous = transient if transient is not None else persistent
        changed = persistent != mode or transient is not None
        if changed:
            # A transient value would hide the persistent one: clear it.
            self.put_cluster_settings(persistent={ALLOCATION_SETTING: mode},
                                      transient={ALLOCATION_SETTING: None} if transient is not None else None)
        return {"changed": changed, "previous": previous, "current": mode}

    def flush(self, index=None, wait_if_ongoing=True, timeout=None):
        """POST [/<index>]/_flush; raises when a shard failed to flush. Returns the _shards summary."""
        path = ("/" + quote(index, safe=",*") if index else "") + "/_flush"
        body = self.request("POST", path, params={"wait_if_ongoing": wait_if_ongoing}, timeout=timeout)[1] or {}
        shards = body.get("_shards", {})
        if shards.get("failed"):
            raise ElasticsearchError("%s: flush failed on %s shard(s): %s" % (
                self.url, shards.get("failed"), json.dumps(shards.get("failures", []))[:500]), self.url)
        return shards

    # ------------------------------------------------------------------ node shutdown (ES >= 7.15.2)
    def supports_node_shutdown(self):
        distribution, number = self.version()
        return distribution == "elasticsearch" and number >= NODE_SHUTDOWN_SINCE

    def _require_node_shutdown(self):
        if not self.supports_node_shutdown():
            distribution, number = self.version()
            raise ElasticsearchUnsupportedError(
                "%s: %s %s has no node shutdown API (Elasticsearch >= %s); use set_allocation('primaries') "
                "and flush() around the restart instead" % (
                    self.url, distribution, ".".join(map(str, number)) or "?",
                    ".".join(map(str, NODE_SHUTDOWN_SINCE))), self.url)

    def put_node_shutdown(self, node_id, reason, shutdown_type="restart", allocation_delay=None,
                          target_node_name=None):
        """Register a planned shutdown: 'restart' (keeps shards, delays reallocation), 'remove' (migrates
        data off) or 'replace' (target_node_name takes over)."""
        self._require_node_shutdown()
        if shutdown_type not in SHUTDOWN_TYPES:
            raise ValueError("shutdown_type must be one of %s" % ", ".join(SHUTDOWN_TYPES))
        body = {"type": shutdown_type, "reason": reason}
        if allocation_delay is not None:
            if shutdown_type != "restart":
                raise ValueError("allocation_delay only applies to shutdown_type 'restart'")
            body["allocation_delay"] = allocation_delay
        if target_node_name is not None:
            body["target_node_name"] = target_node_name
        return self.request("PUT", "/_nodes/%s/shutdown" % quote(node_id, safe=""), body=body)[1]

    def node_shutdown_status(self, node_id=None):
        """[{node_id, type, reason, status, shard_migration, ...}] of registered shutdowns."""
        self._require_node_shutdown()
        path = "/_nodes/%s/shutdown" % quote(node_id, safe="") if node_id else "/_nodes/shutdown"
        return (self.get(path) or {}).get("nodes", [])

    def delete_node_shutdown(self, node_id):
        """Remove a registered shutdown once the node is back; returns False when none was registered."""
        self._require_node_shutdown()
        status = self.request("DELETE", "/_nodes/%s/shutdown" % quote(node_id, safe=""), expect=(200, 404))[0]
        return status == 200


# ---------------------------------------------------------------------- check_health
def _identify(client, timeout):
    entry = {"endpoint": client.url, "node_name": None, "cluster_name": None, "cluster_uuid": None,
             "version": None, "distribution": None, "status": None, "number_of_nodes": None,
             "timed_out": None, "error": None}
    try:
        info = client.info(timeout=timeout)
    except ElasticsearchAuthError:
        raise
    except ElasticsearchError as err:
        entry["error"] = str(err)
        return entry
    if not isinstance(info, dict) or "cluster_uuid" not in info:
        entry["error"] = "%s: GET / did not answer like Elasticsearch: %s" % (client.url, str(info)[:200])
        return entry
    version = info.get("version") or {}
    entry.update(node_name=info.get("name"), cluster_name=info.get("cluster_name"),
                 cluster_uuid=info.get("cluster_uuid"), version=version.get("number"),
                 distribution=version.get("distribution", "elasticsearch"))
    return entry


def _wait_health(client, entry, expected_nodes, wait_for_status, seconds):
    try:
        body = client.health(wait_for_status=wait_for_status, wait_for_nodes=expected_nodes, timeout=seconds)
    except ElasticsearchAuthError:
        raise
    except ElasticsearchError as err:
        entry["error"] = str(err)
        return None
    if not isinstance(body, dict) or "status" not in body:
        entry["error"] = "%s: /_cluster/health did not answer like Elasticsearch: %s" % (client.url, str(body)[:200])
        return None
    entry.update(status=body.get("status"), number_of_nodes=body.get("number_of_nodes"),
                 timed_out=bool(body.get("timed_out")))
    entry["error"] = None
    return body


def find_clusters(entries):
    """{cluster_uuid: [entries]} of the endpoints that have joined a cluster."""
    groups = {}
    for entry in entries:
        uuid = entry.get("cluster_uuid")
        if uuid and uuid != NOT_JOINED and not entry.get("error"):
            groups.setdefault(uuid, []).append(entry)
    return groups


def split_problems(groups):
    """Messages naming every endpoint outside the largest cluster as split / foreign."""
    if len(groups) < 2:
        return []
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    main_uuid, main = ordered[0]
    main_name = main[0].get("cluster_name")
    problems = ["endpoints belong to %d different clusters; %d endpoint(s) (%s) are in cluster %r with "
                "cluster_uuid %s" % (len(groups), len(main), ", ".join(_who(e) for e in main), main_name, main_uuid)]
    for uuid, members in ordered[1:]:
        for entry in members:
            if entry.get("cluster_name") == main_name:
                kind = ("split: a separately bootstrapped cluster with the same name (stale data directory, "
                        "or cluster.initial_master_nodes applied again); it will never join")
            else:
                kind = "foreign cluster %r: the node was configured for another cluster" % entry.get("cluster_name")
            problems.append("%s is in cluster_uuid %s, not %s: %s" % (_who(entry), uuid, main_uuid, kind))
    return problems


def _who(entry):
    if entry.get("node_name"):
        return "%s (node %s)" % (entry["endpoint"], entry["node_name"])
    return entry["endpoint"]


def _describe_explanation(explain):
    """One paragraph from an allocation explain answer."""
    if not explain:
        return ""
    shard = "[%s][%s] %s" % (explain.get("index"), explain.get("shard"),
                             "primary" if explain.get("primary") else "replica")
    unassigned = explain.get("unassigned_info", {})
    text = "unassigned shard %s (%s, %s): %s" % (
        shard, unassigned.get("reason", explain.get("current_state", "?")),
        explain.get("can_allocate", "?"), explain.get("allocate_explanation", ""))
    decisions = []
    for node in explain.get("node_allocation_decisions", [])[:5]:
        nos = [d for d in node.get("deciders", []) if d.get("decision") == "NO"]
        reason = ("%s: %s" % (nos[0].get("decider"), nos[0].get("explanation"))) if nos else node.get(
            "node_decision", "")
        decisions.append("%s: %s" % (node.get("node_name"), reason))
    if decisions:
        text += "; " + "; ".join(decisions)
    return text


def _diagnose(result, client, wait_for_status, timeout):
    """Add node names and, when the status fell short, the allocation explanation."""
    try:
        result["nodes"] = sorted(n.get("name") for n in client.cat_nodes(columns=("name",)))
    except ElasticsearchError:
        pass
    wanted = HEALTH_STATUSES.index(wait_for_status) if wait_for_status else len(HEALTH_STATUSES)
    status = result.get("status")
    if status in HEALTH_STATUSES and HEALTH_STATUSES.index(status) > wanted:
        try:
            result["allocation_explanation"] = client.allocation_explain(timeout=timeout)
        except ElasticsearchError as err:
            result["allocation_explanation"] = {"error": str(err)}


def _problems(result, entries, expected_nodes, wait_for_status):
    problems = split_problems(find_clusters(entries))
    for entry in entries:
        if entry.get("error"):
            problems.append(entry["error"])
        elif entry.get("cluster_uuid") in (None, NOT_JOINED):
            problems.append("%s has not joined a cluster (cluster_uuid %s)" % (_who(entry), entry.get("cluster_uuid")))
    if problems:
        return problems
    count = result.get("number_of_nodes")
    if count is not None and count != expected_nodes:
        names = result.get("nodes")
        problems.append("cluster %r has %d node(s)%s, expected %d" % (
            result.get("cluster_name"), count, " (%s)" % ", ".join(names) if names else "", expected_nodes))
    status = result.get("status")
    if wait_for_status and status and HEALTH_STATUSES.index(status) > HEALTH_STATUSES.index(wait_for_status):
        text = "cluster %r is %s, wanted %s (unassigned shards %s, initializing %s, relocating %s)" % (
            result.get("cluster_name"), status, wait_for_status, result.get("unassigned_shards"),
            result.get("initializing_shards"), result.get("relocating_shards"))
        explain = result.get("allocation_explanation")
        if isinstance(explain, dict) and explain.get("error"):
            text += "; allocation explain failed: " + explain["error"]
        elif explain:
            text += "; " + _describe_explanation(explain)
        problems.append(text)
    return problems


def check_health(endpoints, expected_nodes, wait_for_status="green", deadline=None, request_timeout=10.0,
                 interval=1.0, clock=time.monotonic, sleep=time.sleep, **client_options):
    """Wait until every endpoint is in one cluster of ``expected_nodes`` nodes with ``wait_for_status``.

    endpoints: URLs (one per pod; client_options such as username, password, ca_cert, validate_certs
        apply to each) or ElasticsearchClient objects.
    wait_for_status: 'green', 'yellow', 'red' or None (membership only).
    deadline: a k8s.deadline.Deadline shared with other waits; None means 60 seconds from now. The
        waiting is done by the server (wait_for_nodes/wait_for_status/timeout); only endpoints that
        cannot be reached yet are asked again, every ``interval`` seconds.
    Returns {healthy, cluster_name, cluster_uuid, status, number_of_nodes, number_of_data_nodes,
        active_shards_percent, unassigned_shards, initializing_shards, relocating_shards, version,
        distribution, expected_nodes, wait_for_status, nodes, endpoints: [{endpoint, node_name,
        cluster_name, cluster_uuid, version, distribution, status, number_of_nodes, timed_out, error}],
        allocation_explanation, problems, elapsed}.
    Raises ClusterHealthError (with .result) naming split / foreign clusters, a wrong node count, or
    the status reached with the allocation explanation of an unassigned shard; ElasticsearchAuthError
    when credentials are refused.
    """
    if wait_for_status is not None and wait_for_status not in HEALTH_STATUSES:
        raise ValueError("wait_for_status must be one of %s or None" % ", ".join(HEALTH_STATUSES))
    expected_nodes = int(expected_nodes)
    if expected_nodes < 1:
        raise ValueError("expected_nodes must be at least 1")
    clients = [e if isinstance(e, ElasticsearchClient) else ElasticsearchClient(e, timeout=request_timeout,
                                                                                **client_options)
               for e in endpoints]
    if not clients:
        raise ValueError("check_health needs at least one endpoint")
    remaining = (deadline or Deadline(DEFAULT_WAIT, clock)).remaining
    started = clock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(clients))) as pool:
        while True:
            budget = max(0.5, min(request_timeout, remaining()))
            entries = list(pool.map(lambda c: _identify(c, budget), clients))
            result = dict.fromkeys(RESULT_FIELDS)
            result.update(healthy=False, expected_nodes=expected_nodes, wait_for_status=wait_for_status,
                          endpoints=entries, problems=[])
            groups = find_clusters(entries)
            if len(groups) > 1:
                result["problems"] = split_problems(groups)
                break
            reachable = [(c, e) for c, e in zip(clients, entries) if not e["error"]]
            if reachable:
                # Leave a margin so the server answers 408 before the deadline passes.
                wait = max(0.5, remaining() - min(2.0, max(0.2, remaining() * 0.1)))
                bodies = list(pool.map(lambda ce: _wait_health(ce[0], ce[1], expected_nodes, wait_for_status, wait),
                                       reachable))
                for (client, entry), body in zip(reachable, bodies):
                    if body is not None and entry["cluster_uuid"] in (None, NOT_JOINED):
                        again = _identify(client, budget)
                        entry.update((k, again[k]) for k in IDENTITY_FIELDS + ("error",))
                answered = [b for b in bodies if b is not None]
                if answered:
                    _merge_health(result, answered[0], entries)
            problems = _problems(result, entries, expected_nodes, wait_for_status)
            healthy = not problems and all(e.get("timed_out") is False for e in entries)
            if healthy:
                result.update(healthy=True, problems=[], elapsed=round(clock() - started, 3))
                return result
            left = remaining()
            if left <= 0 or any(e.get("timed_out") for e in entries):
                break
            sleep(min(interval, left))
    good = [c for c, e in zip(clients, entries) if not e["error"]]
    if good and result.get("status"):
        _diagnose(result, good[0], wait_for_status, max(1.0, min(request_timeout, 10.0)))
    result["problems"] = _problems(result, entries, expected_nodes, wait_for_status) or result.get("problems") or [
        "cluster did not report %s with %d node(s)" % (wait_for_status or "any status", expected_nodes)]
    elapsed = round(clock() - started, 3)
    result["elapsed"] = elapsed
    raise ClusterHealthError("Elasticsearch cluster not healthy after %.1fs: %s" % (
        elapsed, "; ".join(result["problems"])), result)


def _merge_health(result, body, entries):
    uuids = {e["cluster_uuid"] for e in entries if e.get("cluster_uuid") not in (None, NOT_JOINED)}
    first = next((e for e in entries if e.get("version")), {})
    result.update(
        cluster_name=body.get("cluster_name"), cluster_uuid=uuids.pop() if len(uuids) == 1 else None,
        status=body.get("status"), number_of_nodes=body.get("number_of_nodes"),
        number_of_data_nodes=body.get("number_of_data_nodes"),
        active_shards_percent=body.get("active_shards_percent_as_number"),
        unassigned_shards=body.get("unassigned_shards"), initializing_shards=body.get("initializing_shards"),
        relocating_shards=body.get("relocating_shards"), version=first.get("version"),
        distribution=first.get("distribution"))
