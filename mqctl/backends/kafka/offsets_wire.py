# mypy: disallow-subclassing-any=False
"""Hand-written codecs for the two per-partition requests of a large ``lag``: ListOffsets v3
and Fetch v11.

At 10,000 partitions aiokafka's generic codec (a method call and a ``BytesIO`` read or a
``bytes`` join per field) cost about 30 ms to encode and 50 ms to decode these per snapshot,
a sixth of the client's CPU (docs/benchmarks.md, "Lag at scale"). These classes are aiokafka's
own request structs with ``encode``/``decode`` replaced by ``struct`` on one buffer; they
produce and return exactly what the generic codec does (tests/test_kafka_offsets_wire.py), so
callers read the same tuples. Older brokers get aiokafka's generic versions (the Request
classes below negotiate like aiokafka's).
"""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any, Self

from aiokafka.protocol.api import Request
from aiokafka.protocol.fetch import (
    FetchRequest,
    FetchRequest_v4,
    FetchRequest_v5,
    FetchRequest_v6,
    FetchRequest_v7,
    FetchRequest_v8,
    FetchRequest_v9,
    FetchRequest_v10,
    FetchRequest_v11,
    FetchResponse_v11,
)
from aiokafka.protocol.offset import (
    OffsetRequest,
    OffsetRequest_v1,
    OffsetRequest_v2,
    OffsetRequest_v3,
    OffsetResponse_v3,
)

from mqctl.backends.kafka.wire_reader import WireReader, decoding

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_LIST_OFFSETS_HEAD = struct.Struct(">ib")  # replica_id, isolation_level
_LIST_OFFSETS_PARTITION = struct.Struct(">iq")  # partition, timestamp
_LIST_OFFSETS_ANSWER = struct.Struct(">ihqq")  # partition, error, timestamp, offset
_FETCH_HEAD = struct.Struct(">iiiibii")  # replica, wait, min, max, isolation, session, epoch
_FETCH_PARTITION = struct.Struct(">iiqqi")  # partition, leader epoch, offset, log start, max
# partition, error, high watermark, last stable offset, log start, aborted transactions count
_FETCH_COMMON = struct.Struct(">ihqqqi")
_FETCH_TAIL = struct.Struct(">ii")  # preferred read replica, record data length
_ABORTED = struct.Struct(">qq")


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return _I16.pack(len(raw)) + raw


# --- ListOffsets v3 ------------------------------------------------------------------------


def decode_list_offsets_v3(data: BytesIO | bytes) -> tuple[int, list[Any] | None]:
    """``(throttle_time_ms, topics)`` shaped as aiokafka's generic decoder shapes them."""

    def read(r: WireReader) -> tuple[int, list[Any] | None]:
        throttle = r.count()
        count = r.count()
        if count < 0:
            return throttle, None
        topics: list[Any] = []
        for _ in range(count):
            name = r.string()
            n = r.count()
            if n < 0:
                topics.append((name, None))
                continue
            if r.pos + n * _LIST_OFFSETS_ANSWER.size > len(r.buf):
                raise ValueError("Buffer underrun")
            unpack, buf, pos = _LIST_OFFSETS_ANSWER.unpack_from, r.buf, r.pos
            parts = [unpack(buf, pos + i * 22) for i in range(n)]
            r.pos = pos + n * 22
            topics.append((name, parts))
        return throttle, topics

    return decoding("ListOffsets", read, data)


class ListOffsetsResponse_v3(OffsetResponse_v3):
    @classmethod
    def decode(cls, data: BytesIO | bytes) -> Self:
        return cls(*decode_list_offsets_v3(data))


class ListOffsetsRequest_v3(OffsetRequest_v3):
    RESPONSE_TYPE = ListOffsetsResponse_v3

    def encode(self) -> bytes:
        topics: list[tuple[str, list[tuple[int, int]]]] = self.topics
        out = [_LIST_OFFSETS_HEAD.pack(self.replica_id, self.isolation_level)]
        out.append(_I32.pack(len(topics)))
        pack = _LIST_OFFSETS_PARTITION.pack
        for topic, partitions in topics:
            out.append(_string(topic))
            out.append(_I32.pack(len(partitions)))
            out.extend(pack(p, ts) for p, ts in partitions)
        return b"".join(out)


