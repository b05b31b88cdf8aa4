"""Publish to a RabbitMQ exchange or queue with publisher confirms (docs/rabbitmq.md).

Messages are pipelined (up to :data:`WINDOW` unconfirmed at a time) and results come back in
input order, each only after the broker confirmed (``basic.ack``), refused (``basic.nack``)
or returned it (``mandatory`` and unroutable). Publishing straight to a queue uses the
default exchange and is always mandatory, so a message that reaches no queue is a failure
rather than silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mqctl.backends.rabbitmq.amqp import AmqpConnections, reply_text
from mqctl.backends.rabbitmq.convert import build_kwargs
from mqctl.errors import UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions, PublishResult

if TYPE_CHECKING:
    from aio_pika.abc import AbstractExchange

WINDOW = 256  # unconfirmed messages in flight: enough to hide the round trip, bounded memory


async def _check_target(amqp: AmqpConnections, vhost: str, destination: Destination) -> None:
    """Fail early with exit 4 when the queue/exchange does not exist. A passive declare of a
    missing object closes its channel, so it runs on a throw-away one."""
    channel = await amqp.channel(vhost)
    what = f"{destination.kind} {destination.name!r}"
    try:
        if destination.kind == "queue":
            await channel.declare_queue(destination.name, passive=True, timeout=amqp.timeout)
        elif destination.name:
            await channel.get_exchange(destination.name, ensure=True)
    except Exception as exc:
        raise amqp.map_error(exc, vhost, what) from None
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(channel.close(), amqp.timeout)


def _routing_key(destination: Destination, out: OutgoingMessage, options: PublishOptions) -> str:
    if destination.kind == "queue":
        return destination.name
    key = out.routing_key if out.routing_key is not None else options.routing_key
    return key or ""


class _Fatal:
    """The first error that closed the channel (every later publish fails the same way)."""

    error: BaseException | None = None


async def _outcome(
    index: int, task: asyncio.Task[Any], amqp: AmqpConnections, fatal: _Fatal
) -> PublishResult:
    import aiormq
    from aio_pika.exceptions import DeliveryError

    try:
        confirmation = await task
    except aiormq.exceptions.ChannelClosed as exc:
        fatal.error = fatal.error or exc
        return PublishResult(index, False, error=reply_text(exc))
    except aiormq.exceptions.ChannelInvalidStateError:
        return PublishResult(index, False, error="not sent: the broker had closed the channel")
    except DeliveryError as exc:
        frame = getattr(exc, "frame", None)
        kind = type(frame).__name__.lower() if frame is not None else "nack"
        return PublishResult(index, False, error=f"the broker refused the message (basic.{kind})")
    except TimeoutError:
        return PublishResult(
            index, False, error=f"no confirmation within {amqp.timeout:g}s (may still arrive)"
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return PublishResult(index, False, error=reply_text(exc))
    if isinstance(confirmation, aiormq.spec.Basic.Ack):
        return PublishResult(index, True)
    # A returned message (mandatory, no queue matched): aio-pika hands back the message.
    delivery = getattr(confirmation, "delivery", None)
    code = getattr(delivery, "reply_code", None)
    text = getattr(delivery, "reply_text", None) or "NO_ROUTE"
    return PublishResult(
        index,
        False,
        error=f"unroutable: returned by the broker ({code or 312} {text}); no queue is "
        f"bound for routing key {getattr(delivery, 'routing_key', '')!r}",
    )


async def publish(
    amqp: AmqpConnections,
    default_vhost: str,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage],
    options: PublishOptions,
) -> AsyncIterator[PublishResult]:
    import aio_pika

    if destination.kind not in ("queue", "exchange"):
        raise UsageError(f"cannot publish to a {destination.kind} on RabbitMQ (queue or exchange)")
    vhost = destination.vhost or default_vhost
    await _check_target(amqp, vhost, destination)
    mandatory = options.mandatory or destination.kind == "queue"
    channel = await amqp.channel(vhost, confirms=True)
    pending: deque[tuple[int, str | None, asyncio.Task[Any]]] = deque()
    in_flight_ids: dict[str, int] = {}
    fatal = _Fatal()
    try:
        exchange: AbstractExchange
        if destination.kind == "queue" or not destination.name:
            exchange = channel.default_exchange
        else:
            exchange = await channel.get_exchange(destination.name, ensure=False)

        async def settle() -> PublishResult:
            index, message_id, task = pending.popleft()
            if message_id is not None and in_flight_ids.get(message_id) == index:
                del in_flight_ids[message_id]
            return await _outcome(index, task, amqp, fatal)

        index = 0
        async for out in messages:
            if fatal.error is not None or channel.is_closed:
                break  # the rest would fail the same way: report why instead
            kwargs = build_kwargs(out, persistent=options.persistent)
            message_id = kwargs.get("message_id")
            # aio-pika matches a returned message to its publish by message id: never have
            # two unconfirmed messages with the same id (templates often repeat one).
            while message_id is not None and message_id in in_flight_ids and pending:
                yield await settle()
            # AMQP has no null body: a null value (a Kafka tombstone) goes as an empty body.
            message = aio_pika.Message(out.value or b"", **kwargs)
            if "priority" not in kwargs:
                message.priority = None  # aio-pika would send 0; send no priority at all
            task = asyncio.ensure_future(
                exchange.publish(
                    message,
                    routing_key=_routing_key(destination, out, options),
                    mandatory=mandatory,
                    timeout=amqp.timeout,
                )
            )
            pending.append((index, message_id, task))
            if message_id is not None:
                in_flight_ids[message_id] = index
            index += 1
            while pending and (len(pending) >= WINDOW or pending[0][2].done()):
                yield await settle()
        while pending:
            yield await settle()
        if fatal.error is not None:
            raise amqp.map_error(fatal.error, vhost, "the message")
        if channel.is_closed:
            raise UsageError(f"RabbitMQ at {amqp.where(vhost)} closed the channel while publishing")
    finally:
        for _, _, task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(channel.close(), amqp.timeout)
