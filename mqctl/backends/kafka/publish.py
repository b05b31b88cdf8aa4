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
from typing import TYPE_CHECKING

from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.backends.kafka.publish_batch import BatchedPublish
from mqctl.backends.kafka.publish_batch import header_bytes as header_bytes
from mqctl.errors import UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
MAX_BATCH_SIZE = 512 * 1024  # below the broker's default message.max.bytes (1 MiB)
MAX_REQUEST_SIZE = 8 * 1024 * 1024


def producer_for(conn: KafkaConnection, compression: str | None) -> AIOKafkaProducer:
    from aiokafka import AIOKafkaProducer

    codec = None if compression in (None, "none") else compression
    if codec is not None and codec not in COMPRESSION:
        raise UsageError(f"--compression {compression!r}: choose from {', '.join(COMPRESSION)}")
    try:
        return AIOKafkaProducer(
            **client_options(conn.settings, conn.timeout),
            acks="all",
            enable_idempotence=True,
            compression_type=codec,
            linger_ms=5,
            max_batch_size=MAX_BATCH_SIZE,
            max_request_size=MAX_REQUEST_SIZE,
        )
    except RuntimeError as exc:  # "Compression library for lz4 not found"
        raise UsageError(f"--compression {codec}: {exc}") from None


def publish(
    conn: KafkaConnection,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage],
    options: PublishOptions,
) -> BatchedPublish:
    """One result per message in input order (or tallies, see :class:`BatchedPublish`); the
    producer is created and started when iteration begins."""
    topic = destination.name

    async def start() -> AIOKafkaProducer:
        producer = producer_for(conn, options.compression)
        try:
            await conn.call(producer.start(), "producer start")
            await conn.call(producer.partitions_for(topic), "metadata request")
        except BaseException:
            await asyncio.shield(_stop(producer))
            raise
        return producer

    return BatchedPublish(start, _stop, topic, messages, options.partition, MAX_REQUEST_SIZE)


async def _stop(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome of the publish
        await producer.stop()
