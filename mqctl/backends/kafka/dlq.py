"""Kafka dead-letter topics: discovery by name and by headers, and redrive.

Discovery reads a few records with one group-less consumer (nothing is committed): the first
records of topics whose names match a DLQ pattern (for reasons and the oldest age), and the
last record of every other partition, whose headers reveal Spring/Connect/x-death DLQs.

Redrive (at least once): a dedicated consumer group ``mqctl-redrive.<dlq>`` reads the DLQ
from its committed offset up to the end offsets taken at the start; an idempotent producer
with acks=all publishes; a partition's offset is committed only past records whose delivery
was acknowledged (or that were skipped). A failed delivery blocks the rest of that partition
for the run, so a rerun resumes exactly there. Per-key order is kept: one partition's records
are sent in order by one idempotent producer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.backends.kafka.peek import to_message, topic_partitions
from mqctl.backends.kafka.publish import header_bytes, producer_for
from mqctl.backends.kafka.topics import cluster_metadata, is_internal, watermarks
from mqctl.dlq import discovery
from mqctl.dlq.metadata import has_dead_letter_headers
from mqctl.dlq.models import Candidate
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.plan import Planner, Target

SAMPLE_PER_PARTITION = 20
MAX_PROBED_PARTITIONS = 500
POLL_MS = 200
GROUP_PREFIX = "mqctl-redrive."


def redrive_group(dlq: str) -> str:
    return GROUP_PREFIX + dlq


async def _read_ranges(
    conn: KafkaConnection, ranges: dict[tuple[str, int], tuple[int, int]]
) -> list[Message]:
    """Records in [start, stop) of each partition, read without a group (side-effect free)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    wanted = {TopicPartition(t, p): r for (t, p), r in ranges.items() if r[0] < r[1]}
    if not wanted:
        return []
    consumer = AIOKafkaConsumer(
        **client_options(conn.settings, conn.timeout),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
    )
    found: list[Message] = []
    try:
        await conn.call(consumer.start(), "consumer start")
        consumer.assign(list(wanted))
        for tp, (start, _) in wanted.items():
            consumer.seek(tp, start)
        pending = set(wanted)
        deadline = time.monotonic() + conn.timeout
        while pending and time.monotonic() < deadline:
            batch = await conn.call(consumer.getmany(*pending, timeout_ms=POLL_MS), "fetch")
            for tp, records in batch.items():
                stop = wanted[tp][1]
                for record in records:
                    if record.offset < stop:
                        found.append(to_message(record))
                if records and records[-1].offset + 1 >= stop:
                    pending.discard(tp)
                    consumer.pause(tp)
    finally:
        await asyncio.shield(_stop(consumer))
    return found


async def discover(conn: KafkaConnection, patterns: tuple[str, ...]) -> list[Candidate]:
    metadata = await cluster_metadata(conn)
    every = (*patterns, *discovery.KAFKA_PATTERNS)
    topics = sorted(t for t in metadata.topics() if not is_internal(t))
    parts = {t: sorted(metadata.partitions_for_topic(t) or ()) for t in topics}
    keys = [(t, p) for t in topics for p in parts[t]]
    low, high = await watermarks(conn, metadata, keys) if keys else ({}, {})
    named = [t for t in topics if discovery.matching_pattern(t, every)]
    ranges: dict[tuple[str, int], tuple[int, int]] = {}
    for topic in named:
        for p in parts[topic]:
            start = low[(topic, p)]
            ranges[(topic, p)] = (start, min(high[(topic, p)], start + SAMPLE_PER_PARTITION))
    probed = 0
    for topic in topics:
        if topic in named:
            continue
        for p in parts[topic]:
            if probed >= MAX_PROBED_PARTITIONS:
                break
            if high[(topic, p)] > low[(topic, p)]:
                ranges[(topic, p)] = (high[(topic, p)] - 1, high[(topic, p)])
                probed += 1
    by_topic: dict[str, list[Message]] = {}
    for message in await _read_ranges(conn, ranges):
        by_topic.setdefault(message.source, []).append(message)
    candidates = []
    for topic in topics:
        sample = by_topic.get(topic, [])
        detected = []
        if topic in named:
            detected.append("name")
        if any(has_dead_letter_headers(m) for m in sample):
            detected.append("headers")
        if not detected:
            continue
        sources = []
        derived = discovery.source_from_name(topic, every)
        if derived and derived in parts:
            sources.append(derived)
        depth = sum(max(0, high[(topic, p)] - low[(topic, p)]) for p in parts[topic])
        candidates.append(
            Candidate(
                backend="kafka",
                kind="topic",
                name=topic,
                vhost=None,
                depth=depth,
                detected_by=detected,
                sources=sources,
                sample=sample,
            )
        )
    return candidates


class _Partition:
    """Per-partition bookkeeping: records sent or skipped, in offset order, and what may be
    committed (the first offset not yet finished)."""

    def __init__(self, tp: Any, end: int) -> None:
        self.tp = tp
        self.end = end
        self.entries: deque[tuple[int, asyncio.Future[Any] | None, Target | None]] = deque()
        self.commit_to: int | None = None
        self.committed: int | None = None
        self.blocked = False
        self.done = False


