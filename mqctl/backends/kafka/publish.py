"""Publishing to Kafka with acks=all and an idempotent producer (no duplicates on retry).

Sends are pipelined: up to ``WINDOW`` messages are in flight, and results are yielded in
input order as soon as the oldest is acknowledged, so a publish of a million messages keeps
the producer's batches full while still reporting every message's partition and offset.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.connection import KafkaConnection, client_options
from mqctl.errors import UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import HeaderValue, OutgoingMessage, PublishOptions, PublishResult

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
WINDOW = 20_000


def header_bytes(value: HeaderValue) -> bytes:
    if isinstance(value, bytes):
        return value
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return str(value).encode("utf-8")


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
            max_batch_size=512 * 1024,
            max_request_size=8 * 1024 * 1024,
        )
    except RuntimeError as exc:  # "Compression library for lz4 not found"
        raise UsageError(f"--compression {codec}: {exc}") from None


def _error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name


def _failed(exc: BaseException) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_exception(exc)
    return future


async def _result(index: int, future: asyncio.Future[Any]) -> PublishResult:
    try:
        metadata = await future
    except Exception as exc:
        return PublishResult(index, False, error=_error(exc))
    return PublishResult(index, True, partition=metadata.partition, offset=metadata.offset)


async def publish(
    conn: KafkaConnection,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage],
    options: PublishOptions,
) -> AsyncIterator[PublishResult]:
    topic = destination.name
    producer = producer_for(conn, options.compression)
    in_flight: deque[tuple[int, asyncio.Future[Any]]] = deque()
    try:
        await conn.call(producer.start(), "producer start")
        index = 0
        async for message in messages:
            partition = message.partition if message.partition is not None else options.partition
            headers = [(k, header_bytes(v)) for k, v in message.headers]
            try:
                future = await producer.send(
                    topic,
                    value=message.value,
                    key=message.key,
                    partition=partition,
                    headers=headers or None,
                )
            except Exception as exc:  # refused before sending (too large, bad partition)
                future = _failed(exc)
            in_flight.append((index, future))
            index += 1
            while in_flight and (in_flight[0][1].done() or len(in_flight) >= WINDOW):
                yield await _result(*in_flight.popleft())
        while in_flight:
            yield await _result(*in_flight.popleft())
    finally:
        for _, future in in_flight:  # the caller stopped early: results nobody will read
            if future.done() and not future.cancelled():
                future.exception()
        await asyncio.shield(_stop(producer))


async def _stop(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):  # closing must never hide the outcome of the publish
        await producer.stop()