class ListOffsetsRequest(Request[OffsetRequest_v1 | OffsetRequest_v2 | ListOffsetsRequest_v3]):
    """aiokafka's ``OffsetRequest`` (same arguments), with the fast codec at v3."""

    API_KEY = 2

    def __init__(
        self, replica_id: int, isolation_level: int, topics: list[tuple[str, list[Any]]]
    ) -> None:
        self._generic = OffsetRequest(replica_id, isolation_level, topics)

    def build(self, request_struct_class: type[Any]) -> Any:
        return self._generic.build(request_struct_class)


# --- Fetch v11 -----------------------------------------------------------------------------


def decode_fetch_v11(data: BytesIO | bytes) -> tuple[int, int, int, list[Any] | None]:
    """``(throttle_time_ms, error_code, session_id, topics)`` shaped as aiokafka's generic
    decoder shapes them; the record data stays the raw bytes."""

    def read(r: WireReader) -> tuple[int, int, int, list[Any] | None]:
        throttle, error, session = r.unpack(_FETCH_TOP)
        count = r.count()
        if count < 0:
            return throttle, error, session, None
        topics: list[Any] = []
        for _ in range(count):
            name = r.string()
            n = r.count()
            if n < 0:
                topics.append((name, None))
                continue
            parts = []
            buf, size, common, tail = r.buf, len(r.buf), _FETCH_COMMON.unpack_from, _FETCH_TAIL
            for _ in range(n):
                pos = r.pos
                if pos + _FETCH_COMMON.size > size:
                    raise ValueError("Buffer underrun")
                partition, err, high, stable, start, aborted_count = common(buf, pos)
                r.pos = pos + _FETCH_COMMON.size
                # no aborted transactions (null or empty) is the usual answer
                aborted = (
                    None
                    if aborted_count < 0
                    else [r.unpack(_ABORTED) for _ in range(aborted_count)]
                )
                replica, length = r.unpack(tail)
                records = None if length < 0 else r.take(length)
                parts.append((partition, err, high, stable, start, aborted, replica, records))
            topics.append((name, parts))
        return throttle, error, session, topics

    return decoding("Fetch", read, data)


_FETCH_TOP = struct.Struct(">ihi")  # throttle_time_ms, error_code, session_id


class TimeLagFetchResponse_v11(FetchResponse_v11):
    @classmethod
    def decode(cls, data: BytesIO | bytes) -> Self:
        return cls(*decode_fetch_v11(data))


class TimeLagFetchRequest_v11(FetchRequest_v11):
    RESPONSE_TYPE = TimeLagFetchResponse_v11

    def encode(self) -> bytes:
        out = [
            _FETCH_HEAD.pack(
                self.replica_id,
                self.max_wait_time,
                self.min_bytes,
                self.max_bytes,
                self.isolation_level,
                self.session_id,
                self.session_epoch,
            )
        ]
        topics: list[tuple[str, list[tuple[int, int, int, int, int]]]] = self.topics
        out.append(_I32.pack(len(topics)))
        pack = _FETCH_PARTITION.pack
        for topic, partitions in topics:
            out.append(_string(topic))
            out.append(_I32.pack(len(partitions)))
            out.extend(pack(*p) for p in partitions)
        forgotten: list[tuple[str, list[int]]] = self.forgotten_topics_data
        out.append(_I32.pack(len(forgotten)))
        for topic, ids in forgotten:
            out.append(_string(topic))
            out.append(_I32.pack(len(ids)))
            out.extend(_I32.pack(i) for i in ids)
        out.append(_string(self.rack_id))
        return b"".join(out)


class TimeLagFetchRequest(
    Request[
        FetchRequest_v4
        | FetchRequest_v5
        | FetchRequest_v6
        | FetchRequest_v7
        | FetchRequest_v8
        | FetchRequest_v9
        | FetchRequest_v10
        | TimeLagFetchRequest_v11
    ]
):
    """aiokafka's ``FetchRequest`` (same arguments), with the fast codec at v11."""

    API_KEY = 1

    def __init__(
        self,
        max_wait_time: int,
        min_bytes: int,
        max_bytes: int,
        isolation_level: int,
        topics: list[tuple[str, list[tuple[int, int, int]]]],
    ) -> None:
        self._generic = FetchRequest(max_wait_time, min_bytes, max_bytes, isolation_level, topics)

    def build(self, request_struct_class: type[Any]) -> Any:
        return self._generic.build(request_struct_class)