async def redrive(
    conn: KafkaConnection, dlq: Destination, planner: Planner, control: RedriveControl
) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    metadata, partitions = await topic_partitions(conn, dlq.name, None)
    keys = [(dlq.name, p) for p in partitions]
    low, high = await watermarks(conn, metadata, keys)
    topic_partition_counts = {
        t: len(metadata.partitions_for_topic(t) or ()) for t in metadata.topics()
    }
    consumer = AIOKafkaConsumer(
        **client_options(conn.settings, conn.timeout),
        group_id=redrive_group(dlq.name),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        max_poll_records=1000,
    )
    producer = producer_for(conn, None)
    state: dict[Any, _Partition] = {}
    try:
        await conn.call(consumer.start(), "consumer start")
        await conn.call(producer.start(), "producer start")
        tps = [TopicPartition(dlq.name, p) for p in partitions]
        # Manual assignment with a group id: offsets are committed to the group without
        # joining it (no rebalance wait).
        consumer.assign(tps)
        total = 0
        for tp in tps:
            first, end = low[(dlq.name, tp.partition)], high[(dlq.name, tp.partition)]
            committed = await conn.call(consumer.committed(tp), "committed offsets")
            position = committed if committed is not None and committed >= first else first
            consumer.seek(tp, position)
            part = state[tp] = _Partition(tp, end)
            part.committed = committed
            part.done = position >= end
            total += max(0, end - position)
        control.begin(total)
        await _loop(conn, consumer, producer, state, planner, control, topic_partition_counts)
    finally:
        await asyncio.shield(_finish(conn, consumer, producer, state, control))


async def _loop(
    conn: KafkaConnection,
    consumer: AIOKafkaConsumer,
    producer: Any,
    state: dict[Any, _Partition],
    planner: Planner,
    control: RedriveControl,
    partition_counts: dict[str, int],
) -> None:
    idle_since = time.monotonic()
    limit_reached = False
    while not control.stopping and not limit_reached:
        active = [tp for tp, part in state.items() if not part.done and not part.blocked]
        if not active:
            break
        batch = await conn.call(consumer.getmany(*active, timeout_ms=POLL_MS), "fetch")
        if not batch:
            if time.monotonic() - idle_since > max(conn.timeout, 2.0):
                control.stopped_early("no more records arrived before the end offsets")
                break
            continue
        idle_since = time.monotonic()
        for tp, records in batch.items():
            part = state[tp]
            for record in records:
                if record.offset >= part.end or part.blocked:
                    part.done = record.offset >= part.end or part.done
                    break
                if control.stopping:
                    break
                message = to_message(record)
                decision = planner.decide(message)
                if decision.action == "stop":
                    control.stopped_early(f"--limit {planner.options.limit} reached")
                    limit_reached = True
                    break
                control.examined()
                if decision.action == "skip":
                    control.skipped(decision.reason or "skipped")
                    part.entries.append((record.offset, None, None))
                else:
                    await _send(producer, part, record.offset, decision, control, partition_counts)
                    if sum(len(p.entries) for p in state.values()) >= control.window:
                        await _settle(conn, consumer, state, control, wait=True)
                if record.offset + 1 >= part.end:
                    part.done = True
            if part.done:
                consumer.pause(tp)
            if limit_reached or control.stopping:
                break
        await _settle(conn, consumer, state, control, wait=False)


async def _send(
    producer: Any,
    part: _Partition,
    offset: int,
    decision: Any,
    control: RedriveControl,
    partition_counts: dict[str, int],
) -> None:
    target = decision.target
    outgoing = decision.outgoing
    count = partition_counts.get(target.name)
    if not count:
        control.failed(f"topic {target.name!r} does not exist")
        part.blocked = True
        return
    partition = outgoing.partition
    if partition is not None and not 0 <= partition < count:
        partition = None  # the recorded partition is gone: let the key choose
    await control.throttle()
    headers = [(k, header_bytes(v)) for k, v in outgoing.headers]
    try:
        future = await producer.send(
            target.name,
            value=outgoing.value,
            key=outgoing.key,
            partition=partition,
            headers=headers or None,
        )
    except Exception as exc:  # refused before sending (too large, ...)
        future = asyncio.get_running_loop().create_future()
        future.set_exception(exc)
    part.entries.append((offset, future, target))


async def _settle(
    conn: KafkaConnection,
    consumer: AIOKafkaConsumer,
    state: dict[Any, _Partition],
    control: RedriveControl,
    *,
    wait: bool,
) -> None:
    """Account finished sends in offset order and commit each partition's finished prefix."""
    offsets: dict[Any, int] = {}
    for tp, part in state.items():
        while part.entries:
            offset, future, target = part.entries[0]
            if future is not None:
                if not future.done():
                    if not wait:
                        break
                    with contextlib.suppress(Exception):
                        await future
                error = future.exception()
                if error is not None:
                    control.failed(f"{type(error).__name__}: {error}".rstrip(": "))
                    part.blocked = True
                elif target is not None:
                    control.moved(target)
            part.entries.popleft()
            if not part.blocked:
                part.commit_to = offset + 1
        if part.commit_to is not None and part.commit_to != part.committed:
            offsets[tp] = part.commit_to
    if offsets:
        await conn.call(consumer.commit(offsets), "offset commit")
        for tp, offset in offsets.items():
            state[tp].committed = offset


async def _finish(
    conn: KafkaConnection,
    consumer: AIOKafkaConsumer,
    producer: Any,
    state: dict[Any, _Partition],
    control: RedriveControl,
) -> None:
    try:
        with contextlib.suppress(Exception):
            await producer.flush()
        await _settle(conn, consumer, state, control, wait=True)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        await _stop(consumer)


async def _stop(consumer: AIOKafkaConsumer) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome
        await consumer.stop()
