# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AntidoteDB cluster operations: createDC, connection descriptors, connectToDCs, verification.

Independent of Kubernetes: a DC is a ``DcEndpoint(name, host, port, metrics_port)`` (a
port-forwarded local port or a direct address of the DC's first node), and every operation
takes ``open_client(host, port, timeout)`` returning an ``AntidoteClient``-like object.

Waiting. Each operation has one ``Deadline`` (``RetryPolicy.timeout``) for all of its steps and
DCs. Antidote answers ``success=false, errorcode=aborted`` for every failure of the cluster calls,
including "nodes still starting" (the PB port opens before the vnodes run), so ``aborted``,
refused connections, resets and timeouts are retried with exponential backoff until the
deadline (or ``max_attempts``); every other error stops at once. createDC blocks on the server
until the ring has rebalanced, so each call may take up to ``call_timeout``.

How ``changed`` is found for createDC. The PB API has no membership query, but the connection
descriptor has one publisher/log-reader entry per ring member (``get_descriptor`` maps over
``dc_utilities:get_my_dc_nodes()``) and its DC id is the riak_core cluster name
``{FounderNode, Timestamp}``, the founder being the node the DC grew from and always a member.
``create_dc`` reads the descriptor; if the ring has at least as many members as
``set(node_names) | {founder}`` it sends nothing (changed=False, which also spares Antidote 0.2.1,
whose createDC is not repeatable). Otherwise it sends createDC and reads the descriptor again,
which must then list that many members (changed=True). Members are compared by count because
descriptors carry addresses, not node names.

How ``changed`` is found for connectToDCs. A DC stores the descriptors it subscribed to (keyed by
DC id). The ``antidote_dc_count`` gauge counts the DCs a node knows: 1 (itself) before any
connectToDCs, the number of stored descriptors after. Antidote refreshes it every 10 s and it
reads 0 for about 10 s after every node start, so 0 means "not measured yet", never "lagging".
Descriptors are recomputed on every request from the node's interface addresses, so their bytes
change without anything happening to the DC. The caller keeps a record (``descriptor_record``: per
DC name the DC id, partitions, members and their addresses; a ConfigMap suits it), and a DC is
``stale`` when it is no longer the DC that was connected: another DC id (re-created), another
partition count or member count (createDC added nodes), or a member none of whose recorded
addresses it still publishes (a pod that came back with a new IP). Addresses added or dropped
while one recorded address remains do not count. ``ensure_connected`` sends the full set to every
DC in parallel when there is no record, a DC is new, a DC is stale, or a DC counts fewer DCs than
there are after a measurement (``lagging``). Then changed=True, the gauge is awaited on every DC,
and ``verify_replication`` proves that data written in each DC is read in every other one.
"""

import concurrent.futures
import hashlib
import time
import uuid
from collections import namedtuple

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import (
    DEFAULT_CONNECT_TIMEOUT,
    AntidoteClient,
    AntidoteError,
    AntidoteErrorResponse,
    AntidoteRequestFailed,
    AntidoteTimeout,
    AntidoteUnreachable,
    ConnectionClosed,
    MetricsError,
    dc_count,
    fetch_metrics,
    parse_descriptor,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline

RECORD_FORMAT = 1
DC_COUNT_REFRESH_SECONDS = 10.0  # antidote_stats_collector refreshes antidote_dc_count this often
DEFAULT_PB_PORT = 8087
DEFAULT_METRICS_PORT = 3001

_CREATE_DC_ABORTED_HINT = (
    "Antidote answers 'aborted' for every createDC failure: a node still starting, a node name that does not "
    "resolve or carries another cookie, a node already in another DC, or a different RING_SIZE; the node log "
    "('Create DC failed') names the cause"
)
_DC_COUNT_HINT = "Antidote refreshes antidote_dc_count every 10 s; a DC that cannot reach another DC's pod IPs " \
                 "on ports 8085/8086 never counts it"


class DcEndpoint(namedtuple("DcEndpoint", "name host port metrics_port")):
    """Where to reach one DC: its name (for messages), PB host and port, and metrics port."""

    __slots__ = ()

    def __new__(cls, name, host, port=DEFAULT_PB_PORT, metrics_port=None):
        return super().__new__(cls, name, host, int(port), None if metrics_port is None else int(metrics_port))

    @property
    def address(self):
        return "{0}:{1}".format(self.host, self.port)

    def __str__(self):
        return "{0} ({1})".format(self.name, self.address)


class RetryPolicy(namedtuple("RetryPolicy", "timeout call_timeout initial_delay max_delay multiplier max_attempts")):
    """timeout: one deadline (s) per operation; call_timeout: cap per request; backoff from
    initial_delay, times multiplier, capped at max_delay; max_attempts 0 means until the deadline."""

    __slots__ = ()

    def __new__(cls, timeout=300.0, call_timeout=120.0, initial_delay=0.2, max_delay=5.0, multiplier=2.0,
                max_attempts=0):
        return super().__new__(cls, timeout, call_timeout, initial_delay, max_delay, multiplier, max_attempts)


class DcOperationError(AntidoteError):
    """An operation failed on one DC; `dc` is its DcEndpoint, `cause` the underlying error."""

    def __init__(self, dc, operation, cause, message=None):
        self.dc = dc
        self.operation = operation
        self.cause = cause
        super().__init__(message or "{0} on DC {1} failed: {2}".format(operation, dc, cause))


class RetriesExhausted(DcOperationError):
    """Retryable errors until max_attempts; `cause` is the last one."""

    def __init__(self, dc, operation, attempts, cause, limit=None):
        self.attempts = attempts
        limit = limit or "after {0} attempt(s)".format(attempts)
        message = "{0} on DC {1} did not succeed {2}; last error: {3}".format(operation, dc, limit, cause)
        if isinstance(cause, AntidoteRequestFailed) and operation == "createDC":
            message += ". " + _CREATE_DC_ABORTED_HINT
        elif isinstance(cause, DcCountTooLow):
            message += ". " + _DC_COUNT_HINT
        super().__init__(dc, operation, cause, message)


class DeadlineExceeded(RetriesExhausted):
    """Retryable errors until the operation's deadline."""

    def __init__(self, dc, operation, seconds, attempts, cause):
        self.seconds = seconds
        super().__init__(dc, operation, attempts, cause,
                         limit="within {0:g} s ({1} attempt(s))".format(seconds, attempts))


class MultiDcError(AntidoteError):
    """An operation run on several DCs failed on some; `errors` holds one DcOperationError each."""

    def __init__(self, operation, errors, total):
        self.operation = operation
        self.errors = errors
        super().__init__("{0} failed on {1} of {2} DC(s): {3}".format(
            operation, len(errors), total, "; ".join(str(error) for error in errors)))

    @property
    def dcs(self):
        return [error.dc.name for error in self.errors]


class TopologyError(AntidoteError):
    """The DCs cannot be connected as given (ring sizes differ, two endpoints reach one DC)."""


class DcCountTooLow(AntidoteError):
    """antidote_dc_count is below the number of DCs (retried while waiting)."""


class MemberDown(AntidoteError):
    """The descriptor has {badrpc, ...} entries: a member of the DC does not answer (retried)."""


class MarkerNotSeen(AntidoteError):
    """A DC does not read the replication marker yet (retried until the deadline)."""


_RETRYABLE = (AntidoteUnreachable, ConnectionClosed, AntidoteTimeout, MetricsError, DcCountTooLow, MarkerNotSeen,
              MemberDown)


def _retryable(error):
    if isinstance(error, AntidoteRequestFailed):
        return error.retryable
    return isinstance(error, _RETRYABLE)


def default_open_client(host, port, timeout):
    return AntidoteClient(host, port, timeout=timeout, connect_timeout=min(timeout, DEFAULT_CONNECT_TIMEOUT))


def call_with_retry(dc, operation, action, policy, deadline):
    """Run action(timeout) until it returns; return (result, attempts).

    Retryable errors are retried with backoff until `deadline` or `policy.max_attempts`; any other
    AntidoteError is raised at once as DcOperationError naming `dc`.
    """
    delay, attempts, last = policy.initial_delay, 0, None
    while True:
        timeout = min(policy.call_timeout, deadline.remaining())
        if timeout <= 0:
            raise DeadlineExceeded(dc, operation, deadline.seconds, attempts, last or "no time left to try")
        attempts += 1
        try:
            return action(timeout), attempts
        except AntidoteError as error:
            refused = [forward.failure() for forward in getattr(dc, "forwards", []) if forward.refused]
            if refused:
                raise DcOperationError(dc, operation, "port-forward refused: " + "; ".join(refused)) from error
            if not _retryable(error):
                raise DcOperationError(dc, operation, error) from error
            last = error
        if policy.max_attempts and attempts >= policy.max_attempts:
            raise RetriesExhausted(dc, operation, attempts, last)
        if deadline.remaining() <= delay:
            raise DeadlineExceeded(dc, operation, deadline.seconds, attempts, last)
        time.sleep(delay)
        delay = min(delay * policy.multiplier, policy.max_delay)


def _client_call(dc, open_client, method, *args):
    def action(timeout):
        with open_client(dc.host, dc.port, timeout) as client:
            return getattr(client, method)(*args, timeout=timeout)
    return action


def run_parallel(dcs, operation, work):
    """Run work(dc) for every DC in its own thread; return {dc name: result}.

    Raises MultiDcError naming every DC that failed (after all of them finished).
    """
    names = [dc.name for dc in dcs]
    if len(set(names)) != len(names):
        raise ValueError("DC names must be unique: {0}".format(", ".join(names)))
    if not dcs:
        return {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(dcs)) as pool:
        futures = [(dc, pool.submit(work, dc)) for dc in dcs]
    results, errors = {}, []
    for dc, future in futures:
        try:
            results[dc.name] = future.result()
        except DcOperationError as error:
            errors.append(error)
        except AntidoteError as error:
            errors.append(DcOperationError(dc, operation, error))
    if errors:
        raise MultiDcError(operation, errors, len(dcs))
    return results


def _defaults(policy, deadline, open_client):
    policy = policy or RetryPolicy()
    return policy, deadline or Deadline(policy.timeout), open_client or default_open_client


# ---------------------------------------------------------------------------------------------
# createDC


def read_descriptor(dc, policy=None, deadline=None, open_client=None):
    """Fetch and decode `dc`'s connection descriptor; return (bytes, ConnectionDescriptor)."""
    policy, deadline, open_client = _defaults(policy, deadline, open_client)
    fetch = _client_call(dc, open_client, "get_connection_descriptor")

    def action(timeout):
        raw = fetch(timeout)
        parsed = parse_descriptor(raw)  # MalformedMessage is not retried
        if parsed.down:
            raise MemberDown("{0} of the DC's {1} member(s) do not answer (the descriptor lists {2} for them): "
                             "a node of the DC is down, and the DC is not whole until it is back".format(
                                 len(parsed.down), len(parsed.publishers), ", ".join(sorted(set(parsed.down)))))
        return raw, parsed

    return call_with_retry(dc, "getConnectionDescriptor", action, policy, deadline)[0]


def _validated_node_names(dc, node_names):
    names = list(dict.fromkeys(node_names))
    for name in names:
        local, _at, host = name.partition("@")
        if not local or not host:
            raise DcOperationError(dc, "createDC", "node name {0!r} is not of the form name@host".format(name))
    return names


def _expected_members(names, descriptor):
    return len(set(names) | ({descriptor.founder} if descriptor.founder else set()))


def create_dc(dc, node_names, policy=None, check_mode=False, open_client=None):
    """Make the nodes `node_names` ('antidote@host') one DC, sending createDC to `dc` if needed.

    Returns a dict: changed, dc, endpoint, dc_id, partitions, requested (node names),
    expected_members, members_before, members, attempts (createDC requests sent).
    Raises DcOperationError / RetriesExhausted / DeadlineExceeded naming the DC.
    """
    policy, deadline, open_client = _defaults(policy, None, open_client)
    names = _validated_node_names(dc, node_names)
    _raw, before = read_descriptor(dc, policy, deadline, open_client)
    expected = _expected_members(names, before)
    result = {
        "changed": False, "dc": dc.name, "endpoint": dc.address, "dc_id": before.dc_id,
        "partitions": before.partitions, "requested": names, "expected_members": expected,
        "members_before": len(before.publishers), "members": len(before.publishers), "attempts": 0,
    }
    if len(before.publishers) >= expected:
        return result
    result["changed"] = True
    if check_mode:
        return result
    _none, result["attempts"] = call_with_retry(
        dc, "createDC", _client_call(dc, open_client, "create_dc", names), policy, deadline)
    _raw, after = read_descriptor(dc, policy, deadline, open_client)
    if len(after.publishers) < expected:
        raise DcOperationError(dc, "createDC", "the server reported success, but its descriptor lists {0} "
                                               "member(s), {1} expected".format(len(after.publishers), expected))
    result.update(members=len(after.publishers), dc_id=after.dc_id)
    return result


# ---------------------------------------------------------------------------------------------
# Connection descriptors and connectToDCs


def fetch_parsed_descriptors(dcs, policy=None, open_client=None, deadline=None):
    """Every DC's descriptor in parallel: {dc name: (bytes, ConnectionDescriptor)}."""
    policy, deadline, open_client = _defaults(policy, deadline, open_client)
    return run_parallel(dcs, "getConnectionDescriptor",
                        lambda dc: read_descriptor(dc, policy, deadline, open_client))


def fetch_descriptors(dcs, policy=None, open_client=None, deadline=None):
    """Every DC's descriptor in parallel: {dc name: descriptor bytes}."""
    fetched = fetch_parsed_descriptors(dcs, policy, open_client, deadline)
    return dict((name, raw) for name, (raw, _parsed) in fetched.items())


def connect_dcs(dcs, descriptors, policy=None, open_client=None, deadline=None):
    """Send one ConnectToDCs with all `descriptors` to every DC, in parallel.

    `descriptors`: {dc name: bytes} (sent in the order of `dcs`) or a list of bytes. Each DC
    subscribes only to the others (subscriptions are one-way), so every DC gets the full set.
    """
    policy, deadline, open_client = _defaults(policy, deadline, open_client)
    if isinstance(descriptors, dict):
        descriptors = [descriptors[dc.name] for dc in dcs if dc.name in descriptors]
    descriptors = list(descriptors)

    def work(dc):
        call_with_retry(dc, "connectToDCs", _client_call(dc, open_client, "connect_to_dcs", descriptors),
                        policy, deadline)

    run_parallel(dcs, "connectToDCs", work)


def check_topology(parsed):
    """Refuse DCs that Antidote would silently not connect: {dc name: ConnectionDescriptor}."""
    partitions = dict((name, descriptor.partitions) for name, descriptor in parsed.items())
    if len(set(partitions.values())) > 1:
        raise TopologyError(
            "the DCs have different partition counts (RING_SIZE): {0}; Antidote does not connect DCs whose "
            "ring sizes differ (partition_num_mismatch)".format(
                ", ".join("{0}={1}".format(name, count) for name, count in sorted(partitions.items()))))
    seen = {}
    for name, descriptor in parsed.items():
        if descriptor.dc_id in seen:
            raise TopologyError("{0} and {1} reach the same DC (dc id {2}); each endpoint must reach a "
                                "different DC".format(seen[descriptor.dc_id], name, descriptor.dc_id))
        seen[descriptor.dc_id] = name


def descriptor_record(fetched):
    """The record to keep between runs, from {dc name: (bytes, ConnectionDescriptor)}.

    JSON-serialisable: {"format": 1, "dcs": {name: {"dc_id", "sha256", "partitions", "members",
    "publishers"}}}; see is_stale for what is compared. sha256 (of the descriptor bytes) is for
    people: the bytes change whenever the node's interface addresses do.
    """
    dcs = {}
    for name, (raw, parsed) in fetched.items():
        dcs[name] = {
            "dc_id": parsed.dc_id, "sha256": hashlib.sha256(raw).hexdigest(), "partitions": parsed.partitions,
            "members": len(parsed.publishers), "publishers": parsed.publishers,
        }
    return {"format": RECORD_FORMAT, "dcs": dcs}


def _members_moved(old_entry, new_entry):
    """True when a recorded member publishes none of the addresses recorded for it."""
    current = [set(member) for member in new_entry.get("publishers") or []]
    for member in old_entry.get("publishers") or []:
        if member and not any(set(member) & addresses for addresses in current):
            return True
    return False


def is_stale(old_entry, new_entry):
    """The DC is not the one that was connected: see the module docstring."""
    if old_entry.get("dc_id") != new_entry["dc_id"]:
        return True
    for key in ("partitions", "members"):
        if old_entry.get(key) is not None and old_entry.get(key) != new_entry[key]:
            return True
    return _members_moved(old_entry, new_entry)


def compare_records(old, new):
    """{"added", "removed", "stale"} DC names between two records (old may be None)."""
    old_dcs = (old or {}).get("dcs", {})
    new_dcs = new["dcs"]
    return {
        "added": sorted(set(new_dcs) - set(old_dcs)),
        "removed": sorted(set(old_dcs) - set(new_dcs)),
        "stale": sorted(name for name in set(new_dcs) & set(old_dcs) if is_stale(old_dcs[name], new_dcs[name])),
    }


# ---------------------------------------------------------------------------------------------
# antidote_dc_count


def _read_dc_count(dc, timeout):
    host = getattr(dc, "metrics_host", None) or dc.host  # a subclass may serve metrics elsewhere
    count = dc_count(fetch_metrics(host, dc.metrics_port, timeout=timeout))
    if count is None:
        raise MetricsError("the metrics page of {0} has no antidote_dc_count".format(dc))
    return count


def read_dc_counts(dcs, policy=None, deadline=None):
    """antidote_dc_count of every DC with a metrics port, in parallel: {dc name: int}."""
    policy, deadline, _open = _defaults(policy, deadline, None)
    operation = "read antidote_dc_count"

    def read(dc):
        def action(timeout):
            return _read_dc_count(dc, min(timeout, DEFAULT_CONNECT_TIMEOUT))
        return call_with_retry(dc, operation, action, policy, deadline)[0]

    return run_parallel([dc for dc in dcs if dc.metrics_port], operation, read)


def wait_for_dc_count(dcs, expected, policy=None, deadline=None):
    """Wait until every DC with a metrics port reports antidote_dc_count >= expected.

    Returns {dc name: count}; raises MultiDcError naming each DC still below at the deadline.
    """
    policy, deadline, _open = _defaults(policy, deadline, None)
    operation = "wait for antidote_dc_count >= {0}".format(expected)

    def at_least(dc):
        def action(timeout):
            count = _read_dc_count(dc, min(timeout, DEFAULT_CONNECT_TIMEOUT))
            if count < expected:
                raise DcCountTooLow("antidote_dc_count is {0}".format(count))
            return count
        return call_with_retry(dc, operation, action, policy, deadline)[0]

    return run_parallel([dc for dc in dcs if dc.metrics_port], operation, at_least)


def wait_until_measured(dcs, counts, policy=None, deadline=None, seconds=DC_COUNT_REFRESH_SECONDS + 2.0):
    """Re-read antidote_dc_count of the DCs that read 0 until each reads more, for at most `seconds`.

    A node reads 0 for about one refresh period after it starts, then at least 1. Returns the
    counts, those still at 0 included.
    """
    policy, deadline, _open = _defaults(policy, deadline, None)
    waiting = [dc for dc in dcs if counts.get(dc.name) == 0]
    if not waiting:
        return counts
    patience = Deadline(min(seconds, max(deadline.remaining() - 1.0, 0.0)))
    reads = RetryPolicy(timeout=patience.seconds, call_timeout=DEFAULT_CONNECT_TIMEOUT, initial_delay=0.5,
                        max_delay=1.0)

    def measured(dc):
        def action(timeout):
            count = _read_dc_count(dc, min(timeout, DEFAULT_CONNECT_TIMEOUT))
            if count == 0:
                raise DcCountTooLow("antidote_dc_count is 0 (not measured yet)")
            return count
        try:
            return call_with_retry(dc, "measure antidote_dc_count", action, reads, patience)[0]
        except RetriesExhausted:
            return 0

    found = run_parallel(waiting, "measure antidote_dc_count", measured)
    return dict(counts, **found)


# ---------------------------------------------------------------------------------------------
# Replication: a marker written in one DC, read in the others

PROBE_BUCKET = b"stateful.datastores"
PROBE_KEY_PREFIX = "replication-probe/"


def _not_ready_is_retried(action):
    """A node seconds after its start answers transactions with ApbErrorResp (its materializer is not
    up yet); the probe is idempotent, so that is retried like a marker not seen yet."""
    def retried(timeout, **kwargs):
        try:
            return action(timeout, **kwargs)
        except AntidoteErrorResponse as error:
            first_line = (error.errmsg.strip().splitlines() or [""])[0][:200]
            raise MarkerNotSeen("the node answered ApbErrorResp: {0}".format(first_line)) from error
    return retried


def verify_replication(dcs, policy=None, deadline=None, open_client=None):
    """Every DC writes its own marker (an LWW register), every other DC must read it before `deadline`.

    Returns {"bucket", "keys": {source: key}, "seen_after": {source: {reader: seconds}},
    "max_seconds"}; raises MultiDcError naming the readers that never saw a source's marker.
    """
    policy, deadline, open_client = _defaults(policy, deadline, open_client)
    token = uuid.uuid4().hex[:12]
    markers = dict((dc.name, "{0} {1} {2:.3f}".format(dc.name, token, time.time()).encode()) for dc in dcs)
    keys = dict((dc.name, (PROBE_KEY_PREFIX + dc.name).encode()) for dc in dcs)

    def write(dc):
        action = _not_ready_is_retried(
            _client_call(dc, open_client, "write_register", PROBE_BUCKET, keys[dc.name], markers[dc.name]))
        call_with_retry(dc, "write the replication marker", action, policy, deadline)
        return time.monotonic()

    written = run_parallel(dcs, "write the replication marker", write)
    reads = policy._replace(initial_delay=0.1, max_delay=0.5)

    def read_all(reader):
        seen = {}
        for source in dcs:
            if source.name == reader.name:
                continue

            @_not_ready_is_retried
            def action(timeout, source=source):
                with open_client(reader.host, reader.port, timeout) as client:
                    value = client.read_register(PROBE_BUCKET, keys[source.name], timeout=timeout)
                if value != markers[source.name]:
                    raise MarkerNotSeen("the marker written in {0} is not readable here yet".format(source.name))
                return round(time.monotonic() - written[source.name], 3)

            seen[source.name] = call_with_retry(reader, "read the replication marker of " + source.name, action,
                                                reads, deadline)[0]
        return seen

    by_reader = run_parallel(dcs, "replication check", read_all)
    seen_after = dict((dc.name, dict((reader, found[dc.name]) for reader, found in by_reader.items()
                                     if dc.name in found)) for dc in dcs)
    slowest = [seconds for found in seen_after.values() for seconds in found.values()]
    return {"bucket": PROBE_BUCKET.decode(), "keys": dict((name, key.decode()) for name, key in keys.items()),
            "seen_after": seen_after, "max_seconds": max(slowest) if slowest else 0.0}


def ensure_connected(dcs, record=None, policy=None, check_mode=False, verify=True, open_client=None,
                     verify_replication_too=True):
    """Connect every DC to every other one unless `record` shows it is already done.

    Returns a dict: changed, record (store it after success; the old one while nothing is
    connected), record_changed, added, removed, stale, lagging, unmeasured (DC names), dc_count
    ({name: int} for DCs with a metrics port), dcs ({name: {dc_id, partitions, members,
    publishers}}) and replication (see verify_replication; None when not run). In check mode
    nothing is sent or written.
    """
    policy, deadline, open_client = _defaults(policy, None, open_client)
    seconds, began = {}, time.monotonic()
    fetched = fetch_parsed_descriptors(dcs, policy, open_client, deadline)
    check_topology(dict((name, parsed) for name, (_raw, parsed) in fetched.items()))
    new_record = descriptor_record(fetched)
    result = compare_records(record, new_record)
    counts = read_dc_counts(dcs, policy, deadline)
    if record is not None and not (result["added"] or result["stale"]):
        counts = wait_until_measured(dcs, counts, policy, deadline)
    result["unmeasured"] = sorted(name for name, count in counts.items() if count == 0)
    result["lagging"] = sorted(name for name, count in counts.items() if count < len(dcs))
    result["changed"] = record is None or bool(result["added"] or result["stale"] or result["lagging"])
    kept = record if record is not None and not result["changed"] and not result["removed"] else new_record
    result.update(record=kept, record_changed=kept != record, dc_count=counts, replication=None, seconds=seconds,
                  dcs=dict((name, dict((k, v) for k, v in entry.items() if k != "sha256"))
                           for name, entry in new_record["dcs"].items()))
    began = _lap(seconds, "inspect", began)
    if check_mode:
        return result
    if result["changed"]:
        connect_dcs(dcs, [fetched[dc.name][0] for dc in dcs], policy, open_client, deadline)
        began = _lap(seconds, "connect", began)
        if verify:
            result["dc_count"] = wait_for_dc_count(dcs, len(dcs), policy, deadline)
            began = _lap(seconds, "dc_count", began)
    if verify_replication_too and len(dcs) > 1:
        result["replication"] = verify_replication(dcs, policy, deadline, open_client)
        _lap(seconds, "replication", began)
    return result


def _lap(seconds, phase, began):
    now = time.monotonic()
    seconds[phase] = round(now - began, 3)
    return now
