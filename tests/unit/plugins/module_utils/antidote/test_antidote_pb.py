# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wire codec and client of antidote_pb: golden bytes, framing, failures, old protocol."""
import socket
import threading
import zlib

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.pb import (
    AntidoteClient,
    AntidoteErrorResponse,
    AntidoteRequestFailed,
    AntidoteTimeout,
    AntidoteUnreachable,
    ConnectionClosed,
    MalformedMessage,
    MetricsError,
    OldProtocolError,
    UnexpectedMessageCode,
    dc_count,
    decode_frame,
    decode_message,
    decode_term,
    encode_frame,
    encode_message,
    encode_request,
    fetch_metrics,
    parse_descriptor,
    parse_metrics,
)
from tests.standins.antidote_standin import AntidoteStandin

H = bytes.fromhex

# (message, fields, payload) — bytes written down by hand from the proto2 encoding rules;
# ApbCreateDCResp(success=False, errorcode=3) = 08 00 10 03 was checked against the official pb2.
GOLDEN_MESSAGES = [
    ("ApbCreateDC", {"nodes": ["antidote@a", "antidote@b"]},
     H("0a0a") + b"antidote@a" + H("0a0a") + b"antidote@b"),
    ("ApbCreateDC", {"nodes": []}, b""),
    ("ApbCreateDCResp", {"success": True, "errorcode": None}, H("0801")),
    ("ApbCreateDCResp", {"success": False, "errorcode": 3}, H("08001003")),
    ("ApbGetConnectionDescriptor", {}, b""),
    ("ApbGetConnectionDescriptorResp", {"success": True, "descriptor": H("836a"), "errorcode": None},
     H("0801 1202 836a")),
    ("ApbGetConnectionDescriptorResp", {"success": False, "descriptor": None, "errorcode": 3}, H("08001803")),
    ("ApbConnectToDCs", {"descriptors": [b"ab", b"c"]}, H("0a02 6162 0a01 63")),
    ("ApbConnectToDCsResp", {"success": True, "errorcode": None}, H("0801")),
    ("ApbConnectToDCsResp", {"success": False, "errorcode": 300}, H("0800 10ac02")),
    ("ApbErrorResp", {"errmsg": b"boom", "errcode": 0}, H("0a04 626f6f6d 1000")),
    ("ApbOperationResp", {"success": False, "errorcode": 3}, H("08001003")),
    ("ApbStartTransaction", {"timestamp": None}, b""),
    ("ApbStartTransactionResp", {"success": True, "transaction_descriptor": b"tx", "errorcode": None},
     H("0801 1202 7478")),
    ("ApbAbortTransaction", {"transaction_descriptor": b"tx"}, H("0a02 7478")),
]


@pytest.mark.parametrize("name,fields,payload", GOLDEN_MESSAGES)
def test_message_encodes_to_golden_bytes(name, fields, payload):
    assert encode_message(name, **fields) == payload


@pytest.mark.parametrize("name,fields,payload", GOLDEN_MESSAGES)
def test_golden_bytes_decode_to_message(name, fields, payload):
    decoded = decode_message(name, payload)
    expected = dict(fields)
    for key in ("nodes", "descriptors"):
        if key in decoded:
            expected.setdefault(key, [])
    assert decoded == expected


def test_long_field_gets_two_byte_length():
    name = "antidote@" + "n" * 191  # 200 bytes
    assert encode_message("ApbCreateDC", nodes=[name]) == H("0ac801") + name.encode()


@pytest.mark.parametrize("name", ["ApbCreateDCResp", "ApbConnectToDCsResp"])
def test_errorcode_in_field_3_is_accepted(name):
    # one revision of antidote.proto numbered errorcode 3 in these two responses
    assert decode_message(name, H("08001803")) == {"success": False, "errorcode": 3}


def test_unknown_fields_are_skipped():
    payload = H("0801") + H("2201") + b"x" + H("2d01020304") + H("3009")
    assert decode_message("ApbCreateDCResp", payload) == {"success": True, "errorcode": None}


@pytest.mark.parametrize("name,payload,fragment", [
    ("ApbConnectToDCsResp", H("0801 1202 836a"), "wire type 2"),
    ("ApbCreateDCResp", b"", "success"),
    ("ApbCreateDCResp", H("08"), "truncated varint"),
    ("ApbGetConnectionDescriptorResp", H("0801 1205 6162"), "declares 5 bytes"),
    ("ApbCreateDC", H("0a02 ff fe"), "UTF-8"),
    ("ApbCreateDCResp", H("0801 0b"), "wire type 3"),
])
def test_malformed_payloads_raise(name, payload, fragment):
    with pytest.raises(MalformedMessage, match=fragment):
        decode_message(name, payload)


