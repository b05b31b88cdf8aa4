"""Peek at RabbitMQ queues without removing anything (docs/rabbitmq.md, "Peek").

Which path is used for what, and why:

* classic queues: ``basic.get`` without acknowledging, then every fetched message is returned
  with one ``basic.nack(multiple, requeue)``. Classic queues put returned messages back at
  their original position, so the order is unchanged; consumers see them with
  ``redelivered=true``. Closing the channel returns unacknowledged messages too, so even a
  crash in the middle cannot lose one.
* quorum queues: returning a message increments its delivery count and past the queue's
  delivery limit the broker dead-letters or drops it. Peek is refused unless the caller
  allows requeueing; the limit is read from every source (delivery_limit.py) and a peek
  stops, without showing it, at the first message whose next return would pass the limit,
  fencing the queue for later peeks (so repeated peeks can never walk a message there).
* streams: a consumer with ``x-stream-offset``; acknowledging only grants credit, nothing is
  ever removed.

The management API's "get messages" is not used: it is the same fetch-and-return (so no
safer), adds a JSON round trip, and its default ack mode in other tools removes messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mqctl.backends.rabbitmq.amqp import AmqpConnections, reply_text
from mqctl.backends.rabbitmq.convert import to_message
from mqctl.backends.rabbitmq.delivery_limit import PeekFences, check_fence, read_limit
from mqctl.backends.rabbitmq.inventory import queue_doc
from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.errors import AuthError, ConnectError, UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message, PeekOptions, StartPosition

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

log = logging.getLogger("mqctl.rabbitmq")

STREAM_PREFETCH = 500


async def peek(
    api: ManagementClient,
    amqp: AmqpConnections,
    destination: Destination,
    options: PeekOptions,
) -> AsyncIterator[Message]:
    if destination.kind != "queue":
        raise UsageError(
            f"peek reads queues; {destination.kind} {destination.name!r} holds no messages "
            f"(peek a queue bound to it)"
        )
    vhost = destination.vhost or api.settings.vhost
    name = destination.name
    try:
        doc = await queue_doc(api, name, vhost)
    except ConnectError as exc:
        if isinstance(exc, AuthError):
            raise
        # AMQP alone: learn the type from the queue itself (docs/rabbitmq.md, "Peek").
        log.warning(
            "note: %s; peeking %r over AMQP alone (type learned from the queue, quorum "
            "queues refused: their delivery limit is not known)",
            exc.message.rstrip("."),
            name,
        )
        fallback = _peek_without_management(amqp, vhost, name, options)
        async with contextlib.aclosing(fallback):
            async for message in fallback:
                yield message
        return
    queue_type = doc.get("type") or "classic"
    reader: AsyncGenerator[Message, None]
    if queue_type == "stream":
        reader = _peek_stream(amqp, vhost, name, options)
    else:
        if options.follow:
            raise UsageError(
                f"--follow works on streams only: on {queue_type} queue {name!r} a following "
                f"peek would hold messages away from the consumers"
            )
        limit: int | None = None
        fence: tuple[PeekFences, str] | None = None
        if queue_type == "quorum":
            limit = await _quorum_limit(api, doc, name)
            _check_quorum(name, limit, options)
            if limit is not None:
                fence = (PeekFences(), f"{amqp.settings.address}|{vhost}|{name}")
                messages = doc.get("messages")
                depth = messages if isinstance(messages, int) else -1  # -1: not known
                check_fence(fence[0], fence[1], name, limit, depth)
        reader = _peek_queue(
            amqp, vhost, name, options, quorum=queue_type == "quorum", limit=limit, fence=fence
        )
    async with contextlib.aclosing(reader):
        async for message in reader:
            yield message


async def _quorum_limit(api: ManagementClient, doc: dict[str, Any], name: str) -> int | None:
    """The delivery limit from every source; refuses while the queue's policy is settling."""
    reading = await read_limit(api, doc)
    if reading.settling:
        raise UsageError(
            f"refusing to peek quorum queue {name!r}: its delivery limit is not known yet "
            f"(policies are still being applied: {reading.settling})",
            hint="retry in a few seconds",
        )
    if not reading.policies_visible:
        log.warning(
            "note: user %r may not list policies: the delivery limit of %r is read from the "
            "queue's arguments and effective policy only",
            api.settings.username,
            name,
        )
    return reading.limit


def _check_quorum(name: str, limit: int | None, options: PeekOptions) -> None:
    what = f"delivery limit {limit}" if limit is not None else "no delivery limit set"
    if not options.allow_requeue:
        raise UsageError(
            f"{name!r} is a quorum queue ({what}): peeking returns each message, which "
            f"increments its delivery count and at the limit dead-letters or drops it; "
            f"refusing without --allow-requeue",
            hint="--allow-requeue peeks anyway (each shown message's delivery count goes up by "
            "one) and stops before a message whose next return would pass the limit",
        )
    if limit is not None and limit < 2:
        raise UsageError(
            f"{name!r} is a quorum queue with delivery limit {limit}: returning even a fresh "
            f"message would bring it to the limit, so peek is refused even with --allow-requeue"
        )


