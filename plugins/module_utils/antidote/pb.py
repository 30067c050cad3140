# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AntidoteDB protocol-buffer client for the cluster-management API.

Wire format (antidote_pb_protocol uses ``{packet, 4}``), the same in both directions::

    4-byte big-endian length N (N = 1 + len(payload)) | 1-byte message code | protobuf payload

The protobuf encoding is written by hand instead of using the ``protobuf`` package: the
cluster API is a handful of flat proto2 messages (varints and length-delimited fields only),
so a table of fields is all it takes; users, AWX execution environments and managed nodes need
no extra dependency (and the generated code of the ``antidotedb`` wheel breaks with current
protobuf releases); the golden-byte unit tests pin every message.

This file holds three small codecs and one client:

- protobuf messages and framing (``encode_message``/``decode_message``, ``encode_frame``),
- the Erlang external term format of connection descriptors (``parse_descriptor``): the server
  sends ``term_to_binary(#descriptor{dcid, partition_num, publishers, logreaders})``,
- the Prometheus text page of the metrics port (``parse_metrics``, ``fetch_metrics``),
- ``AntidoteClient``: one TCP connection, read-exactly loops, one deadline per request.

Antidote 0.2.0 (docker tag ``stable``, antidote_pb_codec 0.1.1) numbered the cluster messages
129-132 differently and answered createDC/connectToDCs with an ApbOperationResp. The client
recognises that server and raises ``OldProtocolError``; 0.2.1 and later use codes 129-134.
"""

import http.client
import socket
import struct
import time
import zlib
from collections import namedtuple

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
MAX_FRAME_BYTES = 64 * 1024 * 1024
SUPPORTED_VERSIONS = "Antidote 0.2.1 or later (0.2.2 or later for a repeatable createDC)"

# ---------------------------------------------------------------------------------------------
# Errors


class AntidoteError(DatastoresError):
    """Base class of every error raised by this client and the operations built on it."""


class AntidoteUnreachable(AntidoteError):
    """No TCP connection could be opened."""

    def __init__(self, endpoint, reason):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__("cannot connect to {0}: {1}".format(endpoint, reason))


class AntidoteTimeout(AntidoteError):
    """No complete reply arrived within the request's timeout."""

    def __init__(self, endpoint, request, timeout):
        self.endpoint = endpoint
        self.request = request
        self.timeout = timeout
        super().__init__("no complete reply to {0} from {1} within {2:g} s".format(request, endpoint, timeout))


class ConnectionClosed(AntidoteError):
    """The server closed the connection (or reset it) before a whole reply frame arrived."""

    def __init__(self, endpoint, request, received):
        self.endpoint = endpoint
        self.request = request
        self.received = received
        super().__init__(
            "{0} closed the connection after {1} byte(s) of the reply to {2}".format(endpoint, received, request)
        )


class MalformedMessage(AntidoteError):
    """Bytes that do not decode as the expected protobuf message, frame or Erlang term."""


class UnexpectedMessageCode(AntidoteError):
    """The reply carried a message code that does not answer the request."""

    def __init__(self, endpoint, request, expected, received):
        self.endpoint = endpoint
        self.request = request
        self.expected = expected
        self.received = received
        super().__init__(
            "{0} answered {1} with message code {2} ({3}), expected {4}".format(
                endpoint, request, received, MESSAGE_NAMES.get(received, "unknown"), _name_code(expected)
            )
        )


class AntidoteErrorResponse(AntidoteError):
    """The server answered with ApbErrorResp (code 0): an exception while processing."""

    def __init__(self, endpoint, request, errmsg, errcode):
        self.endpoint = endpoint
        self.request = request
        self.errmsg = errmsg
        self.errcode = errcode
        super().__init__(
            "{0} answered {1} with ApbErrorResp errcode {2} ({3}): {4}".format(
                endpoint, request, errcode, ERROR_CODE_NAMES.get(errcode, "?"), errmsg
            )
        )


class AntidoteRequestFailed(AntidoteError):
    """The server answered ``success=false``; ``errorcode`` 3 (aborted) covers every cause."""

    def __init__(self, endpoint, request, errorcode):
        self.endpoint = endpoint
        self.request = request
        self.errorcode = errorcode
        self.reason = ERROR_CODE_NAMES.get(errorcode, "unknown")
        super().__init__(
            "{0} answered {1} with success=false, errorcode {2} ({3})".format(endpoint, request, errorcode, self.reason)
        )

    @property
    def retryable(self):
        return self.errorcode in (ERROR_TIMEOUT, ERROR_ABORTED)


class OldProtocolError(AntidoteError):
    """The server speaks the Antidote 0.2.0 numbering of the cluster messages."""

    def __init__(self, endpoint, evidence):
        self.endpoint = endpoint
        self.evidence = evidence
        super().__init__(
            "{0} speaks the Antidote 0.2.0 protocol (antidote_pb_codec 0.1.1, cluster messages 129-132): {1}. "
            "The cluster-management API needs {2}; the docker tag 'stable' is 0.2.0, use "
            "antidotedb/antidote:0.2.2 or newer".format(endpoint, evidence, SUPPORTED_VERSIONS)
        )


class MetricsError(AntidoteError):
    """The metrics page could not be read."""


# ---------------------------------------------------------------------------------------------
# Message codes (antidote_pb_codec 0.1.2 and later)

ERROR_RESP = 0
OPERATION_RESP = 111
START_TRANSACTION = 119
ABORT_TRANSACTION = 120
START_TRANSACTION_RESP = 124
CREATE_DC = 129
CREATE_DC_RESP = 130
CONNECT_TO_DCS = 131
CONNECT_TO_DCS_RESP = 132
GET_CONNECTION_DESCRIPTOR = 133
GET_CONNECTION_DESCRIPTOR_RESP = 134
STATIC_UPDATE_OBJECTS = 122
STATIC_READ_OBJECTS = 123
COMMIT_RESP = 127
STATIC_READ_OBJECTS_RESP = 128

MESSAGE_NAMES = {
    ERROR_RESP: "ApbErrorResp",
    OPERATION_RESP: "ApbOperationResp",
    START_TRANSACTION: "ApbStartTransaction",
    ABORT_TRANSACTION: "ApbAbortTransaction",
    START_TRANSACTION_RESP: "ApbStartTransactionResp",
    CREATE_DC: "ApbCreateDC",
    CREATE_DC_RESP: "ApbCreateDCResp",
    CONNECT_TO_DCS: "ApbConnectToDCs",
    CONNECT_TO_DCS_RESP: "ApbConnectToDCsResp",
    GET_CONNECTION_DESCRIPTOR: "ApbGetConnectionDescriptor",
    GET_CONNECTION_DESCRIPTOR_RESP: "ApbGetConnectionDescriptorResp",
    STATIC_UPDATE_OBJECTS: "ApbStaticUpdateObjects",
    STATIC_READ_OBJECTS: "ApbStaticReadObjects",
    COMMIT_RESP: "ApbCommitResp",
    STATIC_READ_OBJECTS_RESP: "ApbStaticReadObjectsResp",
}
MESSAGE_CODES = dict((name, code) for code, name in MESSAGE_NAMES.items())

ERROR_UNKNOWN = 0
ERROR_TIMEOUT = 1
ERROR_NO_PERMISSIONS = 2
ERROR_ABORTED = 3
ERROR_CODE_NAMES = {ERROR_UNKNOWN: "unknown", ERROR_TIMEOUT: "timeout", ERROR_NO_PERMISSIONS: "no_permissions",
                    ERROR_ABORTED: "aborted"}


def _name_code(codes):
    return " or ".join("{0} ({1})".format(code, MESSAGE_NAMES.get(code, "?")) for code in codes)


# ---------------------------------------------------------------------------------------------
# Protobuf messages

Field = namedtuple("Field", "number name kind label")

BOOL, UINT32, BYTES, STRING = "bool", "uint32", "bytes", "string"
REQUIRED, OPTIONAL, REPEATED = "required", "optional", "repeated"
ALIAS = "alias"  # decoded into `name` when present, never encoded

_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LENGTH, _WIRE_FIXED32 = 0, 1, 2, 5
_WIRE_TYPE = {BOOL: _WIRE_VARINT, UINT32: _WIRE_VARINT, BYTES: _WIRE_LENGTH, STRING: _WIRE_LENGTH}

_SUCCESS = Field(1, "success", BOOL, REQUIRED)
# One revision of antidote.proto numbered errorcode 3 in these two responses; accept both.
_ERRORCODE_2_OR_3 = (Field(2, "errorcode", UINT32, OPTIONAL), Field(3, "errorcode", UINT32, ALIAS))

MESSAGES = {
    "ApbErrorResp": (Field(1, "errmsg", BYTES, REQUIRED), Field(2, "errcode", UINT32, REQUIRED)),
    "ApbOperationResp": (_SUCCESS, Field(2, "errorcode", UINT32, OPTIONAL)),
    "ApbStartTransaction": (Field(1, "timestamp", BYTES, OPTIONAL),),
    "ApbStartTransactionResp": (
        _SUCCESS, Field(2, "transaction_descriptor", BYTES, OPTIONAL), Field(3, "errorcode", UINT32, OPTIONAL)),
    "ApbAbortTransaction": (Field(1, "transaction_descriptor", BYTES, REQUIRED),),
    "ApbCreateDC": (Field(1, "nodes", STRING, REPEATED),),
    "ApbCreateDCResp": (_SUCCESS,) + _ERRORCODE_2_OR_3,
    "ApbGetConnectionDescriptor": (),
    "ApbGetConnectionDescriptorResp": (
        _SUCCESS, Field(2, "descriptor", BYTES, OPTIONAL), Field(3, "errorcode", UINT32, OPTIONAL)),
    "ApbConnectToDCs": (Field(1, "descriptors", BYTES, REPEATED),),
    "ApbConnectToDCsResp": (_SUCCESS,) + _ERRORCODE_2_OR_3,
    # Static transactions on one last-writer-wins register: the replication probe. Embedded messages
    # are BYTES fields holding the encoded sub-message; only the fields the probe uses are listed.
    "ApbBoundObject": (Field(1, "key", BYTES, REQUIRED), Field(2, "type", UINT32, REQUIRED),
                       Field(3, "bucket", BYTES, REQUIRED)),
    "ApbRegUpdate": (Field(1, "value", BYTES, REQUIRED),),
    "ApbUpdateOperation": (Field(3, "regop", BYTES, OPTIONAL),),
    "ApbUpdateOp": (Field(1, "boundobject", BYTES, REQUIRED), Field(2, "operation", BYTES, REQUIRED)),
    "ApbStaticUpdateObjects": (Field(1, "transaction", BYTES, REQUIRED), Field(2, "updates", BYTES, REPEATED)),
    "ApbStaticReadObjects": (Field(1, "transaction", BYTES, REQUIRED), Field(2, "objects", BYTES, REPEATED)),
    "ApbCommitResp": (_SUCCESS, Field(2, "commit_time", BYTES, OPTIONAL), Field(3, "errorcode", UINT32, OPTIONAL)),
    "ApbStaticReadObjectsResp": (Field(1, "objects", BYTES, REQUIRED), Field(2, "committime", BYTES, REQUIRED)),
    "ApbReadObjectsResp": (_SUCCESS, Field(2, "objects", BYTES, REPEATED), Field(3, "errorcode", UINT32, OPTIONAL)),
    "ApbReadObjectResp": (Field(3, "reg", BYTES, OPTIONAL),),
    "ApbGetRegResp": (Field(1, "value", BYTES, REQUIRED),),
}

LWWREG = 5  # CRDT_type of a last-writer-wins register


def encode_varint(value):
    if value < 0:
        raise ValueError("negative varint {0}".format(value))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data, pos):
    """Return (value, next position) of the varint at `pos`."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise MalformedMessage("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise MalformedMessage("varint longer than 10 bytes")


def _encode_field(field, value):
    key = encode_varint(field.number << 3 | _WIRE_TYPE[field.kind])
    if field.kind == BOOL:
        return key + encode_varint(1 if value else 0)
    if field.kind == UINT32:
        return key + encode_varint(int(value))
    raw = value.encode("utf-8") if field.kind == STRING else bytes(value)
    return key + encode_varint(len(raw)) + raw


def encode_message(name, **values):
    """Serialise message `name` in field-number order, as protoc and gpb do."""
    fields = MESSAGES[name]
    unknown = set(values) - set(field.name for field in fields)
    if unknown:
        raise ValueError("{0} has no field(s) {1}".format(name, ", ".join(sorted(unknown))))
    out = bytearray()
    for field in fields:
        value = values.get(field.name)
        if field.label == ALIAS:
            continue
        if value is None:
            if field.label == REQUIRED:
                raise ValueError("{0}.{1} is required".format(name, field.name))
            continue
        for item in (value if field.label == REPEATED else [value]):
            out += _encode_field(field, item)
    return bytes(out)


def iter_fields(data):
    """Yield (field number, wire type, value) for every field; value is int or bytes."""
    pos = 0
    while pos < len(data):
        key, pos = decode_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _WIRE_VARINT:
            value, pos = decode_varint(data, pos)
        elif wire_type == _WIRE_LENGTH:
            length, pos = decode_varint(data, pos)
            if pos + length > len(data):
                raise MalformedMessage("field {0} declares {1} bytes, {2} left".format(number, length, len(data) - pos))
            value, pos = bytes(data[pos:pos + length]), pos + length
        elif wire_type in (_WIRE_FIXED64, _WIRE_FIXED32):
            size = 8 if wire_type == _WIRE_FIXED64 else 4
            if pos + size > len(data):
                raise MalformedMessage("truncated fixed-width field {0}".format(number))
            value, pos = bytes(data[pos:pos + size]), pos + size
        else:
            raise MalformedMessage("unsupported wire type {0} (field {1})".format(wire_type, number))
        yield number, wire_type, value


def _decode_value(name, field, value):
    if field.kind == BOOL:
        return bool(value)
    if field.kind == UINT32:
        if value > 0xFFFFFFFF:
            raise MalformedMessage("{0}.{1} = {2} does not fit uint32".format(name, field.name, value))
        return value
    if field.kind == STRING:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage("{0}.{1} is not UTF-8".format(name, field.name)) from None
    return value


def decode_message(name, payload):
    """Decode message `name` into a dict with every field (None or [] when absent).

    Unknown fields are skipped, as protobuf does; a known field with the wrong wire type or a
    missing required field raises MalformedMessage.
    """
    fields = MESSAGES[name]
    by_number = dict((field.number, field) for field in fields)
    result = dict((field.name, [] if field.label == REPEATED else None) for field in fields)
    for number, wire_type, value in iter_fields(payload):
        field = by_number.get(number)
        if field is None:
            continue
        if wire_type != _WIRE_TYPE[field.kind]:
            raise MalformedMessage("{0}: field {1} ({2}) has wire type {3}, expected {4}".format(
                name, number, field.name, wire_type, _WIRE_TYPE[field.kind]))
        decoded = _decode_value(name, field, value)
        if field.label == REPEATED:
            result[field.name].append(decoded)
        else:
            result[field.name] = decoded
    for field in fields:
        if field.label == REQUIRED and result[field.name] is None:
            raise MalformedMessage("{0}: required field {1} ({2}) is missing".format(name, field.number, field.name))
    return result


# ---------------------------------------------------------------------------------------------
# Framing


def encode_frame(code, payload=b""):
    return struct.pack(">IB", len(payload) + 1, code) + payload


def decode_frame(data):
    """Split one complete frame into (code, payload)."""
    if len(data) < 5:
        raise MalformedMessage("a frame needs at least 5 bytes, got {0}".format(len(data)))
    length, code = struct.unpack(">IB", data[:5])
    if length != len(data) - 4:
        raise MalformedMessage("frame declares {0} bytes after the length, has {1}".format(length, len(data) - 4))
    return code, bytes(data[5:])


def encode_request(name, **values):
    return encode_frame(MESSAGE_CODES[name], encode_message(name, **values))


# ---------------------------------------------------------------------------------------------
# Erlang external term format (connection descriptors)


class Atom(str):
    """An Erlang atom, kept apart from strings for formatting."""


_ETF_VERSION = 131
_ETF_COMPRESSED = 80


def decode_term(data):
    """Decode `term_to_binary` output: atoms, integers, floats, tuples, lists, binaries."""
    data = bytes(data)
    if not data or data[0] != _ETF_VERSION:
        raise MalformedMessage("not an Erlang external term (first byte {0!r})".format(data[:1]))
    if len(data) > 1 and data[1] == _ETF_COMPRESSED:
        if len(data) < 6:
            raise MalformedMessage("truncated compressed term")
        try:
            data = b"\x83" + zlib.decompress(data[6:])
        except zlib.error as exc:
            raise MalformedMessage("compressed term: {0}".format(exc)) from None
    try:
        term, pos = _decode_term(data, 1)
    except (IndexError, struct.error):
        raise MalformedMessage("truncated Erlang term") from None
    if pos != len(data):
        raise MalformedMessage("{0} trailing byte(s) after the Erlang term".format(len(data) - pos))
    return term


def _decode_sequence(data, pos, count):
    items = []
    for _index in range(count):
        item, pos = _decode_term(data, pos)
        items.append(item)
    return items, pos


def _decode_term(data, pos):
    tag = data[pos]
    pos += 1
    if tag == 97:  # SMALL_INTEGER_EXT
        return data[pos], pos + 1
    if tag == 98:  # INTEGER_EXT
        return struct.unpack(">i", data[pos:pos + 4])[0], pos + 4
    if tag in (100, 118):  # ATOM_EXT, ATOM_UTF8_EXT
        size = struct.unpack(">H", data[pos:pos + 2])[0]
        return _atom(data, pos + 2, size)
    if tag in (115, 119):  # SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
        return _atom(data, pos + 1, data[pos])
    if tag in (104, 105):  # SMALL_TUPLE_EXT, LARGE_TUPLE_EXT
        count, pos = (data[pos], pos + 1) if tag == 104 else (struct.unpack(">I", data[pos:pos + 4])[0], pos + 4)
        items, pos = _decode_sequence(data, pos, count)
        return tuple(items), pos
    if tag == 106:  # NIL_EXT
        return [], pos
    if tag == 107:  # STRING_EXT: a list of bytes
        size = struct.unpack(">H", data[pos:pos + 2])[0]
        return list(data[pos + 2:pos + 2 + size]), pos + 2 + size
    if tag == 108:  # LIST_EXT
        count = struct.unpack(">I", data[pos:pos + 4])[0]
        items, pos = _decode_sequence(data, pos + 4, count)
        tail, pos = _decode_term(data, pos)
        if tail != []:
            raise MalformedMessage("improper lists are not supported")
        return items, pos
    if tag == 109:  # BINARY_EXT
        size = struct.unpack(">I", data[pos:pos + 4])[0]
        return data[pos + 4:pos + 4 + size], pos + 4 + size
    if tag in (110, 111):  # SMALL_BIG_EXT, LARGE_BIG_EXT
        size, pos = (data[pos], pos + 1) if tag == 110 else (struct.unpack(">I", data[pos:pos + 4])[0], pos + 4)
        sign, digits = data[pos], data[pos + 1:pos + 1 + size]
        value = int.from_bytes(digits, "little")
        return (-value if sign else value), pos + 1 + size
    if tag == 70:  # NEW_FLOAT_EXT
        return struct.unpack(">d", data[pos:pos + 8])[0], pos + 8
    raise MalformedMessage("unsupported Erlang term tag {0}".format(tag))


def _atom(data, pos, size):
    raw = data[pos:pos + size]
    if len(raw) != size:
        raise MalformedMessage("truncated atom")
    return Atom(raw.decode("utf-8", "replace")), pos + size


def format_term(term):
    """Erlang-like text of a decoded term, e.g. {'antidote@a-0.a',{1700,1,2}}."""
    if isinstance(term, Atom):
        simple = term[:1].islower() and all(c.isalnum() or c in "_@" for c in term)
        return str(term) if simple else "'" + term.replace("'", "\\'") + "'"
    if isinstance(term, tuple):
        return "{" + ",".join(format_term(item) for item in term) + "}"
    if isinstance(term, list):
        return "[" + ",".join(format_term(item) for item in term) + "]"
    if isinstance(term, bytes):
        return "<<" + repr(term)[1:] + ">>"
    return repr(term)


ConnectionDescriptor = namedtuple("ConnectionDescriptor",
                                  "dc_id founder partitions publishers logreaders partitions_per_member down")
ConnectionDescriptor.__doc__ = """A DC's connection descriptor, decoded.