def test_encoding_rejects_missing_required_and_unknown_fields():
    with pytest.raises(ValueError, match="required"):
        encode_message("ApbAbortTransaction")
    with pytest.raises(ValueError, match="no field"):
        encode_message("ApbCreateDC", node=["a@b"])


@pytest.mark.parametrize("request_name,fields,frame", [
    ("ApbGetConnectionDescriptor", {}, H("00000001 85")),
    ("ApbCreateDC", {"nodes": ["antidote@a"]}, H("0000000d 81 0a0a") + b"antidote@a"),
    ("ApbConnectToDCs", {"descriptors": [b"ab"]}, H("00000005 83 0a02 6162")),
    ("ApbStartTransaction", {}, H("00000001 77")),
    ("ApbAbortTransaction", {"transaction_descriptor": b"tx"}, H("00000005 78 0a02 7478")),
])
def test_requests_frame_with_length_and_code(request_name, fields, frame):
    assert encode_request(request_name, **fields) == frame


def test_frames_round_trip_and_reject_wrong_lengths():
    assert encode_frame(134, H("0801")) == H("00000003 86 0801")
    assert decode_frame(H("00000003 86 0801")) == (134, H("0801"))
    with pytest.raises(MalformedMessage):
        decode_frame(H("00000004 86 0801"))
    with pytest.raises(MalformedMessage):
        decode_frame(H("000000"))


# --- Erlang terms in connection descriptors

ADDRESS_8086 = H("6c00000001 6802 6804 610a 6100 6100 6101 6200001f96 6a")  # [{{10,0,0,1},8086}]
ADDRESS_8085 = H("6c00000001 6802 6804 610a 6100 6100 6101 6200001f95 6a")
GOLDEN_DESCRIPTOR = (
    H("83 6805 6400 0a") + b"descriptor"
    + H("6802 770a") + b"antidote@a" + H("6803 6101 6200003039 6107")  # {'antidote@a',{1,12345,7}}
    + H("6110")  # 16 partitions
    + H("6c00000001") + ADDRESS_8086 + H("6a")
    + H("6c00000001") + ADDRESS_8085 + H("6a")
)


def test_descriptor_golden_bytes_decode():
    descriptor = parse_descriptor(GOLDEN_DESCRIPTOR)
    assert descriptor.dc_id == "{antidote@a,{1,12345,7}}"
    assert descriptor.founder == "antidote@a"
    assert descriptor.partitions == 16
    assert descriptor.publishers == [["10.0.0.1:8086"]]
    assert descriptor.logreaders == [["10.0.0.1:8085"]]


def test_compressed_descriptor_decodes_like_the_plain_one():
    inner = GOLDEN_DESCRIPTOR[1:]
    compressed = H("83 50") + len(inner).to_bytes(4, "big") + zlib.compress(inner)
    assert parse_descriptor(compressed) == parse_descriptor(GOLDEN_DESCRIPTOR)


def test_other_term_types_decode():
    assert decode_term(H("83 6b0003 010203")) == [1, 2, 3]  # STRING_EXT
    assert decode_term(H("83 6e05 01 0000000001")) == -(2 ** 32)  # SMALL_BIG_EXT
    assert decode_term(H("83 6d00000002 6869")) == b"hi"
    assert decode_term(H("83 62ffffffff")) == -1
    assert decode_term(H("83 7303 6f6b21")) == "ok!"


@pytest.mark.parametrize("data,fragment", [
    (H("84 6a"), "not an Erlang external term"),
    (H("83 6a 6a"), "trailing"),
    (H("83 6805 6400"), "truncated"),
    (H("83 6700"), "unsupported Erlang term tag"),
    (H("83 6803 6400 0a") + b"descriptor" + H("6110 6a"), "not a #descriptor"),
])
def test_bad_terms_raise(data, fragment):
    with pytest.raises(MalformedMessage, match=fragment):
        parse_descriptor(data)


# --- Prometheus text

METRICS_PAGE = """\
# HELP antidote_dc_count Number of known DCs including self
# TYPE antidote_dc_count gauge
antidote_dc_count 3
antidote_ring_node_state{node="antidote@a-0.a",note="q\\"u,o}te"} 0
antidote_staleness_bucket{le="+Inf"} 5
antidote_staleness_sum +Inf
antidote_open_transactions 1.5e1 1700000000000
"""


