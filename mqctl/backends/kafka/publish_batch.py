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

Here: the runs (:class:`RunPlacer`) and the result views (:class:`BatchedPublish`); the batches
and their submission in :mod:`.batch_publisher`; the private fast append in
:mod:`.aiokafka_internals`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from mqctl.backend import ValueChunks
from mqctl.backends.kafka.aiokafka_internals import fill
from mqctl.backends.kafka.batch_publisher import (
    NO_HEADERS,
    YIELD_MASK,
    Batch,
    BatchPublisher,
    Run,
    Tally,
    header_bytes,
    timestamp_ms,
)
from mqctl.models.messages import OutgoingMessage, PublishResult

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

__all__ = ["BatchedPublish", "header_bytes", "publish_runs", "run_results"]


class RunPlacer:
    """Appends messages to their batches, in input order, and remembers the runs they form
    (consecutive messages in the same batch) until their batch is answered."""

    def __init__(self, pub: BatchPublisher, fast: bool, max_size: int) -> None:
        self.pub = pub
        self.runs: deque[tuple[Batch, int, int]] = deque()  # (batch, first index, position)
        self.last: Batch | None = None  # the batch of the newest run
        self.fast = fast  # no --partition: plain messages may skip routing
        self.limit = max_size - 1024  # larger values are routed (and size-checked) one by one
        self.index = 0  # input index of the next message

    def place(self, message: OutgoingMessage) -> None:
        """Append one message to its batch (a new run when the batch changes)."""
        pub, runs, index = self.pub, self.runs, self.index
        key, value, timestamp = message.key, message.value, timestamp_ms(message)
        plain = key is None and message.partition is None and not message.headers
        if self.fast and plain and value is not None:
            if len(value) > self.limit:
                batch, headers, sticky = pub.route(message)
            else:
                batch, headers, sticky = pub.sticky or pub.next_sticky(), NO_HEADERS, True
        else:
            batch, headers, sticky = pub.route(message)
        builder = batch.builder
        if builder is None:  # refused
            if batch is not self.last:
                runs.append((batch, index, 0))
                self.last = batch
        elif builder.append(timestamp=timestamp, key=key, value=value, headers=headers) is None:
            batch, position = pub.overflow(batch, sticky, key, value, headers, timestamp)
            runs.append((batch, index, position))
            self.last = batch
        elif batch is not self.last:
            runs.append((batch, index, builder.record_count() - 1))
            self.last = batch
        self.index = index + 1

    def place_values(self, values: list[bytes]) -> None:
        """Plain values (no key, partition or headers) into the sticky batches, in bulk.

        Only the first value of an empty batch is size-checked here: the builder refuses a
        record that does not fit a batch that has one already (and this value then starts
        the next batch), but takes any first record. A value too large goes the careful way
        (refused with its own result)."""
        pub, runs, limit = self.pub, self.runs, self.limit
        start, count = 0, len(values)
        while start < count:
            batch = pub.sticky or pub.next_sticky()
            builder = batch.builder
            assert builder is not None
            position = builder.record_count()
            if not position and len(values[start]) > limit:
                self.place(OutgoingMessage(values[start]))
                start += 1
                continue
            added = fill(builder, values, start)
            if added:
                if batch is not self.last:
                    runs.append((batch, self.index, position))
                    self.last = batch
                self.index += added
                start += added
            if start < count:  # full: on to the next partition's batch
                pub.close(batch)

    def oldest_done(self) -> bool:
        return bool(self.runs) and self.runs[0][0].done

    def settled(self) -> Iterator[Run]:
        """The oldest runs whose batch is done, while there are (a run ends where the next
        begins; the newest one at the input read so far)."""
        runs = self.runs
        while runs and runs[0][0].done:
            done, first, position = runs.popleft()
            if runs:
                yield done, first, position, runs[0][1] - first
            else:
                self.last = None  # the next message starts a new run
                yield done, first, position, self.index - first

    async def remaining(self) -> AsyncGenerator[Run, None]:
        """At the end of the input: send every open batch and yield the runs left, in order."""
        pub, runs = self.pub, self.runs
        pub.close_all()
        while runs:
            done, first, position = runs[0]
            await pub.wait_for(done)
            runs.popleft()
            yield done, first, position, (runs[0][1] if runs else self.index) - first


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
    fast = default_partition is None
    placer = RunPlacer(pub, fast, max_size)
    chunks = messages.value_chunks() if fast and isinstance(messages, ValueChunks) else None
    pub.start()
    try:
        if chunks is not None:
            async for values in chunks:
                placer.place_values(values)
                await pub.pause()  # let the producer read answers and send requests
                if placer.oldest_done():
                    for run in placer.settled():
                        yield run
        else:
            place, runs = placer.place, placer.runs
            async for message in messages:
                place(message)
                if not placer.index & YIELD_MASK:  # let the producer read answers and requests
                    await pub.pause()
                if runs[0][0].done:  # (checked first: this runs once per message)
                    for run in placer.settled():
                        yield run
        async for run in placer.remaining():
            yield run
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