dc_id: the DC id as Erlang text (riak_core cluster name: {FounderNode, Timestamp}).
founder: the node whose ring the DC grew from (the createDC receiver), or None.
partitions: partition count (RING_SIZE); must be equal in every DC.
publishers, logreaders: one list of "ip:port" strings per DC member. Antidote sends Publishers as
one address list per member and LogReaders as one {[PartitionIds], [Address]} tuple per member.
partitions_per_member: how many partitions each member's log reader serves (None where the
descriptor gives a bare address list).
down: entries Antidote could not ask their member for ({badrpc,nodedown} when a member is down),
as Erlang text; a DC with such entries is not whole.

Antidote computes the addresses afresh on every request: the IP its node name's host resolves to,
then every interface address except 127.0.0.1. They can change without a restart; the DC id cannot.
"""


def _format_address(term):
    if isinstance(term, tuple) and len(term) == 2 and isinstance(term[0], tuple) and isinstance(term[1], int):
        ip = term[0]
        if len(ip) == 4 and all(isinstance(part, int) for part in ip):
            return "{0}:{1}".format(".".join(str(part) for part in ip), term[1])
        if len(ip) == 8 and all(isinstance(part, int) for part in ip):
            return "[{0}]:{1}".format(":".join("{0:x}".format(part) for part in ip), term[1])
    return format_term(term)


def _addresses_per_node(term):
    if not isinstance(term, list):
        raise MalformedMessage("descriptor address field is not a list: {0}".format(format_term(term)))
    return [[_format_address(a) for a in node] if isinstance(node, list) else [format_term(node)] for node in term]


def _is_badrpc(term):
    """{badrpc, Reason}: what Antidote puts in a descriptor for a member it cannot ask (a node that is down)."""
    return isinstance(term, tuple) and len(term) == 2 and term[0] == Atom("badrpc")


def _log_readers(term):
    """LogReaders: one {[PartitionIds], [Address]} per member; returns (addresses, partition counts)."""
    if not isinstance(term, list):
        raise MalformedMessage("descriptor log reader field is not a list: {0}".format(format_term(term)))
    addresses, counts = [], []
    for node in term:
        if _is_badrpc(node):
            addresses.append([format_term(node)])
            counts.append(None)
        elif isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], list) and isinstance(node[1], list):
            addresses.append([_format_address(a) for a in node[1]])
            counts.append(len(node[0]))
        elif isinstance(node, list):
            addresses.append([_format_address(a) for a in node])
            counts.append(None)
        else:
            raise MalformedMessage("descriptor log reader entry is neither {{Partitions, Addresses}} nor an "
                                   "address list: {0}".format(format_term(node)[:200]))
    return addresses, counts


def parse_descriptor(data):
    """Decode the opaque descriptor bytes of ApbGetConnectionDescriptorResp."""
    term = decode_term(data)
    if not (isinstance(term, tuple) and len(term) == 5 and term[0] == Atom("descriptor")):
        raise MalformedMessage("not a #descriptor{{}} record: {0}".format(format_term(term)[:200]))
    dc_id, partitions = term[1], term[2]
    if not isinstance(partitions, int):
        raise MalformedMessage("descriptor partition_num is not an integer: {0}".format(format_term(partitions)))
    founder = None
    if isinstance(dc_id, tuple) and len(dc_id) == 2 and isinstance(dc_id[0], Atom):
        founder = str(dc_id[0])
    logreaders, partitions_per_member = _log_readers(term[4])
    members = max(len(term[3]), len(term[4])) if isinstance(term[3], list) else len(term[4])
    down = []
    for index in range(members):
        entries = [field[index] for field in (term[3], term[4]) if index < len(field) and _is_badrpc(field[index])]
        if entries:
            down.append(format_term(entries[0]))
    return ConnectionDescriptor(format_term(dc_id), founder, partitions, _addresses_per_node(term[3]),
                                logreaders, partitions_per_member, down)


# ---------------------------------------------------------------------------------------------
# Client


class AntidoteClient:
    """One TCP connection to one Antidote node's protocol-buffer port.

    Every request has one deadline (`timeout`, or the client's default) covering the send and
    the whole reply. After any error the connection is closed; the next request reconnects.
    """

    def __init__(self, host, port, timeout=DEFAULT_TIMEOUT, connect_timeout=DEFAULT_CONNECT_TIMEOUT):
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._sock = None

    @property
    def endpoint(self):
        return "{0}:{1}".format(self.host, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _connection(self, deadline):
        if self._sock is None:
            timeout = max(min(self.connect_timeout, deadline - time.monotonic()), 0.001)
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=timeout)
            except socket.timeout:
                raise AntidoteUnreachable(self.endpoint, "connect timed out after {0:g} s".format(timeout)) from None
            except OSError as exc:
                raise AntidoteUnreachable(self.endpoint, exc.strerror or str(exc)) from None
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._sock

    def _recv_exactly(self, sock, count, deadline, request, received_before):
        buf = bytearray(count)
        view = memoryview(buf)
        got = 0
        while got < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            sock.settimeout(remaining)
            try:
                chunk = sock.recv_into(view[got:])
            except socket.timeout:
                raise
            except OSError:  # reset or aborted by the peer: the same as a close for the caller
                chunk = 0
            if chunk == 0:
                raise ConnectionClosed(self.endpoint, request, received_before + got)
            got += chunk
        return bytes(buf)

    def _exchange(self, code, payload, timeout, request):
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            sock = self._connection(deadline)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                sock.sendall(encode_frame(code, payload))
            except socket.timeout:
                raise
            except OSError:
                raise ConnectionClosed(self.endpoint, request, 0) from None
            header = self._recv_exactly(sock, 4, deadline, request, 0)
            length = struct.unpack(">I", header)[0]
            if length < 1 or length > MAX_FRAME_BYTES:
                raise MalformedMessage("{0} sent a frame length of {1} in reply to {2}".format(
                    self.endpoint, length, request))
            body = self._recv_exactly(sock, length, deadline, request, 4)
        except socket.timeout:
            self.close()
            raise AntidoteTimeout(self.endpoint, request, timeout) from None
        except AntidoteError:
            self.close()
            raise
        return body[0], body[1:]

    def call(self, name, expect, timeout=None, **fields):
        """Send message `name`; return (reply code, reply payload) for a code in `expect`.

        ApbErrorResp raises AntidoteErrorResponse; any other code raises UnexpectedMessageCode.
        """
        code, payload = self._exchange(MESSAGE_CODES[name], encode_message(name, **fields), timeout, name)
        if code == ERROR_RESP:
            error = decode_message("ApbErrorResp", payload)
            raise AntidoteErrorResponse(self.endpoint, name, error["errmsg"].decode("utf-8", "replace"),
                                        error["errcode"])
        if code not in expect:
            self.close()
            raise UnexpectedMessageCode(self.endpoint, name, tuple(expect), code)
        return code, payload

    def _checked(self, request, response_name, payload):
        reply = decode_message(response_name, payload)
        if not reply["success"]:
            raise AntidoteRequestFailed(self.endpoint, request, reply.get("errorcode"))
        return reply

    def create_dc(self, nodes, timeout=None):
        """Join `nodes` ('antidote@host' names) to this node's ring. Blocks until rebalanced."""
        code, payload = self.call("ApbCreateDC", (CREATE_DC_RESP, OPERATION_RESP), timeout, nodes=list(nodes))
        if code == OPERATION_RESP:
            self.close()
            raise OldProtocolError(self.endpoint, "createDC was answered with ApbOperationResp (code 111), "
                                                  "the 0.2.0 reply (the server may have acted on it)")
        self._checked("ApbCreateDC", "ApbCreateDCResp", payload)

    def get_connection_descriptor(self, timeout=None):
        """Return this DC's connection descriptor (opaque bytes, see parse_descriptor)."""
        try:
            _code, payload = self.call("ApbGetConnectionDescriptor", (GET_CONNECTION_DESCRIPTOR_RESP,), timeout)
        except ConnectionClosed as exc:
            if exc.received == 0 and self.speaks_antidote_pb(timeout):
                raise OldProtocolError(self.endpoint, "it closed the connection on message code 133 "
                                                      "(ApbGetConnectionDescriptor) but answers transactions") from exc
            raise
        reply = self._checked("ApbGetConnectionDescriptor", "ApbGetConnectionDescriptorResp", payload)
        if reply["descriptor"] is None:
            raise MalformedMessage("{0} sent a successful ApbGetConnectionDescriptorResp without a descriptor".format(
                self.endpoint))
        return reply["descriptor"]

    def connect_to_dcs(self, descriptors, timeout=None):
        """Subscribe this node's DC to the DCs of `descriptors` (one-way; send to every DC)."""
        _code, payload = self.call("ApbConnectToDCs", (CONNECT_TO_DCS_RESP,), timeout, descriptors=list(descriptors))
        try:
            reply = decode_message("ApbConnectToDCsResp", payload)
        except MalformedMessage:
            if _is_old_descriptor_reply(payload):
                raise OldProtocolError(self.endpoint, "connectToDCs (code 131) was answered with a connection "
                                                      "descriptor, the 0.2.0 meaning of code 131") from None
            raise
        if not reply["success"]:
            raise AntidoteRequestFailed(self.endpoint, "ApbConnectToDCs", reply["errorcode"])

    def start_transaction(self, timeout=None):
        """Start an interactive transaction with default properties; return its descriptor."""
        _code, payload = self.call("ApbStartTransaction", (START_TRANSACTION_RESP,), timeout)
        return self._checked("ApbStartTransaction", "ApbStartTransactionResp", payload)["transaction_descriptor"]

    def abort_transaction(self, transaction, timeout=None):
        _code, payload = self.call("ApbAbortTransaction", (OPERATION_RESP,), timeout,
                                   transaction_descriptor=transaction)
        self._checked("ApbAbortTransaction", "ApbOperationResp", payload)

    def write_register(self, bucket, key, value, timeout=None):
        """Assign `value` (bytes) to the last-writer-wins register `key` in `bucket`, one static transaction."""
        bound = encode_message("ApbBoundObject", key=key, type=LWWREG, bucket=bucket)
        operation = encode_message("ApbUpdateOperation", regop=encode_message("ApbRegUpdate", value=value))
        update = encode_message("ApbUpdateOp", boundobject=bound, operation=operation)
        _code, payload = self.call("ApbStaticUpdateObjects", (COMMIT_RESP,), timeout,
                                   transaction=encode_message("ApbStartTransaction"), updates=[update])
        self._checked("ApbStaticUpdateObjects", "ApbCommitResp", payload)

    def read_register(self, bucket, key, timeout=None):
        """The value of the last-writer-wins register `key` in `bucket` (b"" when never written)."""
        bound = encode_message("ApbBoundObject", key=key, type=LWWREG, bucket=bucket)
        _code, payload = self.call("ApbStaticReadObjects", (STATIC_READ_OBJECTS_RESP,), timeout,
                                   transaction=encode_message("ApbStartTransaction"), objects=[bound])
        reply = decode_message("ApbStaticReadObjectsResp", payload)
        objects = self._checked("ApbStaticReadObjects", "ApbReadObjectsResp", reply["objects"])["objects"]
        if len(objects) != 1:
            raise MalformedMessage("{0} answered a read of one object with {1}".format(self.endpoint, len(objects)))
        register = decode_message("ApbReadObjectResp", objects[0])["reg"]
        return b"" if register is None else decode_message("ApbGetRegResp", register)["value"]

    def speaks_antidote_pb(self, timeout=None):
        """True when the server runs a transaction: it is an Antidote PB port of any version."""
        timeout = min(self.timeout if timeout is None else timeout, DEFAULT_CONNECT_TIMEOUT)
        probe = AntidoteClient(self.host, self.port, timeout=timeout, connect_timeout=self.connect_timeout)
        try:
            with probe:
                probe.abort_transaction(probe.start_transaction())
        except AntidoteError:
            return False
        return True


def _is_old_descriptor_reply(payload):
    try:
        return decode_message("ApbGetConnectionDescriptorResp", payload)["descriptor"] is not None
    except MalformedMessage:
        return False


# ---------------------------------------------------------------------------------------------
# Prometheus metrics page

DC_COUNT_METRIC = "antidote_dc_count"
Sample = namedtuple("Sample", "labels value")


def _parse_labels(text, line):
    labels = {}
    pos = 0
    while pos < len(text):
        eq = text.find("=", pos)
        if eq < 0 or eq + 1 >= len(text) or text[eq + 1] != '"':
            raise MalformedMessage("bad labels in metrics line: {0}".format(line))
        name = text[pos:eq].strip().lstrip(",").strip()
        value, pos = [], eq + 2
        while pos < len(text) and text[pos] != '"':
            if text[pos] == "\\" and pos + 1 < len(text):
                pos += 1
                value.append({"n": "\n"}.get(text[pos], text[pos]))
            else:
                value.append(text[pos])
            pos += 1
        if pos >= len(text):
            raise MalformedMessage("unterminated label value in metrics line: {0}".format(line))
        labels[name] = "".join(value)
        pos += 1
        while pos < len(text) and text[pos] in ", ":
            pos += 1
    return labels


def _split_sample(line):
    if "{" in line:
        name, rest = line.split("{", 1)
        closing = rest.rfind("}")
        if closing < 0:
            raise MalformedMessage("unterminated labels in metrics line: {0}".format(line))
        return name.strip(), _parse_labels(rest[:closing], line), rest[closing + 1:].split()
    parts = line.split()
    return parts[0], {}, parts[1:]


def parse_metrics(text):
    """Parse the Prometheus text format into {metric name: [Sample(labels, value)]}."""
    metrics = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, labels, rest = _split_sample(line)
        if not rest:
            raise MalformedMessage("metrics line without a value: {0}".format(line))
        try:
            value = float(rest[0])
        except ValueError:
            raise MalformedMessage("metrics line with a bad value: {0}".format(line)) from None
        metrics.setdefault(name, []).append(Sample(labels, value))
    return metrics


def fetch_metrics(host, port, timeout=DEFAULT_CONNECT_TIMEOUT, path="/metrics"):
    """GET the metrics page (elli_prometheus on METRICS_PORT, 3001 by default) and parse it."""
    endpoint = "http://{0}:{1}{2}".format(host, port, path)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "text/plain"})
        response = connection.getresponse()
        body = response.read()
    except socket.timeout:
        raise MetricsError("no reply from {0} within {1:g} s".format(endpoint, timeout)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise MetricsError("cannot read {0}: {1}".format(endpoint, exc)) from None
    finally:
        connection.close()
    if response.status != 200:
        raise MetricsError("{0} answered HTTP {1} {2}".format(endpoint, response.status, response.reason))
    return parse_metrics(body.decode("utf-8", "replace"))


def dc_count(metrics):
    """The `antidote_dc_count` gauge ("Number of known DCs including self"), or None if absent."""
    samples = metrics.get(DC_COUNT_METRIC)
    if not samples:
        return None
    return int(samples[0].value)
