"""Timestamps of the first unconsumed record of many partitions, without a consumer group.

A plain Fetch request (replica id -1, no group, no commit) per partition leader carries every
partition at once. A partition can appear only once per request, but one fetch from the
lowest wanted offset of a partition returns the record batches after it too: every wanted
offset those batches cover is answered from the same bytes (a fleet of groups a few records
apart on one partition costs one fetch, not one per group). Offsets past what came back are
asked in a further round, from the lowest of them.

Each partition asks for at most ``PARTITION_BYTES``. A batch larger than the limit comes back
whole only for the first partition of a response, cut or not at all for the others: a
partition that came back empty below its high watermark is asked again alone
(``FOLLOW_UP_LIMIT`` at most, concurrently); one at its high watermark has no record yet.

A batch gives the exact record's timestamp: an uncompressed batch is read in place (each
record starts with its length, timestamp delta and offset delta), a compressed one through
aiokafka; an offset past the batch's last record (compacted away) is answered by the next
batch. If a batch cannot be decoded or was cut, its header's first timestamp is used (at most
one producer batch earlier: time lag overstated by less than the producer's linger).
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
from mqctl.backends.kafka.connection import KafkaConnection

PARTITION_BYTES = 64 * 1024
FOLLOW_UP_LIMIT = 500
RECORD_BATCH_HEADER = 61  # bytes of a v2 record batch header
CONTROL_FLAG = 0x20
COMPRESSION_MASK = 0x07
LOG_APPEND_TIME_FLAG = 0x08
# A committed offset below the log start or past the end: the position's state, not stale
# metadata (asked again from the log start by the caller).
OFFSET_OUT_OF_RANGE = 1

Position = tuple[str, int, int]  # topic, partition, offset


def timestamps_at(data: bytes, offsets: list[int]) -> dict[int, int]:
    """Timestamp (ms) of the first data record at or after each of ``offsets`` (ascending)
    that the complete record batches in fetched ``data`` answer; offsets past them are left
    out (ask again from there)."""
    found: dict[int, int] = {}
    pending = list(offsets)
    pos = 0
    while pending and pos + RECORD_BATCH_HEADER <= len(data):
        base_offset, batch_length = struct.unpack_from(">qi", data, pos)
        magic = data[pos + 16]
        size = 12 + batch_length
        if magic < 2:
            for offset in pending:
                legacy = _legacy_timestamp(data[pos:], offset)
                if legacy is not None:
                    found[offset] = legacy
            return found
        attributes, last_delta, base_ts, max_ts = struct.unpack_from(">hiqq", data, pos + 21)
        last = base_offset + last_delta
        covered = [o for o in pending if o <= last]
        if not covered or attributes & CONTROL_FLAG:
            pos += size
            continue
        exact: dict[int, int] | None
        if attributes & LOG_APPEND_TIME_FLAG:
            exact = dict.fromkeys(covered, int(max_ts))
        elif pos + size > len(data):
            exact = None  # the batch was cut at the size limit: its header is all we have
        elif not attributes & COMPRESSION_MASK:
            exact = _plain_timestamps(data, pos, pos + size, base_offset, base_ts, covered)
        else:
            exact = _exact_timestamps(data[pos : pos + size], covered)
        if exact is None:
            found.update(dict.fromkeys(covered, int(base_ts)))
            pending = pending[len(covered) :]
        else:
            # Offsets past the batch's last record (removed by compaction) are answered by
            # the next batch.
            found.update(exact)
            pending = [o for o in pending if o not in exact]
        pos += size
    return found


_BATCH_START = struct.Struct(">qi")  # base offset, batch length
_BATCH_FIELDS = struct.Struct(">hiq")  # attributes, last offset delta, base timestamp
_NOT_INLINE = CONTROL_FLAG | COMPRESSION_MASK | LOG_APPEND_TIME_FLAG


def timestamp_at(data: bytes, offset: int) -> int | None:
    """:func:`timestamps_at` for one offset (a partition whose groups are all at one
    position: the common case at scale). When the first record of an uncompressed first batch
    answers it with one-byte deltas (a record in a batch of records produced close together),
    they are read here, without the general reader's lists and dicts."""
    size = len(data)
    if size > RECORD_BATCH_HEADER + 3 and data[16] == 2:
        base_offset, batch_length = _BATCH_START.unpack_from(data, 0)
        attributes, _last_delta, base_ts = _BATCH_FIELDS.unpack_from(data, 21)
        end = 12 + batch_length
        if not attributes & _NOT_INLINE and end <= size:
            pos = RECORD_BATCH_HEADER
            while pos < end - 3 and data[pos] & 0x80:  # the first record's length (a varint)
                pos += 1
            if pos + 3 < end:
                ts_byte, offset_byte = data[pos + 2], data[pos + 3]  # after its attributes
                first = base_offset + ((offset_byte >> 1) ^ -(offset_byte & 1))
                if not (ts_byte | offset_byte) & 0x80 and first >= offset:
                    return int(base_ts + ((ts_byte >> 1) ^ -(ts_byte & 1)))
    return timestamps_at(data, [offset]).get(offset)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zigzag varint (record fields) at ``pos``: (value, position after it)."""
    raw = shift = 0
    while True:
        b = data[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7


def _plain_timestamps(
    data: bytes, pos: int, end: int, base_offset: int, base_ts: int, offsets: list[int]
) -> dict[int, int] | None:
    """:func:`_exact_timestamps` for an uncompressed batch at ``data[pos:end]``, read in
    place: each record starts with its length, attributes, timestamp delta and offset delta,
    so only the records up to the last wanted offset are looked at (usually the first).
    None if the records do not parse (then the header's timestamp is used)."""
    found: dict[int, int] = {}
    wanted = 0
    pos += RECORD_BATCH_HEADER
    try:
        while pos < end and wanted < len(offsets):
            length, body = _varint(data, pos)
            ts_delta, pos = _varint(data, body + 1)  # after the record's attributes byte
            offset_delta, pos = _varint(data, pos)
            offset = base_offset + offset_delta
            while wanted < len(offsets) and offsets[wanted] <= offset:
                found[offsets[wanted]] = base_ts + ts_delta
                wanted += 1
            pos = body + length
        if pos > end:
            return None
    except IndexError:
        return None
    return found


def _exact_timestamps(batch: bytes, offsets: list[int]) -> dict[int, int] | None:
    """For each of ``offsets`` (ascending) the timestamp of the first record at or after it
    in one (compressed) record batch; None if the batch cannot be decoded."""
    from aiokafka.record.memory_records import MemoryRecords

    found: dict[int, int] = {}
    try:
        records = MemoryRecords(batch)
        decoded = records.next_batch()
        if decoded is None:
            return None
        pending = iter(offsets)
        wanted = next(pending, None)
        for record in decoded:
            while wanted is not None and record.offset >= wanted:
                found[wanted] = int(record.timestamp)
                wanted = next(pending, None)
            if wanted is None:
                break
    except Exception:  # corrupt or unsupported compression: fall back to the batch header
        return None
    return found


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


async def record_timestamps(
    conn: KafkaConnection,
    metadata: Any,
    positions: Iterable[Position],
    marks: dict[tuple[str, int], tuple[int, int]] | None = None,
) -> dict[Position, int | None]:
    """Timestamp of the record at each (topic, partition, offset); None if none was found.
    ``marks``: as for :func:`timestamps_from`."""
    stamps: dict[Position, int | None] = dict.fromkeys(positions)
    wanted = offsets_by_partition(((t, p), offset) for t, p, offset in stamps)
    stamps.update(await timestamps_from(conn, metadata, wanted, marks))
    return stamps


def offsets_by_partition(
    pairs: Iterable[tuple[tuple[str, int], int]],
) -> dict[tuple[str, int], list[int]]:
    """Each partition's distinct offsets, ascending: what :func:`timestamps_from` asks."""
    found: dict[tuple[str, int], list[int]] = {}
    for tp, offset in pairs:
        offsets = found.get(tp)
        if offsets is None:
            found[tp] = [offset]
        elif offset not in offsets:
            offsets.append(offset)
    for offsets in found.values():
        if len(offsets) > 1:
            offsets.sort()
    return found


async def timestamps_from(
    conn: KafkaConnection,
    metadata: Any,
    wanted: dict[tuple[str, int], list[int]],
    marks: dict[tuple[str, int], tuple[int, int]] | None = None,
) -> dict[Position, int]:
    """Timestamp of the record at each wanted offset found (``wanted``: each partition's
    offsets, ascending, left unchanged).

    ``marks``, when given, receives the log start offset and high watermark of each partition
    a Fetch answered without error (Fetch v5+ carries both: what ListOffsets EARLIEST and
    LATEST would answer for a read_uncommitted reader, from the same moment)."""
    from mqctl.backends.kafka.offsets_wire import TimeLagFetchRequest
    from mqctl.backends.kafka.topics import forget_metadata

    client = await conn.client()
    stamps: dict[Position, int] = {}
    pending = dict(wanted)  # what is still to ask: shrinks round by round
    leaders: dict[str, Any] = {}

    def leader(tp: tuple[str, int]) -> int | None:
        topic, partition = tp
        known = leaders.get(topic)
        if known is None:
            known = leaders[topic] = partitions_metadata(metadata, topic)
        info = known.get(partition)
        return info.leader if info is not None and info.leader >= 0 else None  # no leader

    async def fetch(node: int, tps: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """One Fetch of ``tps``, each from its lowest pending offset: records what the bytes
        answer and returns the partitions that came back empty (their first batch did not fit
        their share of the response). A partition is dropped from ``pending`` when its
        answer had no record for its lowest offset or an error: its time lag stays unknown."""
        topics: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for topic, partition in tps:
            topics[topic].append((partition, pending[(topic, partition)][0], PARTITION_BYTES))
        total = PARTITION_BYTES * len(tps) + (1 << 20)
        request = TimeLagFetchRequest(0, 1, total, 0, list(topics.items()))
        response = await conn.call(client.send(node, request), "Fetch request")
        # v5+: (partition, error, high watermark, last stable offset, log start offset, ...)
        marking = marks if response.API_VERSION >= 5 else None
        empty, seen = [], set()
        for topic, parts in response.topics:
            for part in parts:
                partition, error_code, data = part[0], part[1], part[-1]
                tp = (topic, partition)
                seen.add(tp)
                if (
                    marking is not None
                    and not error_code
                    and part[4] >= 0 <= part[2]
                    and tp not in marking
                ):
                    marking[tp] = (part[4], part[2])
                if tp not in pending or error_code:
                    if error_code and error_code != OFFSET_OUT_OF_RANGE:
                        forget_metadata(conn)  # e.g. the leader moved: the next one asks anew
                    pending.pop(tp, None)
                elif not data:
                    if pending[tp][0] < part[2]:  # below the high watermark: did not fit
                        empty.append(tp)
                    else:  # nothing at or after the offset yet (a caught-up position)
                        del pending[tp]
                elif len(pending[tp]) == 1:
                    # one position: answered or not, the partition is done
                    (offset,) = pending.pop(tp)
                    ts = timestamp_at(data, offset)
                    if ts is not None:
                        stamps[(topic, partition, offset)] = ts
                else:
                    answered = timestamps_at(data, pending[tp])
                    for offset, ts in answered.items():
                        stamps[(topic, partition, offset)] = ts
                    # offsets at or past the high watermark have no record yet: not asked on
                    left = [o for o in pending[tp] if o not in answered and o < part[2]]
                    if left and pending[tp][0] in answered:  # progress: ask on from there
                        pending[tp] = left
                    else:  # all answered, or none of what it was asked for: give up the rest
                        del pending[tp]
        for tp in tps:
            if tp not in seen:
                pending.pop(tp, None)
        return empty

    # Rounds of fetches, to every leader concurrently. Each round answers at least the lowest
    # offset of each partition asked or drops the partition, so rounds end. A partition that
    # came back empty is asked alone (then Kafka returns its first batch whatever its size):
    # at most FOLLOW_UP_LIMIT such fetches in all.
    alone: set[tuple[str, int]] = set()
    budget = FOLLOW_UP_LIMIT
    while pending:
        shared: dict[int, list[tuple[str, int]]] = defaultdict(list)
        solo: list[tuple[int, tuple[str, int]]] = []
        for tp in list(pending):
            node = leader(tp)
            if node is None or (tp in alone and len(solo) >= budget):
                del pending[tp]
            elif tp in alone:
                solo.append((node, tp))
            else:
                shared[node].append(tp)
        budget -= len(solo)
        results = await asyncio.gather(
            *(fetch(node, tps) for node, tps in shared.items()),
            *(fetch(node, [tp]) for node, tp in solo),
        )
        for empty in results:
            for tp in empty:
                if tp in alone:
                    pending.pop(tp, None)  # empty even alone: nothing at or after the offset
                else:
                    alone.add(tp)
    return stamps
