"""Reading offset ranges of Kafka partitions without side effects (no group, no commit).

Used by the DLQ plan/redrive and by the redrive ledger. A range ends at an offset taken before
reading, so a topic that keeps growing cannot keep a scan going; gaps (compaction, aborted
transactions) are handled by asking the consumer's position rather than counting records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.errors import BrokerTimeout

POLL_MS = 200
MAX_POLL_RECORDS = 2000


async def scan(
    conn: KafkaConnection, ranges: dict[tuple[str, int], tuple[int, int]]
) -> AsyncGenerator[list[Any], None]:
    """The raw records in [start, stop) of each (topic, partition), one fetch at a time, each
    partition in offset order. Ends when every partition reached its stop offset, or when no
    record arrived for the connection timeout: then BrokerTimeout (exit 3), never a silent
    short read."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    wanted = {TopicPartition(t, p): r for (t, p), r in ranges.items() if r[0] < r[1]}
    if not wanted:
        return
    consumer = AIOKafkaConsumer(
        **client_options(conn.settings, conn.timeout),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        max_poll_records=MAX_POLL_RECORDS,
    )
    try:
        await conn.call(consumer.start(), "consumer start")
        consumer.assign(list(wanted))
        for tp, (start, _) in wanted.items():
            consumer.seek(tp, start)
        pending = set(wanted)
        last_data = time.monotonic()
        while pending:
            batch = await conn.call(consumer.getmany(*pending, timeout_ms=POLL_MS), "fetch")
            for tp, records in batch.items():
                stop = wanted[tp][1]
                inside = [r for r in records if r.offset < stop]
                if inside:
                    yield inside
                    last_data = time.monotonic()  # the caller's time is not the broker's
            for tp in list(pending):
                if await consumer.position(tp) >= wanted[tp][1]:
                    pending.discard(tp)
                    consumer.pause(tp)
            if pending and time.monotonic() - last_data > max(2.0, conn.timeout):
                names = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in pending))
                raise BrokerTimeout(
                    f"Kafka at {conn.settings.address} returned no more records of {names} "
                    f"before the end offsets taken at the start"
                )
    finally:
        await asyncio.shield(_stop(consumer))


async def _stop(consumer: Any) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome
        await consumer.stop()
