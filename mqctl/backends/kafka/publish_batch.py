"""Kafka publishing through aiokafka's batch API: record batches built here, one per partition.

aiokafka's per-message ``send()`` costs ~20 µs (partitioner call, accumulator, a future and a
metadata object per message). Here messages are appended straight into a ``BatchBuilder`` per
partition (``producer.create_batch()``); a full batch is handed to ``producer.send_batch()``,
which keeps the producer's guarantees: acks=all, the idempotent producer's sequence numbers and
retries, and at most one batch per partition queued behind the one in flight, so the order within
a partition is the order of the input. A message's offset is the batch's base offset (from the
broker's answer) plus its position in the batch. The partitions are spread over a few producers
(each with its own connection: aiokafka keeps one request in flight per connection); a partition
is always sent by the same one. Plain stdin lines (no key, partition or headers) are appended in
bulk, a chunk of values at a time (:func:`fill`), without an object per message.

Partitions: an explicit partition (the message's, else ``--partition``) is used as given (an
unknown one fails that message); a keyed message goes where aiokafka's ``DefaultPartitioner``
(murmur2, identical to the Java client) puts it; messages without a key stick to one partition
until its batch is full, then move on to another available partition (the Java client's sticky
partitioner, KIP-480), so keyless bulk loads fill whole batches.

Results come in input order, each only after its batch was acknowledged (or failed), as *runs*:
consecutive messages that went into the same batch. :class:`BatchedPublish` turns them into one
:class:`PublishResult` per message, or into counts for callers that only need a summary. Batches
are closed when full, when the input pauses for longer than ``LINGER`` (so a slow or rate-limited
input is still sent promptly), and at the end of the input.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

from mqctl.models.messages import HeaderValue, OutgoingMessage, PublishResult

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from aiokafka.producer.message_accumulator import BatchBuilder

LINGER: Final = 0.005  # seconds an open batch may wait for more messages while the input is idle
MAX_UNCONFIRMED: Final = 12  # closed batches (queued + in flight) before the input is paused
YIELD_MASK = 511  # run the event loop once every 512 messages (an input that never waits)
KEY_CACHE: Final = 4096  # keys whose partition is remembered (murmur2 in Python costs ~3 µs)
Headers = list[tuple[str, bytes]]
_NO_HEADERS: Final[Headers] = []
# A run: (batch, index of its first message, that message's position in the batch, count).
Run = tuple["Batch", int, int, int]
# What summaries need: (messages confirmed, results of the messages that failed).
Tally = tuple[int, list[PublishResult]]


def header_bytes(value: HeaderValue) -> bytes:
    if isinstance(value, bytes):
        return value
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return str(value).encode("utf-8")


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
        from aiokafka.partitioner import DefaultPartitioner
        from aiokafka.record.default_records import DefaultRecordBatchBuilder

        self.producer = producers[0]  # creates the batches (all producers share the config)
        self.topic = topic
        self.partitions = sorted(partitions)
        # Each partition is sent by one producer: its batches keep their order and sequence.
        self.owners = {p: producers[i % len(producers)] for i, p in enumerate(self.partitions)}
        self.known = frozenset(self.partitions)
        self.available = sorted(available) or self.partitions
        self.default_partition = default_partition
        self.partitioner: Callable[[bytes | None, list[int], list[int]], int] = DefaultPartitioner()
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
            [(k, header_bytes(v)) for k, v in message.headers] if message.headers else _NO_HEADERS
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
            partition = self.partitioner(key, self.partitions, self.available)
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
        self, full: Batch, sticky: bool, key: bytes | None, value: bytes | None, headers: Headers
    ) -> tuple[Batch, int]:
        """``full`` refused the message: send it, put the message into the next batch (an open
        one of another partition for a sticky message, else a new one) and return that batch
        and the message's position in it."""
        self.close(full)
        batch = self.next_sticky() if sticky else self.new_batch(full.partition)
        builder = batch.builder
        assert builder is not None
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            self.close(batch)  # that open batch was full too: an empty one takes any message
            batch = self.new_batch(batch.partition)
            if sticky:
                self.sticky = batch
            builder = batch.builder
            assert builder is not None
            builder.append(timestamp=None, key=key, value=value, headers=headers)
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


