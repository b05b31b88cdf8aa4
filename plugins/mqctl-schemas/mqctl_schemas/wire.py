"""The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the payload.

Protobuf payloads start with the message indexes: which message of the schema's .proto file
(and which nested message) was written, as zigzag varints: a count, then that many indexes.
The common case ``[0]`` (the file's first message) is written as a single 0 byte.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = 0
HEADER_SIZE = 5


class WireFormatError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Framed:
    schema_id: int
    payload: bytes


def is_framed(value: bytes) -> bool:
    """Cheap test for ``--decode auto``: magic byte and room for a schema id."""
    return len(value) >= HEADER_SIZE and value[0] == MAGIC


def unframe(value: bytes) -> Framed:
    if not is_framed(value):
        raise WireFormatError("not in the Confluent wire format (no magic byte 0 + schema id)")
    return Framed(int.from_bytes(value[1:HEADER_SIZE], "big"), value[HEADER_SIZE:])


def frame(schema_id: int, payload: bytes) -> bytes:
    return bytes([MAGIC]) + schema_id.to_bytes(4, "big") + payload


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireFormatError("truncated protobuf message indexes")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireFormatError("invalid varint in protobuf message indexes")


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def read_message_indexes(payload: bytes) -> tuple[list[int], bytes]:
    """(message indexes, the protobuf message bytes after them)."""
    raw, pos = _read_varint(payload, 0)
    count = _zigzag(raw)
    if count == 0:
        return [0], payload[pos:]
    if count < 0 or count > 100:
        raise WireFormatError(f"invalid protobuf message index count {count}")
    indexes = []
    for _ in range(count):
        raw, pos = _read_varint(payload, pos)
        index = _zigzag(raw)
        if index < 0:
            raise WireFormatError(f"invalid protobuf message index {index}")
        indexes.append(index)
    return indexes, payload[pos:]


def _write_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def write_message_indexes(indexes: list[int]) -> bytes:
    """The encoder side (used by tests and by anyone producing framed Protobuf)."""
    if indexes == [0]:
        return b"\x00"
    out = _write_varint((len(indexes) << 1) ^ (len(indexes) >> 63))
    for index in indexes:
        out += _write_varint((index << 1) ^ (index >> 63))
    return out
