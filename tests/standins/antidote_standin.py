# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for a set of AntidoteDB nodes grouped into DCs, on 127.0.0.1 only.

Each simulated node has a protocol-buffer port (createDC, getConnectionDescriptor, connectToDCs,
start/abort transaction, with the codes of Antidote >= 0.2.1 or, with old_protocol, of 0.2.0)
and a metrics port (GET /metrics, Prometheus text, antidote_dc_count and ring gauges).

In-process::

    with AntidoteStandin(dcs=2, nodes=3) as standin:
        standin.describe()   # {"host": "127.0.0.1", "dcs": [{"name", "nodes": [{name, ip, pb_port, metrics_port}]}]}

From another process::

    python tests/standins/antidote_standin.py --dcs 3 --nodes 3 [--control-stdin]

prints describe() as one JSON line, then serves until SIGTERM/SIGINT, --max-lifetime, or (with
--control-stdin) a `stop` line or end of input on stdin. Other stdin commands:
`set-ip NODE IP`, `restart NODE SECONDS`, `block DC`, `unblock DC`; each is answered with `ok`
or `error: ...` on stdout.
"""
import argparse
import itertools
import json
import pathlib
import signal
import struct
import sys
import threading
import time

if not __package__:  # run as a script: import this file's package relative to the repo root (PEP 366)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    __package__ = "tests.standins"  # pylint: disable=redefined-builtin

from .antidote_standin_model import Aborted, AntidoteModel  # noqa: E402
from .antidote_standin_wire import (  # noqa: E402
    Atom, WireError, binary_to_term, bytes_field, frame, read_fields, repeated_bytes, status_reply,
    term_to_binary, varint_field,
)
from .loopback_server import LoopbackServer  # noqa: E402

ERROR_RESP, OPERATION_RESP, START_TXN, ABORT_TXN, START_TXN_RESP = 0, 111, 119, 120, 124
STATIC_UPDATE, STATIC_READ, COMMIT_RESP, STATIC_READ_RESP = 122, 123, 127, 128
LWWREG = 5
# request code -> (operation, reply code)
NEW_CODES = {129: ("create_dc", 130), 133: ("descriptor", 134), 131: ("connect", 132),
             START_TXN: ("start_txn", START_TXN_RESP), ABORT_TXN: ("abort_txn", OPERATION_RESP),
             STATIC_UPDATE: ("static_update", COMMIT_RESP), STATIC_READ: ("static_read", STATIC_READ_RESP)}
OLD_CODES = {129: ("create_dc", OPERATION_RESP), 131: ("descriptor", 132), 130: ("connect", OPERATION_RESP),
             START_TXN: ("start_txn", START_TXN_RESP), ABORT_TXN: ("abort_txn", OPERATION_RESP)}
MAX_FRAME = 16 * 1024 * 1024


def default_layout(dcs, nodes):
    """DC names dc1..dcN; node names as a StatefulSet antidote-dcK with its headless Service."""
    layout = []
    for dc_index in range(1, dcs + 1):
        sts = "antidote-dc{0}".format(dc_index)
        members = [("antidote@{0}-{1}.{0}".format(sts, i), "10.244.{0}.{1}".format(dc_index, i + 2))
                   for i in range(nodes)]
        layout.append(("dc{0}".format(dc_index), members))
    return layout


def _recv_exactly(conn, count):
    data = bytearray()
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


class AntidoteStandin:
    """N simulated Antidote nodes in DCs; start()/stop() or use as a context manager.

    startup_seconds: every node answers the cluster calls with `aborted` for this long after start.
    latency_seconds: added before every PB reply. rebalance_seconds: createDC that added nodes
    blocks this long (the ring is not ready meanwhile). metrics_refresh_seconds: antidote_dc_count
    is recomputed at most this often (Antidote: 10 s). ports: [(pb, metrics)] per node in layout
    order; 0 or absent picks a free port.
    """

    def __init__(self, dcs=1, nodes=1, ring_size=16, startup_seconds=0.0, latency_seconds=0.0,
                 rebalance_seconds=0.0, metrics_refresh_seconds=0.0, old_protocol=False, ports=None,
                 layout=None):
        self.model = AntidoteModel(layout or default_layout(dcs, nodes), ring_size, old_protocol)
        self.startup_seconds = startup_seconds
        self.latency_seconds = latency_seconds
        self.rebalance_seconds = rebalance_seconds
        self.metrics_refresh_seconds = metrics_refresh_seconds
        self.codes = OLD_CODES if old_protocol else NEW_CODES
        self.ports = {}
        self._requested_ports = list(ports or [])
        self._server = LoopbackServer()
        self._gauges = {}
        self._transactions = set()
        self._txn_ids = itertools.count()
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "aborted": 0, "in_flight": 0, "max_in_flight": 0, "connect_failures": 0,
                      "metrics_requests": 0, "codes": {}}
        # (received, replied, code) per answered PB request, wall-clock seconds: when the servers were busy.
        self.timeline = []

    # -- lifecycle

    def start(self):
        for index, name in enumerate(self.model.nodes):
            pb_port, metrics_port = self._requested_ports[index] if index < len(self._requested_ports) else (0, 0)
            self.ports[name] = (
                self._server.listen(lambda conn, node=name: self._serve_pb(node, conn), pb_port),
                self._server.listen(lambda conn, node=name: self._serve_metrics(node, conn), metrics_port),
            )
            self.model.restart_node(name, self.startup_seconds)
        self._server.start()
        return self

    def stop(self):
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def describe(self):
        dcs = []
        for dc, names in self.model.dcs.items():
            nodes = [{"name": name, "ip": self.model.nodes[name].ip, "pb_port": self.ports[name][0],
                      "metrics_port": self.ports[name][1]} for name in names]
            dcs.append({"name": dc, "nodes": nodes})
        return {"host": "127.0.0.1", "dcs": dcs}

    # -- control and inspection

    def manager(self, dc):
        """The first node of `dc` (the createDC receiver): its name, PB port and metrics port."""
        name = self.model.dcs[dc][0]
        return name, self.ports[name][0], self.ports[name][1]

    def node_names(self, dc):
        return list(self.model.dcs[dc])

    def set_node_ip(self, node, ip):
        self.model.set_node_ip(node, ip)

    def restart_node(self, node, startup_seconds):
        self.model.restart_node(node, startup_seconds)

    def block_dc(self, dc, blocked=True):
        self.model.block_dc(dc, blocked)

    def members(self, dc):
        return self.model.members(dc)

    def receives_from(self, dc, other):
        return self.model.receives_from(dc, other)

    def dc_count(self, dc):
        return self.model.dc_count(self.model.dcs[dc][0])

    def _count(self, key, delta=1):
        with self._stats_lock:
            self.stats[key] += delta
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.stats["in_flight"])

    def requests_with_code(self, code):
        with self._stats_lock:
            return self.stats["codes"].get(code, 0)

    # -- protocol buffers

    def _serve_pb(self, node, conn):
        while not self._server.stopping.is_set():
            header = _recv_exactly(conn, 4)
            if header is None:
                return
            (length,) = struct.unpack(">I", header)
            if not 1 <= length <= MAX_FRAME:
                return
            body = _recv_exactly(conn, length)
            if body is None:
                return
            received = time.time()
            self._count("requests")
            self._count("in_flight")
            with self._stats_lock:
                self.stats["codes"][body[0]] = self.stats["codes"].get(body[0], 0) + 1
            try:
                reply = self._dispatch(node, body[0], body[1:])
                if reply is not None and self.latency_seconds:
                    self._server.stopping.wait(self.latency_seconds)
            finally:
                self._count("in_flight", -1)
            if reply is None:
                return  # Antidote's codec crashes on unknown codes and bad payloads: the socket closes
            conn.sendall(reply)
            with self._stats_lock:
                self.timeline.append((received, time.time(), body[0]))

    def _dispatch(self, node, code, payload):
        operation, reply_code = self.codes.get(code, (None, None))
        if operation is None:
            return None
        try:
            return frame(reply_code, getattr(self, "_op_" + operation)(node, payload, reply_code))
        except WireError:
            return None
        except Aborted:
            self._count("aborted")
            error_field = 3 if operation == "descriptor" else 2
            return frame(reply_code, status_reply(False, error_field))
        except _ServerException as error:
            return frame(ERROR_RESP, bytes_field(1, str(error).encode()) + varint_field(2, 0))

    def _op_create_dc(self, node, payload, _reply_code):
        names = []
        for number, wire_type, value in read_fields(payload):
            if number == 1:
                if wire_type != 2:
                    raise WireError("nodes")
                names.append(value.decode("utf-8"))
        if self.model.create_dc(node, names) and self.rebalance_seconds:
            self.model.mark_rebalancing(node, self.rebalance_seconds)
            self._server.stopping.wait(self.rebalance_seconds)
        return status_reply(True)

    def _op_descriptor(self, node, _payload, _reply_code):
        return status_reply(True, extra=bytes_field(2, self.model.descriptor(node)))

    def _op_connect(self, node, payload, _reply_code):
        failures = self.model.connect(node, repeated_bytes(payload, 1))
        self._count("connect_failures", failures)
        return status_reply(True)

    def _op_start_txn(self, node, _payload, _reply_code):
        txid = term_to_binary((Atom("tx_id"), int(time.time() * 1e6), (Atom(node), next(self._txn_ids))))
        self._transactions.add(txid)
        return status_reply(True, extra=bytes_field(2, txid))

    def _op_abort_txn(self, _node, payload, _reply_code):
        blobs = repeated_bytes(payload, 1)
        try:
            binary_to_term(blobs[0] if blobs else b"")
        except WireError:
            raise _ServerException("error:badarg in binary_to_term/1 (antidote_pb_process:from_bin/1)") from None
        self._transactions.discard(blobs[0])
        return status_reply(True)

    def _op_static_update(self, node, payload, _reply_code):
        for update in repeated_bytes(payload, 2):
            bucket, key = _bound_object(_only(update, 1))
            operation = _only(update, 2)
            value = _only(_only(operation, 3), 1)
            self.model.write_register(node, bucket, key, value)
        return status_reply(True, extra=bytes_field(2, term_to_binary(int(time.time() * 1e6))))

    def _op_static_read(self, node, payload, _reply_code):
        objects = b""
        for bound in repeated_bytes(payload, 2):
            bucket, key = _bound_object(bound)
            objects += bytes_field(2, bytes_field(3, bytes_field(1, self.model.read_register(node, bucket, key))))
        return bytes_field(1, varint_field(1, True) + objects) + bytes_field(2, status_reply(True))

    # -- metrics

    def _gauge_dc_count(self, node):
        now = time.monotonic()
        value, at = self._gauges.get(node, (None, None))
        if value is None or now - at >= self.metrics_refresh_seconds:
            value, at = self.model.dc_count(node), now
            self._gauges[node] = (value, at)
        return value

    def metrics_text(self, node):
        lines = ["# HELP antidote_dc_count Number of known DCs including self", "# TYPE antidote_dc_count gauge",
                 "antidote_dc_count {0}".format(self._gauge_dc_count(node)),
                 "# HELP antidote_cluster_ring_state If this node agrees on the cluster ring state of the cluster",
                 "# TYPE antidote_cluster_ring_state gauge", "antidote_cluster_ring_state 1",
                 "# HELP antidote_ring_node_state State of the node members in the riak_core cluster",
                 "# TYPE antidote_ring_node_state gauge"]
        lines += ['antidote_ring_node_state{{node="{0}"}} 0'.format(member) for member in self.model.ring_members(node)]
        lines += ["# TYPE antidote_error_count counter", "antidote_error_count 0"]
        return "\n".join(lines) + "\n"

    def _serve_metrics(self, node, conn):
        conn.settimeout(5.0)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk or len(request) > 65536:
                return
            request += chunk
        parts = request.split(b"\r\n", 1)[0].split()
        self._count("metrics_requests")
        if len(parts) >= 2 and parts[0] == b"GET" and parts[1].split(b"?")[0] == b"/metrics":
            status, body = "200 OK", self.metrics_text(node).encode()
        else:
            status, body = "404 Not Found", b"not found\n"
        head = "HTTP/1.1 {0}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {1}\r\n" \
               "Connection: close\r\n\r\n".format(status, len(body))
        conn.sendall(head.encode() + body)


def _only(payload, number):
    values = repeated_bytes(payload, number)
    if len(values) != 1:
        raise WireError("expected one field {0}".format(number))
    return values[0]


def _bound_object(payload):
    """(bucket, key) of an ApbBoundObject; only LWW registers are modelled."""
    types = [value for number, _wire, value in read_fields(payload) if number == 2]
    if types != [LWWREG]:
        raise WireError("only lww registers")
    return _only(payload, 3), _only(payload, 1)


class _ServerException(Exception):
    """An exception outside the cluster calls' try/catch: answered with ApbErrorResp."""