async def _peek_without_management(
    amqp: AmqpConnections, vhost: str, name: str, options: PeekOptions
) -> AsyncGenerator[Message, None]:
    """Peek when only AMQP answers. A stream refuses ``basic.get``: then it is read as a
    stream. Otherwise the first fetched message tells the type: quorum queues stamp
    ``x-delivery-count`` on every delivery, classic ones do not. For a quorum queue the
    limit is unknown, so that one message is returned (its count goes up by one; it is not
    shown) and the peek is refused; a classic queue is peeked as usual."""
    import aiormq.exceptions as amqp_errors

    channel = await amqp.channel(vhost)
    try:
        queue = await _passive_queue(amqp, channel, vhost, name)
        try:
            first = await queue.get(no_ack=False, fail=False, timeout=amqp.timeout)
        except (amqp_errors.ConnectionNotImplemented, amqp_errors.ChannelClosed) as exc:
            # RabbitMQ closes the connection: "basic.get not supported by stream queues"
            if "stream" not in reply_text(exc).lower():
                raise amqp.map_error(exc, vhost, f"queue {name!r}") from None
            first, stream = None, True
        except Exception as exc:
            raise amqp.map_error(exc, vhost, f"queue {name!r}") from None
        else:
            stream = False
        quorum = first is not None and "x-delivery-count" in (first.headers or {})
        if first is not None:
            await _return_all(amqp, channel, [first], name, quorum=True)  # quietly
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(channel.close()), amqp.timeout)
    reader: AsyncGenerator[Message, None]
    if stream:
        await amqp.forget(vhost)  # the broker closed that connection over the basic.get
        reader = _peek_stream(amqp, vhost, name, options)
    elif quorum:
        raise UsageError(
            f"{name!r} is a quorum queue and its delivery limit cannot be read without the "
            f"management API: refusing to peek (the one message fetched to learn the queue "
            f"type was returned unseen; its delivery count went up by one)",
            hint="peek it once the management API answers",
        )
    elif first is None:
        return  # empty
    else:
        if options.follow:
            raise UsageError(f"--follow works on streams only: {name!r} is a queue")
        reader = _peek_queue(amqp, vhost, name, options, quorum=False, limit=None)
    async with contextlib.aclosing(reader):
        async for message in reader:
            yield message


def _delivery_count(msg: AbstractIncomingMessage) -> int:
    value = (msg.headers or {}).get("x-delivery-count")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _passive_queue(
    amqp: AmqpConnections, channel: AbstractChannel, vhost: str, name: str
) -> AbstractQueue:
    try:
        return await channel.declare_queue(name, passive=True, timeout=amqp.timeout)
    except Exception as exc:
        raise amqp.map_error(exc, vhost, f"queue {name!r}") from None


async def _peek_queue(
    amqp: AmqpConnections,
    vhost: str,
    name: str,
    options: PeekOptions,
    *,
    quorum: bool,
    limit: int | None,
    fence: tuple[PeekFences, str] | None = None,
) -> AsyncGenerator[Message, None]:
    """Fetch without ack, yield, and always return everything in ``finally``."""
    channel = await amqp.channel(vhost)
    held: list[AbstractIncomingMessage] = []
    try:
        queue = await _passive_queue(amqp, channel, vhost, name)
        wanted = options.max_messages if options.max_messages > 0 else None
        snapshot: int | None = None  # ready messages when we started: never read past them
        while wanted is None or len(held) < wanted:
            if snapshot is not None and len(held) >= snapshot:
                break
            try:
                msg = await queue.get(no_ack=False, fail=False, timeout=amqp.timeout)
            except Exception as exc:
                raise amqp.map_error(exc, vhost, f"queue {name!r}") from None
            if msg is None:
                break
            held.append(msg)
            if snapshot is None:
                snapshot = 1 + int(msg.message_count or 0)
            if quorum and limit is not None:
                after = _delivery_count(msg) + 1  # what returning it will make the count
                # The broker dead-letters at a return past the limit. After this return one
                # more (the next peek's) must still be safe: after + 1 <= limit. Otherwise
                # stop here, do not show it, and fence the queue for later peeks.
                if after + 1 > limit:
                    if fence is not None:
                        fence[0].set(fence[1], after, limit)
                    log.warning(
                        "note: stopped peeking quorum queue %r before a message with "
                        "delivery count %d (limit %d): %s",
                        name,
                        after - 1,
                        limit,
                        "consumers already returned it to the limit: this return dead-letters "
                        "or drops it"
                        if after > limit
                        else "it is not shown; the next peek of this queue is refused until "
                        "it is consumed (another return would dead-letter or drop it)",
                    )
                    break
            yield to_message(msg, name, vhost)
    finally:
        await _return_all(amqp, channel, held, name, quorum=quorum)


