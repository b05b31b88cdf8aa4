"""Peek and publish for every broker: the CLI, the TUI and the DLQ tools all call these.

Names resolve through :func:`mqctl.services.inventory.resolve` (``kafka:``/``rabbitmq:``
prefixes); the work is done by the backend's :class:`MessageReader` / :class:`MessageWriter`.
Filters, limits, ``--merge`` ordering and rate limiting are applied here, the same way for all
brokers. Publishing is a write: :func:`publish` and :func:`publish_tallies` audit it (one
record per publish, with the confirmed and failed counts, never a value), and
:func:`publish_target` records a publish refused or failed before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from mqctl.audit import Action, Outcome, audited, audited_on_error, target_name
from mqctl.backend import (
    MessageBatches,
    MessageReader,
    MessageWriter,
    QueueCatalog,
    ResultTallies,
    require,
)
from mqctl.errors import UsageError
from mqctl.messages.filters import FilterStats, MessageFilter
from mqctl.messages.rate import rate_limited
from mqctl.messages.sources import aiter_messages
from mqctl.models.inventory import Destination
from mqctl.models.messages import (
    Message,
    OutgoingMessage,
    PeekOptions,
    PublishOptions,
    PublishResult,
)
from mqctl.services.inventory import resolve, split_prefix
from mqctl.session import Session

# What a backend is told to read when the core filters: "as many as there are" (it still stops
# at the end of the data unless following). A plain int so every backend can treat it as a count.
UNLIMITED = 2**31 - 1


@dataclass(slots=True)
class PeekStats(FilterStats):
    """Filled in while a peek runs: where it read and how many were scanned vs shown."""

    destination: Destination | None = None


async def resolve_destination(
    session: Session, name: str | Destination, *, vhost: str | None = None
) -> Destination:
    if isinstance(name, Destination):
        return name
    return await resolve(session, name, vhost=vhost)


async def peek(
    session: Session,
    name: str | Destination,
    options: PeekOptions,
    filters: MessageFilter | None = None,
    *,
    vhost: str | None = None,
    merge: bool = False,
    stats: PeekStats | None = None,
) -> AsyncIterator[Message]:
    """Yield up to ``options.max_messages`` matching messages (0 or less = no limit).

    ``merge`` with a ``last`` start: the last N messages over all partitions by timestamp
    (instead of N per partition). Never consumes, acks or commits: that is the backend's
    contract. Closing the generator early closes the backend's reader.
    """
    batches = peek_batches(session, name, options, filters, vhost=vhost, merge=merge, stats=stats)
    try:
        async for batch in batches:
            for message in batch:
                yield message
    finally:
        await _aclose(batches)


async def peek_batches(
    session: Session,
    name: str | Destination,
    options: PeekOptions,
    filters: MessageFilter | None = None,
    *,
    vhost: str | None = None,
    merge: bool = False,
    stats: PeekStats | None = None,
) -> AsyncIterator[list[Message]]:
    """The messages of :func:`peek` (same limit, filters and stats) in lists, never empty, of
    consecutive messages: a reader that is also :class:`MessageBatches` (Kafka: one list
    per fetch) costs no async step per message; other readers give lists of one. :func:`peek`
    is this, flattened."""
    stats = stats if stats is not None else PeekStats()
    source = await _open(session, name, options, filters, vhost, merge, stats)
    limit = options.max_messages if options.max_messages > 0 else None
    active = filters is not None and filters.active
    lists = source.batches() if isinstance(source, MessageBatches) else _lists(source)
    try:
        async for batch in lists:
            if not active and (limit is None or stats.matched + len(batch) < limit):
                stats.scanned += len(batch)
                stats.matched += len(batch)
                yield batch
                continue
            shown: list[Message] = []
            done = False
            for message in batch:
                stats.scanned += 1
                if active and filters is not None and not filters.matches(message):
                    continue
                stats.matched += 1
                shown.append(message)
                if limit is not None and stats.matched >= limit:
                    done = True
                    break
            if shown:
                yield shown
            if done:
                break
    finally:
        await _aclose(lists)
        await _aclose(source)


async def _open(
    session: Session,
    name: str | Destination,
    options: PeekOptions,
    filters: MessageFilter | None,
    vhost: str | None,
    merge: bool,
    stats: PeekStats,
) -> AsyncIterator[Message]:
    """The backend's reader for a peek (not started yet)."""
    destination = await resolve_destination(session, name, vhost=vhost)
    stats.destination = destination
    backend = session.backend(destination.backend)
    reader = require(backend, MessageReader, "peek")
    backend_options = options
    if (filters is not None and filters.active) or merge or options.max_messages <= 0:
        backend_options = dataclasses.replace(options, max_messages=UNLIMITED)
    source = reader.peek(destination, backend_options)
    if merge and options.start.kind == "last" and not options.follow:
        source = _merge_last(source, options.start.value or 1)
    return source


