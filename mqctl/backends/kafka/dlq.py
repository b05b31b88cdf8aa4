"""Kafka dead-letter topics: discovery by name and by headers, and redrive.

Discovery reads a few records with one group-less consumer (nothing is committed): the first
records of topics whose names match a DLQ pattern (for reasons and the oldest age), and the
last record of every other partition, whose headers reveal Spring/Connect/x-death DLQs.

The redrive itself (plan, ledger, lease) is in :mod:`mqctl.backends.kafka.dlq_redrive`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.backends.kafka.peek import to_message
from mqctl.backends.kafka.topics import cluster_metadata, is_internal, watermarks
from mqctl.dlq import discovery
from mqctl.dlq.metadata import has_dead_letter_headers
from mqctl.dlq.models import Candidate
from mqctl.models.messages import Message

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

SAMPLE_PER_PARTITION = 20
MAX_PROBED_PARTITIONS = 500
POLL_MS = 200


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


async def _stop(consumer: AIOKafkaConsumer) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome
        await consumer.stop()