def test_metrics_page_parses():
    metrics = parse_metrics(METRICS_PAGE)
    assert dc_count(metrics) == 3
    assert metrics["antidote_ring_node_state"][0].labels == {"node": "antidote@a-0.a", "note": 'q"u,o}te'}
    assert metrics["antidote_staleness_bucket"][0] == ({"le": "+Inf"}, 5.0)
    assert metrics["antidote_staleness_sum"][0].value == float("inf")
    assert metrics["antidote_open_transactions"][0].value == 15.0
    assert dc_count(parse_metrics("other_metric 1\n")) is None


@pytest.mark.parametrize("line", ["lonely_metric", 'labels{node="x} 1', "metric one"])
def test_bad_metrics_lines_raise(line):
    with pytest.raises(MalformedMessage):
        parse_metrics(line + "\n")


# --- client against scripted servers


class ScriptedServer:
    """127.0.0.1 listener running `script(conn, server)` for each connection."""

    def __init__(self, script):
        self.script = script
        self.release = threading.Event()
        self.received = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            with conn:
                self.script(conn, self)

    def read_frame(self, conn):
        header = conn.recv(4, socket.MSG_WAITALL)
        body = conn.recv(int.from_bytes(header, "big"), socket.MSG_WAITALL) if len(header) == 4 else b""
        self.received.append(header + body)
        return header + body

    def close(self):
        self.release.set()
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def scripted():
    servers = []

    def make(script):
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def replying(reply, byte_by_byte=False):
    def script(conn, server):
        server.read_frame(conn)
        if byte_by_byte:
            for index in range(len(reply)):
                conn.sendall(reply[index:index + 1])
        else:
            conn.sendall(reply)
    return script


def test_reply_arriving_byte_by_byte_is_read_whole(scripted):
    server = scripted(replying(H("00000003 82 0801"), byte_by_byte=True))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        client.create_dc(["antidote@a"])
    assert server.received == [H("0000000d 81 0a0a") + b"antidote@a"]


def test_short_read_raises_connection_closed(scripted):
    server = scripted(replying(H("0000000a 86 0801")))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(ConnectionClosed) as caught:
            client.connect_to_dcs([b"d"])
    assert caught.value.received == 7
    assert "127.0.0.1:{0}".format(server.port) in str(caught.value)


def test_silent_server_times_out_with_endpoint_and_request(scripted):
    server = scripted(lambda conn, srv: (srv.read_frame(conn), srv.release.wait(10)))
    with AntidoteClient("127.0.0.1", server.port, timeout=0.2) as client:
        with pytest.raises(AntidoteTimeout) as caught:
            client.create_dc(["antidote@a"])
    message = str(caught.value)
    assert "ApbCreateDC" in message and "127.0.0.1:{0}".format(server.port) in message and "0.2 s" in message


def test_error_response_carries_errmsg_and_errcode(scripted):
    server = scripted(replying(encode_frame(0, H("0a04 626f6f6d 1000"))))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(AntidoteErrorResponse) as caught:
            client.get_connection_descriptor()
    assert (caught.value.errmsg, caught.value.errcode) == ("boom", 0)


def test_success_false_raises_retryable_request_failed(scripted):
    server = scripted(replying(encode_frame(130, H("08001003"))))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(AntidoteRequestFailed) as caught:
            client.create_dc(["antidote@a"])
    assert (caught.value.errorcode, caught.value.reason, caught.value.retryable) == (3, "aborted", True)


def test_unexpected_code_is_reported(scripted):
    server = scripted(replying(encode_frame(124, H("0801"))))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(UnexpectedMessageCode) as caught:
            client.get_connection_descriptor()
    assert (caught.value.received, caught.value.expected) == (124, (134,))


def test_absurd_frame_length_is_malformed(scripted):
    server = scripted(replying(H("7fffffff 86")))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(MalformedMessage, match="frame length"):
            client.get_connection_descriptor()


def test_server_that_closes_everything_is_not_mistaken_for_old_antidote(scripted):
    server = scripted(lambda conn, srv: srv.read_frame(conn))
    with AntidoteClient("127.0.0.1", server.port, timeout=5) as client:
        with pytest.raises(ConnectionClosed) as caught:
            client.get_connection_descriptor()
    assert caught.value.received == 0
    assert server.received[1][4] == 119  # it probed with ApbStartTransaction


