"""Timestamps of the first unconsumed record of many partitions, without a consumer group.

A plain Fetch request (replica id -1, no group, no commit) per partition leader carries every
partition at once; a partition can appear only once per request, so several groups at
different offsets of one partition take several requests (sent concurrently, identical
positions fetched once).

Each partition asks for at most ``PARTITION_BYTES``. Kafka only returns whole record batches,
and a batch larger than the limit only for the first partition of a response: a partition that
came back empty is asked again alone (``FOLLOW_UP_LIMIT`` at most, concurrently). A batch gives
the exact record's timestamp; if it cannot be decoded, its header's first timestamp is used
(at most one producer batch earlier: time lag overstated by less than the producer's linger).
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection

PARTITION_BYTES = 64 * 1024
FOLLOW_UP_LIMIT = 500
RECORD_BATCH_HEADER = 61  # bytes of a v2 record batch header
CONTROL_FLAG = 0x20
LOG_APPEND_TIME_FLAG = 0x08

Position = tuple[str, int, int]  # topic, partition, offset


def first_timestamp(data: bytes, offset: int) -> int | None:
    """Timestamp (ms) of the first data record at or after ``offset`` in fetched bytes."""
    pos = 0
    while pos + RECORD_BATCH_HEADER <= len(data):
        base_offset, batch_length = struct.unpack_from(">qi", data, pos)
        magic = data[pos + 16]
        size = 12 + batch_length
        if magic < 2:
            return _legacy_timestamp(data[pos:], offset)
        attributes, last_delta, base_ts, max_ts = struct.unpack_from(">hiqq", data, pos + 21)
        if base_offset + last_delta < offset or attributes & CONTROL_FLAG:
            pos += size
            continue
        if attributes & LOG_APPEND_TIME_FLAG:
            return int(max_ts)
        if pos + size <= len(data):
            exact = _exact_timestamp(data[pos : pos + size], offset)
            if exact is not None:
                return exact
        return int(base_ts)
    return None


def _exact_timestamp(batch: bytes, offset: int) -> int | None:
    from aiokafka.record.memory_records import MemoryRecords

    try:
        records = MemoryRecords(batch)
        found = records.next_batch()
        if found is None:
            return None
        for record in found:
            if record.offset >= offset:
                return int(record.timestamp)
    except Exception:  # corrupt or unsupported compression: fall back to the batch header
        return None
    return None


def _legacy_timestamp(data: bytes, offset: int) -> int | None:
    from aiokafka.record.memory_records import MemoryRecords

    try:
        records = MemoryRecords(data)
        while (batch := records.next_batch()) is not None:
            for record in batch:
                if record.offset >= offset and record.timestamp is not None:
                    return int(record.timestamp)
    except Exception:  # message format v0 has no timestamps at all
        return None
    return None


def _rounds(positions: Iterable[Position]) -> list[dict[tuple[str, int], int]]:
    """Split positions so that each round holds a partition at most once."""
    by_tp: dict[tuple[str, int], list[int]] = defaultdict(list)
    for topic, partition, offset in set(positions):
        by_tp[(topic, partition)].append(offset)
    rounds: list[dict[tuple[str, int], int]] = []
    for tp, offsets in by_tp.items():
        for i, off in enumerate(sorted(offsets)):
            if i == len(rounds):
                rounds.append({})
            rounds[i][tp] = off
    return rounds


async def record_timestamps(
    conn: KafkaConnection, metadata: Any, positions: Iterable[Position]
) -> dict[Position, int | None]:
    """Timestamp of the record at each (topic, partition, offset); None if none was found."""
    from aiokafka.protocol.fetch import FetchRequest
    from aiokafka.structs import TopicPartition

    client = await conn.client()
    requests: list[tuple[int, dict[str, list[tuple[int, int, int]]]]] = []
    for round_ in _rounds(positions):
        by_leader: dict[int, dict[str, list[tuple[int, int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (topic, partition), offset in round_.items():
            leader = metadata.leader_for_partition(TopicPartition(topic, partition))
            if leader is None or leader < 0:
                continue  # no leader right now: time lag unknown for this partition
            by_leader[leader][topic].append((partition, offset, PARTITION_BYTES))
        requests.extend(by_leader.items())

    async def fetch(node: int, topics: dict[str, list[tuple[int, int, int]]]) -> list[Any]:
        total = PARTITION_BYTES * sum(len(p) for p in topics.values()) + (1 << 20)
        request = FetchRequest(0, 1, total, 0, list(topics.items()))
        response = await conn.call(client.send(node, request), "Fetch request")
        wanted = {(t, p): o for t, parts in topics.items() for p, o, _ in parts}
        found = []
        for topic, parts in response.topics:
            for part in parts:
                partition, error_code, data = part[0], part[1], part[-1]
                offset = wanted.get((topic, partition))
                if offset is None or error_code:
                    continue
                ts = first_timestamp(bytes(data), offset) if data else None
                found.append(((topic, partition, offset), ts, not data))
        return found

    results = await asyncio.gather(*(fetch(n, t) for n, t in requests))
    stamps: dict[Position, int | None] = {}
    empty: list[tuple[int, Position]] = []
    for batch in results:
        for pos, ts, was_empty in batch:
            stamps[pos] = ts
            if was_empty:
                leader = metadata.leader_for_partition(TopicPartition(pos[0], pos[1]))
                empty.append((leader, pos))
    # Alone in a request, the partition's first batch is returned whatever its size.
    retries = await asyncio.gather(
        *(fetch(n, {t: [(p, o, PARTITION_BYTES)]}) for n, (t, p, o) in empty[:FOLLOW_UP_LIMIT])
    )
    for batch in retries:
        for pos, ts, _ in batch:
            stamps[pos] = ts
    return stamps
