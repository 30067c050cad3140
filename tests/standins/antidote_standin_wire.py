# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in's own wire codec: protobuf fields, frames and Erlang terms.

Written separately from plugins/module_utils/antidote/pb.py on purpose: the client and the
stand-in then check each other instead of sharing one mistake.
"""
import struct


class WireError(ValueError):
    """Bytes the real server would crash on (the connection is then closed)."""


def varint(value):
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        value |= (data[pos] & 0x7F) << shift
        shift += 7
        pos += 1
        if data[pos - 1] < 0x80:
            return value, pos


def read_fields(payload):
    """[(field number, wire type, int or bytes)]; only the wire types Antidote's messages use."""
    fields, pos = [], 0
    while pos < len(payload):
        key, pos = _read_varint(payload, pos)
        if key & 7 == 0:
            value, pos = _read_varint(payload, pos)
        elif key & 7 == 2:
            size, pos = _read_varint(payload, pos)
            if pos + size > len(payload):
                raise WireError("truncated length-delimited field")
            value, pos = payload[pos:pos + size], pos + size
        else:
            raise WireError("wire type {0}".format(key & 7))
        fields.append((key >> 3, key & 7, value))
    return fields


def repeated_bytes(payload, number):
    values = []
    for field, wire_type, value in read_fields(payload):
        if field == number:
            if wire_type != 2:
                raise WireError("field {0} is not length-delimited".format(number))
            values.append(bytes(value))
    return values


def varint_field(number, value):
    return varint(number << 3) + varint(int(value))


def bytes_field(number, value):
    return varint(number << 3 | 2) + varint(len(value)) + bytes(value)


def status_reply(success, errorcode_field=2, errorcode=3, extra=b""):
    """success (field 1) then either `extra` fields or the error code."""
    if success:
        return varint_field(1, True) + extra
    return varint_field(1, False) + varint_field(errorcode_field, errorcode)


def frame(code, payload):
    return struct.pack(">I", len(payload) + 1) + bytes([code]) + payload


# --- Erlang external term format: what term_to_binary/binary_to_term produce and accept


class Atom(str):
    pass


def term_to_binary(term):
    return b"\x83" + _encode(term)


def _encode(term):
    if isinstance(term, Atom):
        raw = term.encode("utf-8")
        return b"d" + struct.pack(">H", len(raw)) + raw  # ATOM_EXT, as OTP before 26 writes atoms
    if isinstance(term, bool):
        return _encode(Atom("true" if term else "false"))
    if isinstance(term, int):
        if 0 <= term <= 255:
            return b"a" + bytes([term])
        if -2 ** 31 <= term < 2 ** 31:
            return b"b" + struct.pack(">i", term)
        digits = abs(term).to_bytes((abs(term).bit_length() + 7) // 8, "little")
        return b"n" + bytes([len(digits), 1 if term < 0 else 0]) + digits
    if isinstance(term, tuple):
        return b"h" + bytes([len(term)]) + b"".join(_encode(item) for item in term)
    if isinstance(term, list):
        if not term:
            return b"j"
        if all(isinstance(item, int) and 0 <= item <= 255 for item in term):
            return b"k" + struct.pack(">H", len(term)) + bytes(term)
        return b"l" + struct.pack(">I", len(term)) + b"".join(_encode(item) for item in term) + b"j"
    if isinstance(term, (bytes, bytearray)):
        return b"m" + struct.pack(">I", len(term)) + bytes(term)
    raise TypeError("cannot encode {0!r}".format(term))


def binary_to_term(data):
    data = bytes(data)
    if data[:1] != b"\x83":
        raise WireError("badarg: not an external term")
    try:
        term, pos = _decode(data, 1)
    except (IndexError, struct.error):
        raise WireError("badarg: truncated term") from None
    if pos != len(data):
        raise WireError("badarg: trailing bytes")
    return term


def _decode(data, pos):
    tag, pos = chr(data[pos]), pos + 1
    if tag == "a":
        return data[pos], pos + 1
    if tag == "b":
        return struct.unpack(">i", data[pos:pos + 4])[0], pos + 4
    if tag in "dv":
        (size,) = struct.unpack(">H", data[pos:pos + 2])
        return Atom(data[pos + 2:pos + 2 + size].decode("utf-8")), pos + 2 + size
    if tag in "sw":
        return Atom(data[pos + 1:pos + 1 + data[pos]].decode("utf-8")), pos + 1 + data[pos]
    if tag == "h":
        items, pos = _decode_items(data, pos + 1, data[pos])
        return tuple(items), pos
    if tag == "j":
        return [], pos
    if tag == "k":
        (size,) = struct.unpack(">H", data[pos:pos + 2])
        return list(data[pos + 2:pos + 2 + size]), pos + 2 + size
    if tag == "l":
        (count,) = struct.unpack(">I", data[pos:pos + 4])
        items, pos = _decode_items(data, pos + 4, count)
        if data[pos:pos + 1] != b"j":
            raise WireError("badarg: improper list")
        return items, pos + 1
    if tag == "m":
        (size,) = struct.unpack(">I", data[pos:pos + 4])
        return data[pos + 4:pos + 4 + size], pos + 4 + size
    if tag == "n":
        size, sign = data[pos], data[pos + 1]
        value = int.from_bytes(data[pos + 2:pos + 2 + size], "little")
        return (-value if sign else value), pos + 2 + size
    raise WireError("badarg: tag {0!r}".format(tag))


def _decode_items(data, pos, count):
    items = []
    for _index in range(count):
        item, pos = _decode(data, pos)
        items.append(item)
    return items, pos
