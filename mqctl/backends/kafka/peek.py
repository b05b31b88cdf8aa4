"""Reading Kafka messages without side effects.

The consumer has no group id: partitions are assigned directly and positioned by offset, so
nothing joins a group and nothing is committed, ever. The end offsets are taken once at the
start; without ``follow`` reading stops when every selected partition reached its end (like
``kcat -e``), so a busy topic cannot keep a peek running forever.

``read_committed`` (the default) hides records of aborted transactions and takes the last
stable offset as the end (a read_committed consumer never reads past an open transaction);
control records (transaction markers) are never messages in either mode. ``PeekOptions.key``
reads only the partition the key hashes to, and with ``--last N`` searches backwards from the
end of that partition, in growing windows, for the last N records with that key.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.batch_publisher import key_partition
from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.backends.kafka.topics import (
    EARLIEST,
    LATEST,
    cluster_metadata,
    list_offsets,
    watermarks,
)
from mqctl.errors import BrokerError, MqctlError, NotFoundError, UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message, PeekOptions, StartPosition

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

TIMESTAMP_TYPES = {0: "CreateTime", 1: "LogAppendTime"}
POLL_MS = 200
BATCH = 1000  # messages per list from KafkaPeek.batches()
KEY_WINDOW = 1000  # offsets in the first backward window of ``--key K --last N`` (then doubled)
ISOLATION_LEVELS = ("read_committed", "read_uncommitted")


async def topic_partitions(
    conn: KafkaConnection, topic: str, wanted: tuple[int, ...] | None
) -> tuple[Any, list[int]]:
    """(metadata, the selected partitions); unknown topic or partition -> exit 4."""
    metadata = await cluster_metadata(conn)
    available = sorted(metadata.partitions_for_topic(topic) or ())
    if topic not in metadata.topics() or not available:
        raise NotFoundError(
            f"topic {topic!r} not found on Kafka at {conn.settings.address}",
            hint="list topics with `mqctl topics list`",
        )
    if not wanted:
        return metadata, available
    missing = sorted(set(wanted) - set(available))
    if missing:
        raise NotFoundError(
            f"topic {topic!r} has no partition {', '.join(map(str, missing))} "
            f"(partitions 0-{available[-1]})"
        )
    return metadata, sorted(set(wanted))


async def start_offsets(
    conn: KafkaConnection,
    metadata: Any,
    topic: str,
    partitions: list[int],
    start: StartPosition,
    *,
    read_committed: bool = False,
) -> tuple[dict[int, int], dict[int, int]]:
    """(first offset to read, end offset at the start) per partition; ``read_committed``: the
    end is the last stable offset."""
    keys = [(topic, p) for p in partitions]
    if read_committed:  # (the same two requests as watermarks(), LATEST asked for the LSO)
        low, high = await asyncio.gather(
            list_offsets(conn, metadata, keys, EARLIEST),
            list_offsets(conn, metadata, keys, LATEST, read_committed=True),
        )
    else:
        low, high = await watermarks(conn, metadata, keys)
    begin: dict[int, int] = {}
    at_time: dict[tuple[str, int], int] = {}
    if start.kind == "timestamp":
        at_time = await list_offsets(conn, metadata, keys, int(start.value or 0))
    for p in partitions:
        first, end = low[(topic, p)], high[(topic, p)]
        if start.kind == "beginning":
            offset = first
        elif start.kind == "end":
            offset = end
        elif start.kind == "offset":
            offset = min(max(int(start.value or 0), first), end)
        elif start.kind == "last":
            offset = max(first, end - int(start.value or 1))
        elif start.kind == "timestamp":
            found = at_time[(topic, p)]
            offset = end if found < 0 else found  # -1: nothing at or after that time
        else:
            raise UsageError(f"unknown start position {start.kind!r}")
        begin[p] = offset
    return begin, {p: high[(topic, p)] for p in partitions}


def consumer_for(conn: KafkaConnection, isolation: str = "read_uncommitted") -> AIOKafkaConsumer:
    from aiokafka import AIOKafkaConsumer

    options = client_options(conn.settings, conn.timeout)
    return AIOKafkaConsumer(
        **options,
        group_id=None,  # never a group: nothing joins, nothing is committed
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # data deleted by retention under us: go on from start
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        isolation_level=isolation,
    )


_TIMES: dict[int, datetime] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp(ms: int | None) -> datetime | None:
    """Milliseconds -> datetime; the messages of a batch share few timestamps: cached."""
    if ms is None or ms < 0:
        return None
    found = _TIMES.get(ms)
    if found is None:
        if len(_TIMES) >= 4096:
            _TIMES.clear()
        # exact milliseconds (a float division can land a microsecond below the ms, and an
        # ISO time with milliseconds would then be a millisecond early when read back)
        found = _TIMES[ms] = _EPOCH + timedelta(milliseconds=ms)
    return found


def to_message(record: Any) -> Message:
    return Message(
        "kafka",
        record.topic,
        record.value,
        record.key,
        list(record.headers),
        record.partition,
        record.offset,
        _timestamp(record.timestamp),
        TIMESTAMP_TYPES.get(record.timestamp_type),
    )


class KafkaPeek:
    """What :func:`peek` returns: an async iterator of messages (the ``MessageReader``
    contract) that also offers :meth:`batches`, the messages of each fetch as one list (for
    callers that write many messages at once: one async step per fetch, not per message).
    Use one or the other; ``aclose`` stops the consumer either way."""

    def __init__(self, records: AsyncGenerator[list[Any], None]) -> None:
        self._records = records
        self._pending: list[Any] = []
        self._index = 0

    def __aiter__(self) -> KafkaPeek:
        return self

    async def __anext__(self) -> Message:
        while self._index >= len(self._pending):
            self._pending = await self._records.__anext__()  # StopAsyncIteration at the end
            self._index = 0
        record = self._pending[self._index]
        self._index += 1
        return to_message(record)

    async def batches(self) -> AsyncIterator[list[Message]]:
        try:
            async for records in self._records:
                # In slices: a peek that stops after a few messages converts few extra.
                for first in range(0, len(records), BATCH):
                    yield [to_message(record) for record in records[first : first + BATCH]]
        finally:
            await self._records.aclose()

    async def aclose(self) -> None:
        await self._records.aclose()


def peek(conn: KafkaConnection, destination: Destination, options: PeekOptions) -> KafkaPeek:
    return KafkaPeek(_fetches(conn, destination, options))


async def _fetches(
    conn: KafkaConnection, destination: Destination, options: PeekOptions
) -> AsyncGenerator[list[Any], None]:
    """The records of each fetch (never empty lists), cut at the end offsets unless following."""
    from aiokafka.structs import TopicPartition

    topic = destination.name
    if options.isolation not in ISOLATION_LEVELS:
        raise UsageError(
            f"--isolation {options.isolation!r}: choose from {', '.join(ISOLATION_LEVELS)}"
        )
    metadata, partitions = await topic_partitions(conn, topic, options.partitions)
    if options.key is not None and not options.partitions:
        partitions = [key_partition(options.key, partitions)]
    read_committed = options.isolation == "read_committed"
    keyed_last = options.key is not None and options.start.kind == "last"
    start = StartPosition("beginning") if keyed_last else options.start
    begin, end = await start_offsets(
        conn, metadata, topic, partitions, start, read_committed=read_committed
    )
    follow = options.follow
    if keyed_last and not any(begin[p] < end[p] for p in partitions) and not follow:
        return
    pending = set() if keyed_last else {p for p in partitions if begin[p] < end[p]}
    if not follow and not pending and not keyed_last:
        return
    consumer = consumer_for(conn, options.isolation)
    try:
        await conn.call(consumer.start(), "consumer start")
        tps = {p: TopicPartition(topic, p) for p in partitions}
        consumer.assign(list(tps.values()))
        if keyed_last:
            assert options.key is not None
            count = int(options.start.value or 1)
            for p, tp in tps.items():
                found = await _last_with_key(
                    conn, consumer, tp, begin[p], end[p], options.key, count, options.idle_timeout
                )
                if found:
                    yield found
            begin = dict(end)  # following goes on from the end
            if not follow:
                return
        for p, tp in tps.items():
            consumer.seek(tp, begin[p])
        last_data = time.monotonic()
        while follow or pending:
            batch = await _fetch(conn, consumer, topic)
            if batch:
                last_data = time.monotonic()
            for tp, records in batch.items():
                if not follow and records and records[-1].offset >= end[tp.partition]:
                    stop = end[tp.partition]
                    records = [record for record in records if record.offset < stop]
                if records:
                    yield records
            if follow:
                continue
            await _drop_finished(consumer, tps, end, pending)
            # Safety net only (a partition whose position never reaches the end offset taken
            # at the start): a slow, busy broker must not cut a peek short, hence the timeout.
            if pending and time.monotonic() - last_data > max(options.idle_timeout, conn.timeout):
                break
    finally:
        # Shielded so that Ctrl-C (a cancellation) still closes the consumer cleanly.
        await asyncio.shield(_stop(consumer))


async def _last_with_key(
    conn: KafkaConnection,
    consumer: AIOKafkaConsumer,
    tp: Any,
    low: int,
    end: int,
    key: bytes,
    count: int,
    idle_timeout: float,
) -> list[Any]:
    """The last ``count`` records of one partition whose key is ``key``, oldest first.

    Reads windows of offsets backwards from ``end`` (each twice the size of the previous,
    so a rare key costs O(log n) fetch rounds, not one per window) until ``count`` matches
    are found or the start of the partition is reached. Only matching records are kept."""
    found: list[Any] = []
    window = KEY_WINDOW
    stop = end
    while stop > low and len(found) < count:
        first = max(low, stop - window)
        matches = [
            record
            async for record in _window(conn, consumer, tp, first, stop, idle_timeout)
            if record.key == key
        ]
        found = matches + found
        stop = first
        window = min(window * 2, 1_000_000)
    return found[-count:]


async def _window(
    conn: KafkaConnection,
    consumer: AIOKafkaConsumer,
    tp: Any,
    first: int,
    stop: int,
    idle_timeout: float,
) -> AsyncIterator[Any]:
    """The records of offsets ``first`` (inclusive) to ``stop`` (exclusive) of one partition."""
    consumer.seek(tp, first)
    last_data = time.monotonic()
    while await consumer.position(tp) < stop:
        batch = await _fetch(conn, consumer, tp.topic)
        if batch:
            last_data = time.monotonic()
        elif time.monotonic() - last_data > max(idle_timeout, conn.timeout):
            break  # (the same safety net as the forward read)
        for record in batch.get(tp, ()):
            if record.offset >= stop:
                return
            yield record


async def _fetch(conn: KafkaConnection, consumer: AIOKafkaConsumer, topic: str) -> Any:
    try:
        return await conn.call(consumer.getmany(timeout_ms=POLL_MS), "fetch")
    except MqctlError as exc:
        if not isinstance(exc.__cause__, UnicodeDecodeError):
            raise
        # Kafka header names are UTF-8 strings; a producer that wrote other bytes there
        # (kcat can) leaves a record aiokafka refuses to parse (the Java client replaces the
        # bytes). Say so, instead of a bare codec error.
        raise BrokerError(
            f"topic {topic!r} has a record with a header name that is not UTF-8, which the "
            "Kafka client library (aiokafka) cannot read",
            hint="--partition/--offset can skip past it",
        ) from exc


async def _drop_finished(
    consumer: AIOKafkaConsumer, tps: dict[int, Any], end: dict[int, int], pending: set[int]
) -> None:
    for p in list(pending):
        if await consumer.position(tps[p]) >= end[p]:
            pending.discard(p)
            consumer.pause(tps[p])


async def _stop(consumer: AIOKafkaConsumer) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome of the peek
        await consumer.stop()
