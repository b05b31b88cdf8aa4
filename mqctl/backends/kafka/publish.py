"""Publishing to Kafka with acks=all and an idempotent producer (no duplicates on retry).

Messages are appended into record batches built here (one per partition) and handed to the
producer with ``send_batch()``: see :mod:`mqctl.backends.kafka.publish_batch`. Every message still
gets its own result, in input order, after the broker acknowledged its batch, with the partition
and offset it was written at.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.aiokafka_internals import fast_produce, set_batch_size
from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.backends.kafka.publish_batch import BatchedPublish
from mqctl.backends.kafka.publish_batch import header_bytes as header_bytes
from mqctl.errors import MqctlError, NotFoundError, UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
# Record batches: as large as the topic's max.message.bytes allows, up to MAX_BATCH_SIZE (like
# librdkafka's batch.size). aiokafka keeps one produce request in flight per broker, carrying one
# batch per partition, so the batch size sets the throughput; 1 MB batches halve the requests of
# 512 KiB ones. DEFAULT_BATCH_SIZE when the topic's configs can't be read.
MAX_BATCH_SIZE = 1_000_000
DEFAULT_BATCH_SIZE = 512 * 1024
MAX_REQUEST_SIZE = 8 * 1024 * 1024
# Producers (each its own connection and producer id) that a publish to a topic with several
# partitions spreads its partitions over: aiokafka keeps one produce request in flight per
# connection, so one producer waits for the broker about half of the time.
MAX_PRODUCERS = 4
METADATA_MAX_AGE = 10.0  # seconds: the metadata read to resolve the name counts the partitions


def producer_for(
    conn: KafkaConnection, compression: str | None, batch_size: int = DEFAULT_BATCH_SIZE
) -> AIOKafkaProducer:
    from aiokafka import AIOKafkaProducer

    codec = None if compression in (None, "none") else compression
    if codec is not None and codec not in COMPRESSION:
        raise UsageError(f"--compression {compression!r}: choose from {', '.join(COMPRESSION)}")
    try:
        producer = AIOKafkaProducer(
            **client_options(conn.settings, conn.timeout),
            acks="all",
            enable_idempotence=True,
            compression_type=codec,
            linger_ms=5,
            max_batch_size=batch_size,
            max_request_size=MAX_REQUEST_SIZE,
        )
    except RuntimeError as exc:  # "Compression library for lz4 not found"
        raise UsageError(f"--compression {codec}: {exc}") from None
    fast_produce(producer)  # its record batches go to the socket without aiokafka's copies
    return producer


def publish(
    conn: KafkaConnection,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage],
    options: PublishOptions,
) -> BatchedPublish:
    """One result per message in input order (or tallies, see :class:`BatchedPublish`); the
    producer is created and started when iteration begins."""
    topic = destination.name

    def new(count: int, size: int = MAX_BATCH_SIZE) -> list[AIOKafkaProducer]:
        return [producer_for(conn, options.compression, size) for _ in range(count)]

    async def start() -> tuple[list[AIOKafkaProducer], int]:
        # Every round trip of the start at once (they were one after the other, the loop idle):
        # the topic's max.message.bytes, and each producer's connections, producer id and
        # metadata of the topic. As many producers as the topic has partitions (up to
        # MAX_PRODUCERS), counted in the metadata the name's resolution just read.
        count = 1 if options.partition is not None else await _producer_count(conn, topic)
        producers = new(count)
        try:
            limit, partitions = await conn.call(
                _start_all(conn, topic, producers), "producer start"
            )
            if options.partition is not None and options.partition not in partitions:
                # every message would fail: the partition does not exist (exit 4, not 5)
                raise NotFoundError(
                    f"topic {topic!r} has no partition {options.partition} "
                    f"(partitions {min(partitions)}-{max(partitions)})"
                )
            # (a little below the limit: compressing incompressible data adds a few bytes)
            size = DEFAULT_BATCH_SIZE if limit is None else min(limit - limit // 32, MAX_BATCH_SIZE)
            if size != MAX_BATCH_SIZE and not all(set_batch_size(p, size) for p in producers):
                await _stop(producers)  # (never without the seam: the pinned aiokafka has it)
                producers = new(len(producers), size)
                await conn.call(_start_all(conn, topic, producers), "producer start")
            wanted = 1 if options.partition is not None else min(len(partitions), MAX_PRODUCERS)
            while len(producers) > max(wanted, 1):  # the topic has fewer partitions than counted
                await _stop([producers.pop()])
            if len(producers) < wanted:  # (its metadata was not at hand)
                extra = new(wanted - len(producers), size)
                producers += extra
                await conn.call(_start_all(conn, topic, extra), "producer start")
        except BaseException:
            await asyncio.shield(_stop(producers))
            raise
        # A message the broker would refuse is refused here, before sending: a refused batch
        # leaves a gap in the idempotent producer's sequence numbers that fails the partition's
        # next batches too (aiokafka does not take the numbers back). With compression, the
        # broker judges the compressed size: only the request size is checked here.
        if limit is None or options.compression not in (None, "none"):
            return producers, MAX_REQUEST_SIZE
        return producers, min(limit, MAX_REQUEST_SIZE)

    return BatchedPublish(start, _stop, topic, messages, options.partition)


async def _producer_count(conn: KafkaConnection, topic: str) -> int:
    """Producers for a publish to ``topic``: one per partition up to MAX_PRODUCERS, counted in
    the cluster metadata the connection read moments ago (when it resolved the name)."""
    from mqctl.backends.kafka.topics import cluster_metadata

    metadata = await cluster_metadata(conn, max_age=METADATA_MAX_AGE)
    partitions = metadata.partitions_for_topic(topic) or ()
    return max(1, min(len(partitions), MAX_PRODUCERS))


async def _start_all(
    conn: KafkaConnection, topic: str, producers: list[AIOKafkaProducer]
) -> tuple[int | None, set[int]]:
    """Start ``producers`` and read the topic's max.message.bytes, all at once; the limit and
    the topic's partitions (every producer has the topic's metadata when this returns)."""

    async def started(producer: AIOKafkaProducer) -> set[int]:
        await producer.start()
        partitions: set[int] = await producer.partitions_for(topic)
        return partitions

    tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(max_message_bytes(conn, topic))]
    tasks += [asyncio.ensure_future(started(producer)) for producer in producers]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:  # cancelled (the caller's timeout): the starts with it
        for task in tasks:
            task.cancel()
        raise
    errors = [error for error in (task.exception() for task in done) if error is not None]
    if errors:  # the first failure is the answer; the starts still running end first
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        raise errors[0]
    limit: int | None = tasks[0].result()
    partitions: set[int] = tasks[1].result()
    return limit, partitions


async def max_message_bytes(conn: KafkaConnection, topic: str) -> int | None:
    """The topic's max.message.bytes (the largest record batch it accepts), if it can be read."""
    from mqctl.backends.kafka.topics import describe_configs

    try:
        configs = await describe_configs(conn, topic)
    except MqctlError:  # no permission to describe configs, ...: the publish finds out the rest
        return None
    for entry in configs:
        if entry.name == "max.message.bytes" and entry.value and entry.value.isdigit():
            return max(int(entry.value), 1024)
    return None


async def _stop(producers: list[AIOKafkaProducer]) -> None:
    async def stop(producer: AIOKafkaProducer) -> None:
        with contextlib.suppress(Exception):  # closing must never hide the outcome of the publish
            await producer.stop()

    await asyncio.gather(*(stop(producer) for producer in producers))
