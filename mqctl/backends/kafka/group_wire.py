"""A hand-written decoder for the one large response of ``lag``: OffsetFetch v8.

aiokafka decodes a response field by field through generic type objects (a method call and a
``BytesIO.read`` per integer). An OffsetFetch answer for 200 groups x 50 partitions holds
10,000 partition entries of six fields each: profiled, that generic decoding was the largest
single cost of ``mqctl lag --all-groups`` after start-up (docs/benchmarks.md). This decoder
walks the same bytes with ``struct.unpack_from`` on one buffer and returns exactly what the
generic one returns (the same tuples and lists, checked by tests/test_kafka_group_wire.py),
so callers do not change.
"""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

from mqctl.backends.kafka.wire_reader import WireReader

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_PARTITION = struct.Struct(">iqi")  # partition_index, committed_offset, committed_leader_epoch


class _Reader(WireReader):
    """The flexible encoding's reads (unsigned varints, compact strings, tagged fields) on
    top of the shared bounds-checked reader."""

    __slots__ = ()

    def uvarint(self) -> int:
        buf, pos = self.buf, self.pos
        value = shift = 0
        while True:
            if pos >= len(buf):
                raise ValueError("Buffer underrun decoding an unsigned varint")
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 28:
                raise ValueError(f"Invalid value {value}")
        self.pos = pos
        return value

    def compact_string(self) -> str | None:
        length = self.uvarint() - 1
        if length < 0:
            return None
        return self.take(length).decode("utf-8")

    def tags(self) -> dict[int, bytes]:
        count = self.uvarint()
        found: dict[int, bytes] = {}
        previous = -1
        for _ in range(count):
            tag = self.uvarint()
            if tag <= previous:
                raise ValueError(f"Invalid or out-of-order tag {tag}")
            previous = tag
            found[tag] = self.take(self.uvarint())
        return found

    def int16(self) -> int:
        (value,) = _INT16.unpack_from(self.take(2))
        return int(value)

    def int32(self) -> int:
        (value,) = _INT32.unpack_from(self.take(4))
        return int(value)


def _partitions(r: _Reader) -> list[tuple[Any, ...]] | None:
    count = r.uvarint() - 1
    if count < 0:
        return None
    found = []
    buf, pos = r.buf, r.pos
    unpack, int16 = _PARTITION.unpack_from, _INT16.unpack_from
    for _ in range(count):
        partition, offset, epoch = unpack(buf, pos)
        pos += 16
        # The usual entry: a short metadata string and no tagged fields, read inline; any
        # other shape goes through the general reader.
        length = buf[pos] - 1
        if 0 <= length < 127:
            metadata: str | None = buf[pos + 1 : pos + 1 + length].decode("utf-8")
            pos += 1 + length
        else:
            r.pos = pos
            metadata = r.compact_string()
            pos = r.pos
        (error,) = int16(buf, pos)
        pos += 2
        if buf[pos] == 0:
            tags: dict[int, bytes] = {}
            pos += 1
        else:
            r.pos = pos
            tags = r.tags()
            pos = r.pos
        found.append((partition, offset, epoch, metadata, error, tags))
    r.pos = pos
    return found


def _topics(r: _Reader) -> list[tuple[Any, ...]] | None:
    count = r.uvarint() - 1
    if count < 0:
        return None
    return [(r.compact_string(), _partitions(r), r.tags()) for _ in range(count)]


def _groups(r: _Reader) -> list[tuple[Any, ...]] | None:
    count = r.uvarint() - 1
    if count < 0:
        return None
    return [(r.compact_string(), _topics(r), r.int16(), r.tags()) for _ in range(count)]


def decode_offset_fetch_v8(data: BytesIO | bytes) -> tuple[int, list[Any] | None, dict[int, bytes]]:
    """The fields of an OffsetFetch v8 response body: ``(throttle_time_ms, groups, tags)``,
    shaped as aiokafka's generic decoder shapes them; a cut or malformed body raises
    ValueError."""
    buf = data if isinstance(data, bytes) else data.read()
    r = _Reader(buf)
    try:
        throttle = r.int32()
        groups = _groups(r)
        return throttle, groups, r.tags()
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed OffsetFetch response: {exc}") from None
