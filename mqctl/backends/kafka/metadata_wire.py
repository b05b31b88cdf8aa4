# mypy: disallow-subclassing-any=False
"""The cluster's metadata (every topic) with a hand-written Metadata v5 answer decoder.

At 10,000 partitions aiokafka's generic codec took ~25 ms to decode the answer (three arrays
per partition, a generator step per field), on the path of every large ``lag``: the group
requests sent to the same broker wait behind it (docs/benchmarks.md, "Lag at scale"). Here a
partition is read with one ``struct`` call when it has the shape of the one before (the
common case: a topic's partitions have as many replicas and in-sync replicas each). The
decoder returns exactly what the generic codec returns (tests/test_kafka_metadata_wire.py),
so aiokafka's own ``ClusterMetadata.update_metadata`` builds the result from it; older
brokers get aiokafka's classes (the request negotiates like aiokafka's).
"""

from __future__ import annotations

import logging
import random
import struct
from io import BytesIO
from typing import Any, Self

from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaError
from aiokafka.protocol.api import Request
from aiokafka.protocol.metadata import (
    MetadataRequest,
    MetadataRequest_v0,
    MetadataRequest_v1,
    MetadataRequest_v2,
    MetadataRequest_v3,
    MetadataRequest_v4,
    MetadataRequest_v5,
    MetadataResponse_v5,
)

log = logging.getLogger(__name__)

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_PARTITION_HEAD = struct.Struct(">hiii")  # error, partition, leader, replica count
_TOPIC_HEAD = struct.Struct(">h")


class _Reader:
    """Bounds-checked reads of the non-flexible encoding (int16-sized strings, int32 counts)."""

    __slots__ = ("buf", "pos")

    def __init__(self, data: BytesIO | bytes) -> None:
        self.buf = data if isinstance(data, bytes) else data.read()
        self.pos = 0

    def unpack(self, fmt: struct.Struct) -> tuple[Any, ...]:
        if self.pos + fmt.size > len(self.buf):
            raise ValueError("Buffer underrun")
        value = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value

    def int32(self) -> int:
        (value,) = self.unpack(_I32)
        return int(value)

    def string(self) -> str | None:
        (length,) = self.unpack(_I16)
        if length < 0:
            return None
        end = self.pos + length
        if end > len(self.buf):
            raise ValueError("Buffer underrun")
        value = self.buf[self.pos : end].decode("utf-8")
        self.pos = end
        return value

    def int32_array(self) -> list[int] | None:
        count = self.int32()
        if count < 0:
            return None
        return list(self.unpack(_ints(count)))


_INTS: dict[int, struct.Struct] = {}
_SHAPES: dict[tuple[int, int, int], struct.Struct] = {}


def _ints(count: int) -> struct.Struct:
    fmt = _INTS.get(count)
    if fmt is None:
        fmt = _INTS[count] = struct.Struct(f">{count}i")
    return fmt


def _shape(replicas: int, isr: int, offline: int) -> struct.Struct:
    """One partition whose arrays have these lengths, counts included."""
    fmt = _SHAPES.get((replicas, isr, offline))
    if fmt is None:
        fmt = _SHAPES[(replicas, isr, offline)] = struct.Struct(
            f">hiii{replicas}ii{isr}ii{offline}i"
        )
    return fmt


def _partitions(r: _Reader, count: int) -> list[Any]:
    parts: list[Any] = []
    append = parts.append
    buf = r.buf
    size = len(buf)
    shape: struct.Struct | None = None
    n = m = k = 0
    for _ in range(count):
        pos = r.pos
        if shape is not None and pos + shape.size <= size:
            v = shape.unpack_from(buf, pos)
            # the counts read where this shape expects them are its counts: same shape
            if v[3] == n and v[4 + n] == m and v[5 + n + m] == k:
                isr_at = 5 + n  # after the replicas and the ISR's count
                in_sync = list(v[isr_at : isr_at + m])
                append((v[0], v[1], v[2], list(v[4 : 4 + n]), in_sync, list(v[isr_at + m + 1 :])))
                r.pos = pos + shape.size
                continue
        error, partition, leader, n = r.unpack(_PARTITION_HEAD)
        replicas = None if n < 0 else list(r.unpack(_ints(n)))
        isr = r.int32_array()
        offline = r.int32_array()
        append((error, partition, leader, replicas, isr, offline))
        if replicas is not None and isr is not None and offline is not None:
            m, k = len(isr), len(offline)
            shape = _shape(n, m, k)
        else:
            shape = None
    return parts


def decode_metadata_v5(data: BytesIO | bytes) -> tuple[Any, ...]:
    """``(throttle_time_ms, brokers, cluster_id, controller_id, topics)`` shaped as aiokafka's
    generic decoder shapes them."""
    r = _Reader(data)
    try:
        throttle = r.int32()
        count = r.int32()
        brokers: list[Any] | None = None
        if count >= 0:
            brokers = []
            for _ in range(count):
                node_id = r.int32()
                host = r.string()
                port = r.int32()
                brokers.append((node_id, host, port, r.string()))
        cluster_id = r.string()
        controller_id = r.int32()
        count = r.int32()
        topics: list[Any] | None = None
        if count >= 0:
            topics = []
            for _ in range(count):
                (error,) = r.unpack(_TOPIC_HEAD)
                name = r.string()
                if r.pos >= len(r.buf):
                    raise ValueError("Buffer underrun")
                internal = r.buf[r.pos] != 0
                r.pos += 1
                n = r.int32()
                topics.append((error, name, internal, None if n < 0 else _partitions(r, n)))
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed Metadata response: {exc}") from None
    return throttle, brokers, cluster_id, controller_id, topics


class FastMetadataResponse_v5(MetadataResponse_v5):
    @classmethod
    def decode(cls, data: BytesIO | bytes) -> Self:
        return cls(*decode_metadata_v5(data))


class FastMetadataRequest_v5(MetadataRequest_v5):
    RESPONSE_TYPE = FastMetadataResponse_v5


class FastMetadataRequest(
    Request[
        MetadataRequest_v0
        | MetadataRequest_v1
        | MetadataRequest_v2
        | MetadataRequest_v3
        | MetadataRequest_v4
        | FastMetadataRequest_v5
    ]
):
    """aiokafka's ``MetadataRequest`` (same arguments), with the fast decoder at v5."""

    API_KEY = 3

    def __init__(
        self, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None
    ) -> None:
        self._generic = MetadataRequest(topics, allow_auto_topic_creation)

    def build(self, request_struct_class: type[Any]) -> Any:
        return self._generic.build(request_struct_class)


async def fetch_all_metadata(client: Any) -> ClusterMetadata:
    """What ``AIOKafkaClient.fetch_all_metadata`` returns, through the fast decoder: every
    topic's metadata from the first of the known brokers (in random order) that answers."""
    request = FastMetadataRequest(None)
    nodes = [broker.nodeId for broker in client.cluster.brokers()]
    if not nodes:  # only the bootstrap connection so far: aiokafka knows how to use it
        return await client.fetch_all_metadata()
    random.shuffle(nodes)
    for node in nodes:
        try:
            response = await client.send(node, request)
        except (TimeoutError, KafkaError) as err:
            log.warning("Unable to request metadata from node with id %s: %r", node, err)
            continue
        if response.brokers:
            metadata = ClusterMetadata()  # a snapshot: aiokafka never refreshes it
            metadata.update_metadata(response)
            return metadata
        break  # a broker without brokers in its answer: as aiokafka, not asked further
    raise KafkaError("Unable to get cluster metadata over all known brokers")
