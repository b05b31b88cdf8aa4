"""RabbitMQ redrive: consume with manual ack, publish with confirms, ack after the confirm.

Zero loss: a DLQ message is acknowledged only after the broker confirmed the copy (publisher
confirm, ``mandatory`` so an unroutable copy comes back as a failure instead of vanishing).
Until then it is unacked, so a crash, a kill or a lost connection makes the broker put it
back in the DLQ; the price is a possible duplicate for the messages in flight at that moment
(at most ``window``). Messages we do not move (filtered, loop guard, no destination, failed)
stay unacked until the end of the run and are then returned with one ``basic.nack
requeue`` (classic queues put them back in their original place), so a run sees every
message at most once and never loops on a failing one.

The run takes at most the number of messages that were ready when it started, so messages
dead-lettered again while it runs wait for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from mqctl.backends.rabbitmq.amqp import AmqpConnections, reply_text
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.backends.rabbitmq.settings import RabbitSettings
from mqctl.dlq.plan import AMQP_PROPERTIES
from mqctl.errors import ConnectError, MqctlError, NotFoundError, UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.plan import Decision, Planner, Target

ACK_BATCH = 128
ACK_EVERY = 0.05  # seconds: a slow (rate-limited) run still acks promptly
HOLD_CAP = 10_000  # messages kept unacked (not moved) before the run stops early
POLL = 0.5
# AMQP property names in our models vs pamqp's attribute names.
_PAMQP_NAMES = {"type": "message_type"}


def to_message(delivered: Any, queue: str, vhost: str) -> Message:
    """A delivered aiormq message as the core model (properties by their AMQP names)."""
    props = delivered.header.properties
    properties: dict[str, Any] = {}
    for name in (*AMQP_PROPERTIES, "expiration", "user_id"):
        value = getattr(props, _PAMQP_NAMES.get(name, name), None)
        if value is not None:
            properties[name] = value
    headers = list((props.headers or {}).items())
    delivery = delivered.delivery
    return Message(
        backend="rabbitmq",
        source=queue,
        value=delivered.body,
        headers=headers,
        timestamp=props.timestamp,
        exchange=getattr(delivery, "exchange", None),
        routing_key=getattr(delivery, "routing_key", None),
        redelivered=getattr(delivery, "redelivered", None),
        vhost=vhost,
        properties=properties,
    )


def amqp_properties(properties: dict[str, Any], headers: list[tuple[str, Any]]) -> Any:
    from pamqp.commands import Basic

    kwargs = {_PAMQP_NAMES.get(k, k): v for k, v in properties.items() if k in AMQP_PROPERTIES}
    return Basic.Properties(headers=dict(headers), **kwargs)


class _Run:
    def __init__(
        self,
        settings: RabbitSettings,
        api: ManagementClient,
        timeout: float,
        context: str,
        dlq: Destination,
        planner: Planner,
        control: RedriveControl,
    ) -> None:
        self.api = api
        self.timeout = timeout
        self.dlq = dlq
        self.vhost = dlq.vhost or settings.vhost
        self.planner = planner
        self.control = control
        self.connections = AmqpConnections(settings, timeout, f"{context}, redrive")
        self.deliveries: asyncio.Queue[Any] = asyncio.Queue()
        self.exists: dict[tuple[str, str], str | None] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        # Acks are batched (one ``multiple`` ack for a confirmed run of deliveries) until
        # the first message this run does not move: a multiple ack would cover it too, so
        # from then on every message is acked on its own.
        self.ack_order: deque[int] = deque()
        self.confirmed: set[int] = set()
        self.single_acks = False
        self.last_flush = time.monotonic()
        self.window = asyncio.Semaphore(control.window)
        self.lost: BaseException | None = None
        self.closing = False
        self.consume: Any = None
        self.publish: Any = None
        # A publish may wait behind a full window on a busy broker: that is not an outage.
        self.publish_timeout = max(30.0, 3 * timeout)

    async def open(self) -> int:
        """Open channels, check the DLQ, start consuming; returns the ready count."""
        doc = await self.api.get(
            f"/queues/{enc(self.vhost)}/{enc(self.dlq.name)}",
            what=f"queue {self.dlq.name!r} in vhost {self.vhost!r}",
        )
        if doc.get("type") == "stream":
            raise UsageError(
                f"{self.dlq.name!r} is a stream: reading a stream never removes messages, so "
                f"it cannot be redriven (use --to with a queue that streams into it instead)"
            )
        connection = await self.connections.connection(self.vhost)
        connection.close_callbacks.add(self._connection_closed)
        try:
            consume = await connection.channel(publisher_confirms=False)
            publish = await connection.channel(publisher_confirms=True, on_return_raises=True)
            self.consume = await consume.get_underlay_channel()
            self.publish = await publish.get_underlay_channel()
            declared = await self.consume.queue_declare(self.dlq.name, passive=True)
            ready = int(declared.message_count or 0)
            prefetch = self.control.window + HOLD_CAP + 1
            await self.consume.basic_qos(prefetch_count=min(prefetch, 65535))
            if ready or self.control.total:
                await self.consume.basic_consume(self.dlq.name, self.deliveries.put, no_ack=False)
        except MqctlError:
            raise
        except Exception as exc:
            raise self.connections.map_error(exc, self.vhost, f"queue {self.dlq.name!r}") from None
        return ready

    async def run(self) -> None:
        ready = await self.open()
        # A plan read just before (the confirmation prompt) returns its peeked messages
        # asynchronously, so the ready count can be low for a moment: the expected count
        # from that plan, when given, is the budget instead (fewer arriving ends on idle).
        ready = max(ready, self.control.total or 0)
        self.control.begin(ready)
        held = 0
        seen = 0
        try:
            while seen < ready and not self.control.stopping and self.lost is None:
                delivered = await self._next()
                if delivered is None:
                    break
                seen += 1
                decision = self.planner.decide(to_message(delivered, self.dlq.name, self.vhost))
                if decision.action == "stop":
                    self.control.stopped_early(f"--limit {self.planner.options.limit} reached")
                    break
                self.control.examined()
                if decision.action == "skip":
                    await self._hold()
                    self.control.skipped(decision.reason or "skipped")
                    held += 1
                elif not await self._start_move(delivered, decision):
                    held += 1
                if held >= HOLD_CAP:
                    self.control.stopped_early(
                        f"{held} messages left in the DLQ are held by this run; "
                        f"rerun with filters that match them or redrive them in parts"
                    )
                    break
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            if self.lost is None:
                await self._flush_acks(force=True)
        finally:
            await asyncio.shield(self._close())
        if self.lost is not None:
            raise self._lost_error()

    def _connection_closed(self, _sender: Any, exc: BaseException | None = None) -> None:
        """The broker or the network closed the connection: every unacked message is back in
        the DLQ already, so stop at once and cancel the publishes still waiting."""
        if self.closing:
            return
        self.lost = self.lost or exc or ConnectionError("connection closed")
        self.deliveries.put_nowait(None)  # wakes up _next
        for task in list(self.tasks):
            task.cancel()

    async def _next(self) -> Any:
        """The next delivery, or None when the queue stayed empty for the idle time."""
        with contextlib.suppress(asyncio.QueueEmpty):
            return self.deliveries.get_nowait()  # the common case, without a timer
        waited = 0.0
        idle = max(2.0, min(self.timeout, 5.0))
        while waited < idle:
            if self.consume.is_closed or self.lost is not None:
                self.lost = self.lost or ConnectionError("the consuming channel closed")
                return None
            try:
                return await asyncio.wait_for(self.deliveries.get(), POLL)
            except TimeoutError:
                waited += POLL
        self.control.stopped_early("the DLQ had fewer messages than at the start")
        return None

    async def _target_missing(self, target: Target) -> str | None:
        """Why ``target`` cannot take messages (it does not exist), checked once per run.

        Publishing to a missing exchange would close the publishing channel and fail every
        message in flight, so exchanges are checked before the first publish; a missing
        queue behind the default exchange is also caught by ``mandatory`` (returned)."""
        key = (target.kind, target.name)
        if key not in self.exists:
            kind = "exchanges" if target.kind == "exchange" else "queues"
            what = f"{target.kind} {target.name!r} in vhost {self.vhost!r}"
            missing: str | None = None
            if target.kind != "exchange" or target.name:
                try:
                    await self.api.get(f"/{kind}/{enc(self.vhost)}/{enc(target.name)}", what=what)
                except NotFoundError:
                    missing = f"{what} does not exist"
            self.exists[key] = missing
        return self.exists[key]

    async def _start_move(self, delivered: Any, decision: Decision) -> bool:
        """Start publishing; False when the message cannot be moved (stays held)."""
        assert decision.target is not None and decision.outgoing is not None
        missing = await self._target_missing(decision.target)
        if missing is not None:
            await self._hold()
            self.control.failed(missing)
            return False
        await self.control.throttle()
        await self.window.acquire()
        self.ack_order.append(delivered.delivery.delivery_tag)
        task = asyncio.create_task(self._move(delivered, decision))
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.window.release()
        if task.cancelled():
            self.control.failed("not confirmed before the connection was lost")

    async def _move(self, delivered: Any, decision: Decision) -> None:
        from aiormq.exceptions import DeliveryError, PublishError

        target, outgoing = decision.target, decision.outgoing
        assert target is not None and outgoing is not None
        exchange = target.name if target.kind == "exchange" else ""
        routing_key = outgoing.routing_key or (target.name if target.kind == "queue" else "")
        try:
            await self.publish.basic_publish(
                outgoing.value,
                exchange=exchange,
                routing_key=routing_key,
                properties=amqp_properties(outgoing.properties, outgoing.headers),
                mandatory=True,
                timeout=self.publish_timeout,
            )
        except PublishError:
            await self._hold()
            self.control.failed(f"{target.label}: returned as unroutable (no queue bound)")
            return
        except DeliveryError:
            await self._hold()
            self.control.failed(f"{target.label}: the broker refused the message (nack)")
            return
        except TimeoutError:  # stays unacked: returned to the DLQ at the end of the run
            await self._hold()
            self.control.failed(f"{target.label}: not confirmed within {self.publish_timeout:g}s")
            return
        except Exception as exc:  # channel or connection gone: stays unacked, so it stays
            self.lost = self.lost or exc
            self.control.failed(f"{target.label}: not confirmed ({reply_text(exc)})")
            return
        try:
            tag = delivered.delivery.delivery_tag
            if self.single_acks:
                await self.consume.basic_ack(tag, wait=False)
            else:
                self.confirmed.add(tag)
                await self._flush_acks()
        except Exception as exc:  # confirmed but not acked: a duplicate on the next run
            self.lost = self.lost or exc
        self.control.moved(target)

    async def _flush_acks(self, *, force: bool = False) -> None:
        """Ack the confirmed run at the head of the order with one ``multiple`` ack."""
        if self.single_acks:
            return
        due = len(self.confirmed) >= ACK_BATCH or time.monotonic() - self.last_flush > ACK_EVERY
        if not (force or due):
            return
        last = None
        while self.ack_order and self.ack_order[0] in self.confirmed:
            last = self.ack_order.popleft()
            self.confirmed.discard(last)
        self.last_flush = time.monotonic()
        if last is not None:
            await self.consume.basic_ack(last, multiple=True, wait=False)

    async def _hold(self) -> None:
        """A message stays unacked: switch to single acks (see ``ack_order``)."""
        if self.single_acks:
            return
        await self._flush_acks(force=True)
        self.single_acks = True
        pending, self.confirmed = sorted(self.confirmed), set()
        self.ack_order.clear()
        for tag in pending:
            await self.consume.basic_ack(tag, wait=False)

    async def _close(self) -> None:
        """Return every message this run did not move, in order, then close."""
        self.closing = True
        with contextlib.suppress(Exception):
            if self.consume is not None and not self.consume.is_closed:
                for tag in list(self.consume.consumers):
                    await self.consume.basic_cancel(tag)
                # delivery tag 0 + multiple: every message still unacked on this channel
                await self.consume.basic_nack(0, multiple=True, requeue=True)
        await self.connections.close()

    def _lost_error(self) -> ConnectError:
        summary = self.control.summary
        return ConnectError(
            f"lost the connection to RabbitMQ at {self.connections.where(self.vhost)} during "
            f"the redrive of {self.dlq.name!r} after {summary.moved} moved "
            f"({reply_text(self.lost) if self.lost else 'closed'}); messages not confirmed "
            f"stay in the DLQ",
            hint="rerun the same command to continue; it resumes where this one stopped",
        )


async def redrive(
    settings: RabbitSettings,
    api: ManagementClient,
    request_timeout: float,
    context: str,
    dlq: Destination,
    planner: Planner,
    control: RedriveControl,
) -> None:
    await _Run(settings, api, request_timeout, context, dlq, planner, control).run()
