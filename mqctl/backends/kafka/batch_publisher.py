"""Record batches per partition and the task that hands them to aiokafka (see publish_batch).

:class:`BatchPublisher` routes a message to the open batch of its partition (explicit, by key
with aiokafka's ``DefaultPartitioner``, or sticky for keyless messages), closes batches when they
are full or have lingered while the input is idle, and submits closed ones in order with
``producer.send_batch()``. :class:`Batch` follows one batch to the broker's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from mqctl.models.messages import HeaderValue, OutgoingMessage, PublishResult

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from aiokafka.producer.message_accumulator import BatchBuilder

LINGER: Final = 0.005  # seconds an open batch may wait for more messages while the input is idle
MAX_UNCONFIRMED: Final = 12  # closed batches (queued + in flight) before the input is paused
YIELD_MASK = 511  # run the event loop once every 512 messages (an input that never waits)
KEY_CACHE: Final = 4096  # keys whose partition is remembered (murmur2 in Python costs ~3 µs)
Headers = list[tuple[str, bytes | None]]  # None: a null header value (Kafka allows it)
NO_HEADERS: Final[Headers] = []
# A run: (batch, index of its first message, that message's position in the batch, count).
Run = tuple["Batch", int, int, int]
# What summaries need: (messages confirmed, results of the messages that failed).
Tally = tuple[int, list[PublishResult]]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def header_bytes(value: HeaderValue) -> bytes | None:
    """A header value as Kafka carries it: bytes, or None for a null value (kept: it is not
    an empty value). Typed values (from JSON lines or AMQP) go as compact JSON text."""
    if isinstance(value, bytes):
        return value
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, datetime):
        return value.isoformat().encode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def timestamp_ms(message: OutgoingMessage) -> int | None:
    """The record's CreateTime in epoch ms (``publish --keep-timestamps``), or None: now."""
    when = message.timestamp
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _MILLISECOND


def error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name


class Batch:
    """One record batch for one partition, from its first message to the broker's answer."""

    __slots__ = ("_waiter", "base", "builder", "closed", "created", "done", "error", "partition")

    def __init__(self, partition: int, builder: BatchBuilder | None) -> None:
        self.partition = partition
        self.builder = builder  # None once handed to the producer (or for refused messages)
        self.closed = builder is None
        self.created = time.monotonic()
        self.done = False
        self.base = 0  # offset of the batch's first record, once acknowledged
        self.error: str | None = None
        self._waiter: asyncio.Future[None] | None = None

    @classmethod
    def refused(cls, error: str) -> Batch:
        """A stand-in batch for messages refused before sending (all fail with ``error``)."""
        batch = cls(-1, None)
        batch.finish(None, error)
        return batch

    def finish(self, base: int | None, error: str | None) -> None:
        if self.done:
            return
        self.done = True
        self.base = base if base is not None else 0
        self.error = error if error is not None or base is not None else "no answer from Kafka"
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def delivered(self, future: asyncio.Future[Any]) -> None:
        """Done callback of ``send_batch``'s future (a RecordMetadata with the base offset)."""
        if future.cancelled():
            self.finish(None, "CancelledError: the batch was not sent")
            return
        exc = future.exception()
        if exc is not None:
            self.finish(None, error_text(exc))
        else:
            self.finish(future.result().offset, None)

    async def wait(self) -> None:
        if not self.done:
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter


def key_partition(key: bytes, partitions: list[int]) -> int:
    """The partition a keyed record goes to with the producers' default partitioner: murmur2
    of the key bytes, made positive, modulo the partition count (aiokafka's
    ``DefaultPartitioner``, identical to the Java client). Publish routes by it and
    ``peek --key`` reads only that partition: one function, so they cannot disagree."""
    from aiokafka.partitioner import DefaultPartitioner

    ordered = sorted(partitions)
    return int(DefaultPartitioner()(key, ordered, ordered))