def test_closed_port_is_unreachable():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(AntidoteUnreachable, match="127.0.0.1:{0}".format(port)):
        AntidoteClient("127.0.0.1", port, timeout=2).get_connection_descriptor()


# --- against the stand-in


@pytest.fixture
def old_antidote():
    with AntidoteStandin(dcs=1, nodes=2, old_protocol=True) as standin:
        yield standin


@pytest.mark.parametrize("call", [
    lambda client: client.create_dc(["antidote@x"]),
    lambda client: client.get_connection_descriptor(),
    lambda client: client.connect_to_dcs([b"\x83j"]),
])
def test_antidote_0_2_0_is_detected(old_antidote, call):
    _name, port, _metrics = old_antidote.manager("dc1")
    with AntidoteClient("127.0.0.1", port, timeout=5) as client:
        with pytest.raises(OldProtocolError) as caught:
            call(client)
    assert "0.2.1 or later" in str(caught.value) and "127.0.0.1:{0}".format(port) in str(caught.value)


def test_standin_descriptor_round_trips_and_abort_of_garbage_is_an_error_response():
    with AntidoteStandin(dcs=1, nodes=1) as standin:
        name, port, metrics_port = standin.manager("dc1")
        with AntidoteClient("127.0.0.1", port, timeout=5) as client:
            descriptor = parse_descriptor(client.get_connection_descriptor())
            transaction = client.start_transaction()
            client.abort_transaction(transaction)
            with pytest.raises(AntidoteErrorResponse, match="badarg"):
                client.abort_transaction(b"garbage")
        assert descriptor.founder == name and descriptor.publishers == [["10.244.1.2:8086"] * 2]
        assert dc_count(fetch_metrics("127.0.0.1", metrics_port, timeout=5)) == 1
        with pytest.raises(MetricsError, match="404"):
            fetch_metrics("127.0.0.1", metrics_port, timeout=5, path="/nope")


# The shape Antidote 0.2.2 really sends (seen on the real server): LogReaders is one
# {[PartitionIds], [{{A,B,C,D}, Port}, ...]} tuple per member, not an address list.
REAL_LOGREADER = H("6802 6c00000002 6100 6108 6a") + H("6c00000001 6802 6804 610a 6100 6100 6101 6200001f95 6a")
REAL_SHAPE_DESCRIPTOR = (
    H("83 6805 6400 0a") + b"descriptor"
    + H("6802 6400 0a") + b"antidote@a" + H("6803 6101 6200003039 6107")  # ATOM_EXT, as OTP 25 encodes
    + H("6110")
    + H("6c00000001") + ADDRESS_8086 + H("6a")
    + H("6c00000001") + REAL_LOGREADER + H("6a")
)


def test_descriptor_with_the_real_log_reader_shape_decodes():
    descriptor = parse_descriptor(REAL_SHAPE_DESCRIPTOR)
    assert descriptor.founder == "antidote@a"
    assert descriptor.publishers == [["10.0.0.1:8086"]]
    assert descriptor.logreaders == [["10.0.0.1:8085"]]
    assert descriptor.partitions_per_member == [2]


def test_a_log_reader_entry_of_another_shape_is_refused():
    broken = REAL_SHAPE_DESCRIPTOR[:-len(REAL_LOGREADER) - 6] + H("6c00000001 6101 6a 6a")
    with pytest.raises(MalformedMessage):
        parse_descriptor(broken)


def test_register_messages_golden_bytes():
    bound = encode_message("ApbBoundObject", key=b"k", type=5, bucket=b"b")
    assert bound == H("0a016b 1005 1a0162")
    update = encode_message("ApbUpdateOp", boundobject=bound,
                            operation=encode_message("ApbUpdateOperation",
                                                     regop=encode_message("ApbRegUpdate", value=b"v")))
    assert encode_message("ApbStaticUpdateObjects", transaction=b"", updates=[update]) == (
        H("0a00 12") + bytes([len(update)]) + update)


def test_a_member_that_is_down_is_listed_not_refused():
    """Seen on the real server: a killed member's entries read {badrpc,nodedown}."""
    badrpc = H("6802 6400 06") + b"badrpc" + H("6400 08") + b"nodedown"
    descriptor = parse_descriptor(REAL_SHAPE_DESCRIPTOR[:-len(REAL_LOGREADER) - 6]
                                  + H("6c00000002") + REAL_LOGREADER + badrpc + H("6a"))
    assert descriptor.down == ["{badrpc,nodedown}"]
    assert descriptor.logreaders == [["10.0.0.1:8085"], ["{badrpc,nodedown}"]]