# -- command line


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="AntidoteDB stand-in on 127.0.0.1")
    parser.add_argument("--dcs", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=1, help="nodes per DC")
    parser.add_argument("--ring-size", type=int, default=16)
    parser.add_argument("--startup-seconds", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rebalance-seconds", type=float, default=0.0)
    parser.add_argument("--metrics-refresh-seconds", type=float, default=0.0)
    parser.add_argument("--old-protocol", action="store_true", help="behave like Antidote 0.2.0")
    parser.add_argument("--base-port", type=int, default=0,
                        help="node i gets PB port base+2i and metrics port base+2i+1 (0: free ports)")
    parser.add_argument("--max-lifetime", type=float, default=3600.0, help="stop after this many seconds (0: never)")
    parser.add_argument("--control-stdin", action="store_true", help="read commands from stdin; EOF stops")
    return parser.parse_args(argv)


def _control(standin, line):
    words = line.split()
    commands = {
        "set-ip": standin.set_node_ip,
        "restart": lambda node, seconds: standin.restart_node(node, float(seconds)),
        "block": lambda dc: standin.block_dc(dc, True),
        "unblock": lambda dc: standin.block_dc(dc, False),
    }
    if not words or words[0] not in commands:
        return "error: unknown command {0!r} (set-ip, restart, block, unblock, stop)".format(line.strip())
    try:
        commands[words[0]](*words[1:])
    except (KeyError, TypeError, ValueError) as error:
        return "error: {0!r}: {1!r}".format(line.strip(), error)
    return "ok"


def _read_stdin(standin, stop):
    for line in sys.stdin:
        if line.strip() == "stop":
            break
        if line.strip():
            print(_control(standin, line), flush=True)
    stop.set()


def main(argv=None):
    args = _parse_args(argv)
    total = args.dcs * args.nodes
    ports = [(args.base_port + 2 * i, args.base_port + 2 * i + 1) for i in range(total)] if args.base_port else None
    standin = AntidoteStandin(dcs=args.dcs, nodes=args.nodes, ring_size=args.ring_size,
                              startup_seconds=args.startup_seconds, latency_seconds=args.latency_ms / 1000.0,
                              rebalance_seconds=args.rebalance_seconds,
                              metrics_refresh_seconds=args.metrics_refresh_seconds,
                              old_protocol=args.old_protocol, ports=ports)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    standin.start()
    try:
        print(json.dumps(standin.describe()), flush=True)
        if args.control_stdin:
            threading.Thread(target=_read_stdin, args=(standin, stop), daemon=True).start()
        stop.wait(args.max_lifetime or None)
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