async def _return_all(
    amqp: AmqpConnections,
    channel: AbstractChannel,
    held: list[AbstractIncomingMessage],
    name: str,
    *,
    quorum: bool,
) -> None:
    """Give every held message back, oldest first, then close the channel.

    One ``nack(multiple=True)`` on the newest delivery tag returns them all in delivery
    order. If that fails (connection lost, cancelled), closing the channel or connection
    makes the broker return them anyway.
    """
    try:
        if held and not channel.is_closed:
            await asyncio.shield(held[-1].nack(multiple=True, requeue=True))
            if not quorum:
                log.warning(
                    "note: %d peeked message(s) were returned to queue %r in their original "
                    "order; consumers will see them marked redelivered",
                    len(held),
                    name,
                )
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(channel.close()), amqp.timeout)


def _stream_offset(start: StartPosition) -> Any:
    """The ``x-stream-offset`` argument for a start position (docs/rabbitmq.md)."""
    if start.kind == "beginning":
        return "first"
    if start.kind == "end":
        return "next"
    if start.kind == "last":
        return "last"
    if start.kind == "offset":
        if start.value is None or start.value < 0:
            raise UsageError("a stream offset must be 0 or more")
        return int(start.value)
    if start.kind == "timestamp":
        if start.value is None:
            raise UsageError("a timestamp start needs a time")
        # An AMQP timestamp (seconds): the broker starts at the chunk holding that time.
        return datetime.fromtimestamp(start.value / 1000, UTC)
    raise UsageError(f"unknown start position {start.kind!r} for a stream")


async def _stream_reader(
    amqp: AmqpConnections,
    vhost: str,
    name: str,
    offset: Any,
    prefetch: int,
    idle: float | None,
) -> AsyncGenerator[AbstractIncomingMessage, None]:
    """Raw stream deliveries from ``offset`` until ``idle`` seconds pass without one."""
    channel = await amqp.channel(vhost)
    inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    tag: str | None = None
    queue: AbstractQueue | None = None
    try:
        try:
            await channel.set_qos(prefetch_count=prefetch)
        except Exception as exc:
            raise amqp.map_error(exc, vhost, f"stream {name!r}") from None
        queue = await _passive_queue(amqp, channel, vhost, name)
        try:
            tag = await queue.consume(
                inbox.put, no_ack=False, arguments={"x-stream-offset": offset}
            )
        except Exception as exc:
            raise amqp.map_error(exc, vhost, f"stream {name!r}") from None
        while True:
            try:
                msg = await asyncio.wait_for(inbox.get(), idle)
            except TimeoutError:
                return
            # Acknowledging a stream delivery only grants credit; nothing is removed.
            with contextlib.suppress(Exception):
                await msg.ack()
            yield msg
    finally:
        if queue is not None and tag is not None and not channel.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(queue.cancel(tag), amqp.timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(channel.close(), amqp.timeout)


def _offset(msg: AbstractIncomingMessage) -> int | None:
    value = (msg.headers or {}).get("x-stream-offset")
    return value if isinstance(value, int) else None


async def _end_offset(amqp: AmqpConnections, vhost: str, name: str, idle: float) -> int | None:
    """The stream's last offset: read its last chunk (the broker starts "last" there)."""
    last: int | None = None
    reader = _stream_reader(amqp, vhost, name, "last", STREAM_PREFETCH, idle)
    async with contextlib.aclosing(reader):
        async for msg in reader:
            offset = _offset(msg)
            if offset is not None and (last is None or offset > last):
                last = offset
    return last


async def _peek_stream(
    amqp: AmqpConnections, vhost: str, name: str, options: PeekOptions
) -> AsyncGenerator[Message, None]:
    start = options.start
    offset = _stream_offset(start)
    minimum: int | None = offset if isinstance(offset, int) else None
    if start.kind == "last":
        wanted_last = max(1, start.value or 1)
        end = await _end_offset(amqp, vhost, name, options.idle_timeout)
        if end is None:
            return  # an empty stream
        minimum = max(0, end - wanted_last + 1)
        offset = minimum
    wanted = options.max_messages if options.max_messages > 0 else None
    prefetch = min(STREAM_PREFETCH, wanted or STREAM_PREFETCH)
    idle = None if options.follow else options.idle_timeout
    reader = _stream_reader(amqp, vhost, name, offset, prefetch, idle)
    count = 0
    async with contextlib.aclosing(reader):
        async for msg in reader:
            at = _offset(msg)
            # Delivery starts at a chunk boundary: skip what lies before the asked offset.
            if minimum is not None and at is not None and at < minimum:
                continue
            yield to_message(msg, name, vhost)
            count += 1
            if wanted is not None and count >= wanted:
                return