def fill(builder: BatchBuilder, values: list[bytes], start: int) -> int:
    """Append ``values[start:]`` (no key, no headers, the current time) to ``builder`` until it
    is full; return how many went in. Calls the record batch builder under aiokafka's
    ``BatchBuilder.append`` directly (half the cost per message): the CRC, the producer id and
    the sequence numbers are still set by the builder when the producer sends the batch."""
    inner = getattr(builder, "_builder", None)
    offset = getattr(builder, "_relative_offset", None)
    if inner is None or not isinstance(offset, int) or builder.closed():
        return _fill_public(builder, values, start)
    append = inner.append
    index = start
    headers: Headers = []
    for value in itertools.islice(values, start, None):
        if append(offset, None, None, value, headers) is None:
            builder.close()  # what BatchBuilder.append does when the batch is full
            break
        offset += 1
        index += 1
    builder._relative_offset = offset
    return index - start


def _fill_public(builder: BatchBuilder, values: list[bytes], start: int) -> int:
    append = builder.append
    index = start
    for value in itertools.islice(values, start, None):
        if append(timestamp=None, key=None, value=value, headers=_NO_HEADERS) is None:
            break
        index += 1
    return index - start


async def publish_runs(
    producers: list[AIOKafkaProducer],
    topic: str,
    messages: AsyncIterator[OutgoingMessage],
    default_partition: int | None,
    max_size: int,
) -> AsyncGenerator[Run, None]:
    """Send ``messages`` with started ``producers`` (the partitions spread over them); yield
    runs in input order, each once its batch was acknowledged (or failed)."""
    producer = producers[0]
    partitions = sorted(await producer.partitions_for(topic))
    available = producer.client.cluster.available_partitions_for_topic(topic) or set()
    pub = BatchPublisher(
        producers, topic, partitions, sorted(available), default_partition, max_size
    )
    runs: deque[tuple[Batch, int, int]] = deque()  # (batch, first index, first position)
    last: Batch | None = None  # the batch of the newest run
    fast = default_partition is None
    limit = max_size - 1024
    index = 0

    def place(message: OutgoingMessage) -> None:
        """Append one message to its batch (a new run when the batch changes)."""
        nonlocal last
        key, value = message.key, message.value
        if fast and key is None and message.partition is None and not message.headers:
            if len(value) > limit:
                batch, headers, sticky = pub.route(message)
            else:
                batch, headers, sticky = pub.sticky or pub.next_sticky(), _NO_HEADERS, True
        else:
            batch, headers, sticky = pub.route(message)
        builder = batch.builder
        if builder is None:  # refused
            if batch is not last:
                runs.append((batch, index, 0))
                last = batch
        elif builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            batch, position = pub.overflow(batch, sticky, key, value, headers)
            runs.append((batch, index, position))
            last = batch
        elif batch is not last:
            runs.append((batch, index, builder.record_count() - 1))
            last = batch

    def place_values(values: list[bytes]) -> None:
        """Plain values (no key, partition or headers) into the sticky batches, in bulk."""
        nonlocal last, index
        if max(map(len, values)) > limit:  # one may be too large: the careful way
            for value in values:
                place(OutgoingMessage(value))
                index += 1
            return
        start, count = 0, len(values)
        while start < count:
            batch = pub.sticky or pub.next_sticky()
            builder = batch.builder
            assert builder is not None
            position = builder.record_count()
            added = fill(builder, values, start)
            if added:
                if batch is not last:
                    runs.append((batch, index, position))
                    last = batch
                index += added
                start += added
            if start < count:  # full: on to the next partition's batch
                pub.close(batch)

    def settled() -> Iterator[Run]:
        """The oldest runs whose batch is done, while there are (a run ends where the next
        begins; the newest one at the input read so far)."""
        nonlocal last
        while runs and runs[0][0].done:
            done, first, position = runs.popleft()
            if runs:
                yield done, first, position, runs[0][1] - first
            else:
                last = None  # the next message starts a new run
                yield done, first, position, index - first

    chunks = None
    if fast:
        value_chunks = getattr(messages, "value_chunks", None)
        chunks = value_chunks() if value_chunks is not None else None
    pub.start()
    try:
        if chunks is not None:
            async for values in chunks:
                place_values(values)
                await pub.pause()  # let the producer read answers and send requests
                if runs and runs[0][0].done:
                    for run in settled():
                        yield run
        else:
            async for message in messages:
                place(message)
                index += 1
                if not index & YIELD_MASK:  # let the producer read answers and send requests
                    await pub.pause()
                if runs[0][0].done:  # (checked first: this runs once per message)
                    for run in settled():
                        yield run
        pub.close_all()
        while runs:
            done, first, position = runs[0]
            await pub.wait_for(done)
            runs.popleft()
            yield done, first, position, (runs[0][1] if runs else index) - first
    finally:
        await pub.stop()