class BatchPublisher:
    """Routes messages into open batches and submits closed ones in order from one task."""

    def __init__(
        self,
        producers: list[AIOKafkaProducer],
        topic: str,
        partitions: list[int],
        available: list[int],
        default_partition: int | None,
        max_size: int,
    ) -> None:
        from aiokafka.record.default_records import DefaultRecordBatchBuilder

        self.producer = producers[0]  # creates the batches (all producers share the config)
        self.topic = topic
        self.partitions = sorted(partitions)
        # Each partition is sent by one producer: its batches keep their order and sequence.
        self.owners = {p: producers[i % len(producers)] for i, p in enumerate(self.partitions)}
        self.known = frozenset(self.partitions)
        self.available = sorted(available) or self.partitions
        self.default_partition = default_partition
        self.estimate: Callable[[bytes | None, bytes | None, Headers], int] = (
            DefaultRecordBatchBuilder.estimate_size_in_bytes
        )
        self.max_size = max_size
        self.open: dict[int, Batch] = {}  # partition -> the batch being filled
        self.sticky: Batch | None = None  # where messages without key and partition go
        self.turn = random.randrange(len(self.available))  # index in available of the last one
        self.queue: deque[Batch] = deque()  # closed, waiting for send_batch (in order)
        self.unconfirmed: deque[Batch] = deque()  # closed, no answer yet (in order)
        self.keys: dict[bytes, int] = {}
        self.refusals: dict[str, Batch] = {}
        self.busy = False  # the input is not idle: do not close batches for lingering
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- routing ---------------------------------------------------------------------------

    def route(self, message: OutgoingMessage) -> tuple[Batch, Headers, bool]:
        """(batch, headers as bytes, sticky?) for a message; a refused batch if it can't go."""
        key, value = message.key, message.value
        headers = (
            [(k, header_bytes(v)) for k, v in message.headers] if message.headers else NO_HEADERS
        )
        size = (len(value) if value is not None else 0) + (len(key) if key is not None else 0)
        if headers or size > self.max_size - 1024:
            estimate = self.estimate(key, value, headers)
            if estimate > self.max_size:
                return self.refuse(
                    f"MessageSizeTooLargeError: the message is {estimate} bytes when serialized, "
                    f"more than the {self.max_size} bytes allowed"
                ), headers, False  # fmt: skip
        partition = message.partition
        if partition is None:
            partition = self.default_partition
        if partition is None:
            if key is None:
                return self.sticky or self.next_sticky(), headers, True
            partition = self.partition_for_key(key)
        elif partition not in self.known:
            return self.refuse(
                f"UnknownPartition: topic {self.topic!r} has no partition {partition} "
                f"(partitions {self.partitions[0]}-{self.partitions[-1]})"
            ), headers, False  # fmt: skip
        return self.open.get(partition) or self.new_batch(partition), headers, False

    def partition_for_key(self, key: bytes) -> int:
        partition = self.keys.get(key)
        if partition is None:
            partition = key_partition(key, self.partitions)
            if len(self.keys) >= KEY_CACHE:
                self.keys.clear()
            self.keys[key] = partition
        return partition

    def refuse(self, error: str) -> Batch:
        batch = self.refusals.get(error)
        if batch is None:
            batch = self.refusals[error] = Batch.refused(error)
        return batch

    # --- batches ---------------------------------------------------------------------------

    def new_batch(self, partition: int) -> Batch:
        batch = Batch(partition, self.producer.create_batch())
        self.open[partition] = batch
        self._wakeup.set()  # the submitter times its lingering
        return batch

    def next_sticky(self) -> Batch:
        """Messages without key and partition: the next available partition in turn (so that
        each produce request can carry a batch for every partition), its open batch or a new
        one."""
        self.turn = (self.turn + 1) % len(self.available)
        partition = self.available[self.turn]
        batch = self.open.get(partition)
        self.sticky = batch if batch is not None else self.new_batch(partition)
        return self.sticky

    def overflow(
        self,
        full: Batch,
        sticky: bool,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        timestamp: int | None = None,
    ) -> tuple[Batch, int]:
        """``full`` refused the message: send it, put the message into the next batch (an open
        one of another partition for a sticky message, else a new one) and return that batch
        and the message's position in it."""
        self.close(full)
        batch = self.next_sticky() if sticky else self.new_batch(full.partition)
        builder = batch.builder
        assert builder is not None
        if builder.append(timestamp=timestamp, key=key, value=value, headers=headers) is None:
            self.close(batch)  # that open batch was full too: an empty one takes any message
            batch = self.new_batch(batch.partition)
            if sticky:
                self.sticky = batch
            builder = batch.builder
            assert builder is not None
            builder.append(timestamp=timestamp, key=key, value=value, headers=headers)
        return batch, builder.record_count() - 1

    def close(self, batch: Batch) -> None:
        """No more messages for ``batch``: queue it for sending."""
        if batch.closed:
            return
        batch.closed = True
        if self.open.get(batch.partition) is batch:
            del self.open[batch.partition]
        if self.sticky is batch:
            self.sticky = None
        builder = batch.builder
        assert builder is not None
        if builder.record_count() == 0:  # nothing was appended: nothing to send
            batch.builder = None
            batch.finish(0, None)
            return
        builder.close()
        self.queue.append(batch)
        self.unconfirmed.append(batch)
        self._wakeup.set()

    def close_all(self) -> None:
        for batch in list(self.open.values()):
            self.close(batch)

    async def pause(self) -> None:
        """Let the submitter and the producer run; wait if too much is unconfirmed."""
        unconfirmed = self.unconfirmed
        while unconfirmed and unconfirmed[0].done:
            unconfirmed.popleft()
        self.busy = True
        try:
            if len(unconfirmed) >= MAX_UNCONFIRMED:
                await unconfirmed[0].wait()
            else:
                await asyncio.sleep(0)
        finally:
            self.busy = False

    async def wait_for(self, batch: Batch) -> None:
        """Wait for ``batch``'s answer, sending it first if it is still open."""
        self.close(batch)
        self.busy = True
        try:
            await batch.wait()
        finally:
            self.busy = False

    # --- the submitter task ----------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._submit())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self.queue:  # only when the caller stopped early: batches never handed over
            batch = self.queue.popleft()
            batch.builder = None
            batch.finish(None, "CancelledError: the publish was stopped")

    async def _submit(self) -> None:
        queue, owners, topic = self.queue, self.owners, self.topic
        while True:
            if not queue:
                await self._idle()
                continue
            batch = queue[0]
            try:
                producer = owners[batch.partition]
                future = await producer.send_batch(batch.builder, topic, partition=batch.partition)
            except asyncio.CancelledError:
                batch.finish(None, "CancelledError: the publish was stopped")
                raise
            except Exception as exc:  # closed producer, timeout waiting for the queue slot
                batch.finish(None, error_text(exc))
            else:
                future.add_done_callback(batch.delivered)
            finally:
                queue.popleft()
                batch.builder = None

    async def _idle(self) -> None:
        """Wait for the next closed batch; close batches left open while the input is idle."""
        self._wakeup.clear()
        if not self.open:
            await self._wakeup.wait()
            return
        oldest = min(batch.created for batch in self.open.values())
        delay = oldest + LINGER - time.monotonic()
        if delay <= 0 and self.busy:
            delay = LINGER
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, delay)):
                await self._wakeup.wait()
            return
        if self.busy:  # the input is being read: batches fill up (or are closed at the end)
            return
        now = time.monotonic()
        for batch in list(self.open.values()):
            if now - batch.created >= LINGER:
                self.close(batch)