async def _lists(source: AsyncIterator[Message]) -> AsyncIterator[list[Message]]:
    async for message in source:
        yield [message]


async def _merge_last(source: AsyncIterator[Message], count: int) -> AsyncIterator[Message]:
    """Collect the per-partition tails, then yield the overall last ``count`` by timestamp."""
    collected = [m async for m in source]
    collected.sort(key=lambda m: (m.timestamp is None, m.timestamp, m.partition, m.offset))
    for message in collected[-count:]:
        yield message


async def _aclose(iterator: AsyncIterator[object]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def _queue_broker(session: Session, backend_name: str | None) -> str:
    """The broker that has exchanges and queues (RabbitMQ-like) for --exchange/--queue."""
    backend, _ = session.backend_for(
        QueueCatalog, "publishing to an exchange or queue", backend=backend_name
    )
    return backend.name


def _given_target(
    target: str | Destination | None, exchange: str | None = None, queue: str | None = None
) -> str:
    """The audit target of a publish before its destination is resolved."""
    if isinstance(target, Destination):
        return target_name(target.backend, target.kind, target.name)
    if exchange is not None:
        return f"exchange/{exchange}"
    if queue is not None:
        return f"queue/{queue}"
    return target or "?"


async def publish_target(
    session: Session,
    target: str | Destination | None,
    *,
    exchange: str | None = None,
    queue: str | None = None,
    vhost: str | None = None,
) -> Destination:
    """Where a publish goes: a topic/queue by name, ``--queue Q`` or ``--exchange X``.

    An exchange is not looked up (the broker refuses unknown exchanges on publish, which the
    backend reports per message); ``""`` is the default exchange. Refused in read-only contexts
    (audited as refused, like a target that cannot be found).
    """
    with audited_on_error(session, "publish", _given_target(target, exchange, queue)):
        session.check_writable("publish")
        if isinstance(target, Destination):
            return target
        if exchange is not None:
            if target is not None or queue is not None:
                raise UsageError("--exchange cannot be combined with a TARGET or --queue")
            backend_name, bare = split_prefix(exchange)
            return Destination(_queue_broker(session, backend_name), "exchange", bare, vhost)
        if queue is not None:
            if target is not None:
                raise UsageError("--queue cannot be combined with a TARGET")
            backend_name, bare = split_prefix(queue)
            broker = _queue_broker(session, backend_name)
            return await resolve(session, f"{broker}:{bare}", vhost=vhost)
        if target is None:
            raise UsageError("publish needs a TARGET (topic or queue), --queue Q or --exchange X")
        return await resolve(session, target, vhost=vhost)


async def publish(
    session: Session,
    target: str | Destination,
    messages: AsyncIterator[OutgoingMessage] | Iterable[OutgoingMessage],
    options: PublishOptions,
    *,
    vhost: str | None = None,
    rate: float | None = None,
) -> AsyncIterator[PublishResult]:
    """Publish ``messages`` (at ``rate`` per second if given); one result per message, in
    order, each after the broker confirmed or refused it. Refused in read-only contexts.
    Audited when it ends (closing the iterator early records ``interrupted``)."""
    async with _audited_publish(session, target, messages, options, vhost, rate) as run:
        act, results = run
        async for result in results:
            if result.ok:
                act.counts["published"] += 1
            else:
                _count_failed(act, [result])
            yield result


async def publish_tallies(
    session: Session,
    target: str | Destination,
    messages: AsyncIterator[OutgoingMessage] | Iterable[OutgoingMessage],
    options: PublishOptions,
    *,
    vhost: str | None = None,
    rate: float | None = None,
) -> AsyncIterator[tuple[int, list[PublishResult]]]:
    """:func:`publish` for callers that only count (summaries, progress): yields (messages
    confirmed, results of the failed ones) for consecutive groups of messages, in order. A
    backend whose results have ``tallies()`` (Kafka's batches) builds no object per message."""
    async with _audited_publish(session, target, messages, options, vhost, rate) as run:
        act, results = run
        groups = results.tallies() if isinstance(results, ResultTallies) else _tally_each(results)
        try:
            async for confirmed, failed in groups:
                act.counts["published"] += confirmed
                if failed:
                    _count_failed(act, failed)
                yield confirmed, failed
        finally:
            await _aclose(groups)


def _count_failed(act: Action, failed: list[PublishResult]) -> None:
    act.counts["failed"] += len(failed)
    act.details.setdefault("first_error", f"message {failed[0].index}: {failed[0].error}")


async def _tally_each(
    results: AsyncIterator[PublishResult],
) -> AsyncIterator[tuple[int, list[PublishResult]]]:
    async for result in results:
        yield (1, []) if result.ok else (0, [result])


@contextlib.asynccontextmanager
async def _audited_publish(
    session: Session,
    target: str | Destination,
    messages: AsyncIterator[OutgoingMessage] | Iterable[OutgoingMessage],
    options: PublishOptions,
    vhost: str | None,
    rate: float | None,
) -> AsyncIterator[tuple[Action, AsyncIterator[PublishResult]]]:
    """One audit record for one publish: counts filled in by the caller as results come,
    the outcome from them (some failed: partial; all failed: failed) or from the error."""
    with audited(session, "publish", _given_target(target)) as act:
        act.counts.update(published=0, failed=0)
        session.check_writable("publish")
        destination = await resolve_destination(session, target, vhost=vhost)
        act.target = target_name(destination.backend, destination.kind, destination.name)
        if destination.vhost is not None:
            act.details["vhost"] = destination.vhost
        results = _writer_results(session, destination, messages, options, rate)
        try:
            yield act, results
        except (KeyboardInterrupt, asyncio.CancelledError):
            # Counts are what the broker confirmed. Messages in flight when the run stopped
            # may have been written too: say so rather than claim they were not.
            act.details["unconfirmed"] = "messages in flight when interrupted may also be written"
            raise
        finally:
            await _aclose(results)
        if act.counts["failed"]:
            act.outcome = Outcome.partial if act.counts["published"] else Outcome.failed


def _writer_results(
    session: Session,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage] | Iterable[OutgoingMessage],
    options: PublishOptions,
    rate: float | None,
) -> AsyncIterator[PublishResult]:
    backend = session.backend(destination.backend)
    writer = require(backend, MessageWriter, "publish")
    stream: AsyncIterator[OutgoingMessage] = (
        messages if isinstance(messages, AsyncIterator) else aiter_messages(messages)
    )
    if rate is not None:  # no extra async hop per message when unlimited
        stream = rate_limited(stream, rate)
    return writer.publish(destination, stream, options)


@dataclass(slots=True)
class PublishSummary:
    """Totals of a publish (the CLI's summary and ``-o json`` output)."""

    destination: str
    published: int = 0
    failed: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    errors: list[PublishResult] = field(default_factory=list)

    def add(self, result: PublishResult, keep_errors: int = 100) -> None:
        if result.ok:
            self.published += 1
        else:
            self.failed += 1
            if len(self.errors) < keep_errors:
                self.errors.append(result)

    def add_tally(
        self, confirmed: int, failed: list[PublishResult], keep_errors: int = 100
    ) -> None:
        self.published += confirmed
        for result in failed:
            self.add(result, keep_errors)
