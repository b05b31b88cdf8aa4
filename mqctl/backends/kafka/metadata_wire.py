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

from mqctl.backends.kafka.wire_reader import WireReader, decoding, ints

log = logging.getLogger(__name__)

_PARTITION_HEAD = struct.Struct(">hiii")  # error, partition, leader, replica count
_TOPIC_HEAD = struct.Struct(">h")


_SHAPES: dict[tuple[int, int, int], struct.Struct] = {}


def _shape(replicas: int, isr: int, offline: int) -> struct.Struct:
    """One partition whose arrays have these lengths, counts included."""
    fmt = _SHAPES.get((replicas, isr, offline))
    if fmt is None:
        fmt = _SHAPES[(replicas, isr, offline)] = struct.Struct(
            f">hiii{replicas}ii{isr}ii{offline}i"
        )
    return fmt


def _partitions(r: WireReader, count: int) -> list[Any]:
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
        replicas = None if n < 0 else list(r.unpack(ints(n)))
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

    def read(r: WireReader) -> tuple[Any, ...]:
        throttle = r.count()
        count = r.count()
        brokers: list[Any] | None = None
        if count >= 0:
            brokers = []
            for _ in range(count):
                node_id = r.count()
                host = r.string()
                port = r.count()
                brokers.append((node_id, host, port, r.string()))
        cluster_id = r.string()
        controller_id = r.count()
        count = r.count()
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
                n = r.count()
                topics.append((error, name, internal, None if n < 0 else _partitions(r, n)))
        return throttle, brokers, cluster_id, controller_id, topics

    return decoding("Metadata", read, data)


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