def run_results(run: Run) -> list[PublishResult]:
    batch, first, position, count = run
    if batch.error is not None:
        error = batch.error
        return [PublishResult(i, False, error=error) for i in range(first, first + count)]
    partition = batch.partition
    offset = batch.base + position - first
    return [PublishResult(i, True, partition, offset + i) for i in range(first, first + count)]


class BatchedPublish:
    """What Kafka's ``publish`` returns: an async iterator of one :class:`PublishResult` per
    message, in input order; or, with :meth:`tallies`, only counts (and the failed results)
    without building an object per message. Use one of the two, once."""

    def __init__(
        self,
        start: Callable[[], Awaitable[tuple[list[AIOKafkaProducer], int]]],
        stop: Callable[[list[AIOKafkaProducer]], Awaitable[None]],
        topic: str,
        messages: AsyncIterator[OutgoingMessage],
        default_partition: int | None,
    ) -> None:
        self._runs = self._produce(start, stop, topic, messages, default_partition)
        self._view: AsyncGenerator[Any, None] | None = None
        self._tallied = False

    @staticmethod
    async def _produce(
        start: Callable[[], Awaitable[tuple[list[AIOKafkaProducer], int]]],
        stop: Callable[[list[AIOKafkaProducer]], Awaitable[None]],
        topic: str,
        messages: AsyncIterator[OutgoingMessage],
        default_partition: int | None,
    ) -> AsyncGenerator[Run, None]:
        producers, max_size = await start()
        try:
            runs = publish_runs(producers, topic, messages, default_partition, max_size)
            try:
                async for run in runs:
                    yield run
            finally:
                await runs.aclose()
        finally:
            await asyncio.shield(stop(producers))

    async def _results(self) -> AsyncGenerator[PublishResult, None]:
        async for run in self._runs:
            for result in run_results(run):
                yield result

    async def _tallies(self) -> AsyncGenerator[Tally, None]:
        async for run in self._runs:
            if run[0].error is None:
                yield run[3], []
            else:
                yield 0, run_results(run)

    def __aiter__(self) -> AsyncGenerator[PublishResult, None]:
        # The generator itself, so that ``async for`` costs no extra call per message.
        if self._view is None:
            self._view = self._results()
            self._tallied = False
        elif self._tallied:
            raise RuntimeError("this publish is already read as tallies")
        return self._view

    async def __anext__(self) -> PublishResult:
        return await self.__aiter__().__anext__()

    def tallies(self) -> AsyncGenerator[Tally, None]:
        """(messages confirmed, failed results) per run of messages, in input order."""
        if self._view is not None:
            raise RuntimeError("this publish is already read as results")
        self._view = self._tallies()
        self._tallied = True
        return self._view

    async def aclose(self) -> None:
        if self._view is not None:
            await self._view.aclose()
        await self._runs.aclose()
