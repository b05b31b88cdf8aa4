"""RabbitMQ redrive: consume with manual ack, publish with confirms, ack after the confirm.

Zero loss: a DLQ message is acknowledged only after the broker confirmed the copy (publisher
confirm, ``mandatory`` so an unroutable copy comes back as a failure instead of vanishing).
Until then it is unacked, so a crash, a kill or a lost connection makes the broker put it
back in the DLQ; the price is a possible duplicate for the messages in flight at that moment
(at most ``window``: published and not yet acked). Messages we do not move (filtered, loop
guard, no destination, failed) stay unacked until the end of the run and are then returned
with one ``basic.nack requeue`` (classic queues put them back in their original place), so a
run sees every message at most once and never loops on a failing one.

The run takes at most the number of messages that were ready when it started, so messages
dead-lettered again while it runs wait for the next run.

Throughput: the hot path is pipelined instead of one publish/confirm round trip per message.
Both connections are read in bulk, hundreds of frames per read, deliveries, confirms and
returns decoded straight into this run without aiormq's per-frame objects, queues and tasks
(:mod:`.redrive_reader`, wired in :mod:`.redrive_frames`); every message available is decided
and encoded (:mod:`.redrive_wire`, headers republished unchanged keep their received bytes),
and the batch goes to the socket in one write (one ``basic.publish`` + header + body per
message, in DLQ order, on one channel). Confirms and the acks they allow are tracked in a
sliding window of ``window`` messages (:mod:`.redrive_window`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING, Any

from mqctl.backends.rabbitmq import aiormq_internals
from mqctl.backends.rabbitmq.amqp import AmqpConnections, reply_text
from mqctl.backends.rabbitmq.dlq import check_redrive, missing_target
from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.redrive_frames import RedriveFrames
from mqctl.backends.rabbitmq.redrive_reader import BulkReader, Delivery
from mqctl.backends.rabbitmq.redrive_window import ConfirmWindow, publish_and_confirm
from mqctl.backends.rabbitmq.redrive_wire import (
    FrameEncoder,
    ack_frame,
    amqp_properties,
    delivery_to_message,
    encode_properties,
    to_message,
)
from mqctl.backends.rabbitmq.settings import RabbitSettings
from mqctl.errors import ConnectError, MqctlError
from mqctl.models.inventory import Destination

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.plan import Decision, Planner, Target

FLUSH_EVERY = 256  # messages encoded before they are written even if more are waiting
HOLD_CAP = 10_000  # messages kept unacked (not moved) before the run stops early
POLL = 0.5


class _Run(RedriveFrames):
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
        # Publishing has its own connection: confirms then never wait in the socket behind
        # the deliveries the broker streams to the consumer.
        self.publishing = AmqpConnections(settings, timeout, f"{context}, redrive publish")
        self.deliveries: deque[Any] = deque()
        self.exists: dict[tuple[str, str], str | None] = {}
        self.window = max(1, control.window)
        self.inflight = ConfirmWindow()
        self.batch: list[bytes] = []
        self.wake = asyncio.Event()  # a delivery or an outage
        self.settled = asyncio.Event()  # confirms arrived: the acker walks the window
        self.room = asyncio.Event()  # the acker walked the window, or an outage
        self.lost: BaseException | None = None
        self.closing = False
        self.consume: Any = None
        self.publish: Any = None
        self.fast = True  # frames taken over from aiormq (else its public API)
        self.encoder: FrameEncoder | None = None  # set when fast
        self.bulk: BulkReader | None = None  # reads the deliveries (when aiormq allows)
        self.bulk_confirms: BulkReader | None = None
        self.publishes: set[asyncio.Task[None]] = set()  # public API: one per unconfirmed
        self.acker: asyncio.Task[None] | None = None
        # A publish may wait behind a full window on a busy broker: that is not an outage.
        self.publish_timeout = max(30.0, 3 * timeout)

    # ------------------------------------------------------------------------------ set-up

    async def open(self) -> int:
        """Open channels, check the DLQ, start consuming; returns the ready count."""
        await check_redrive(self.api, self.vhost, self.dlq, [])  # exists, not a stream
        connection = await self.connections.connection(self.vhost)
        connection.close_callbacks.add(self._connection_closed)
        publishing = await self.publishing.connection(self.vhost)
        publishing.close_callbacks.add(self._connection_closed)
        try:
            consume = await connection.channel(publisher_confirms=False)
            publish = await publishing.channel(publisher_confirms=True, on_return_raises=True)
            self.consume = await consume.get_underlay_channel()
            self.publish = await publish.get_underlay_channel()
            self.fast = aiormq_internals.can_take_over_frames(self.consume, self.publish)
            self._hook_channels()
            if self.fast:
                self._read_in_bulk()
                # The frame aiormq was already waiting for is read its old way: this reply.
                await self.publish.basic_qos(prefetch_count=0)
            declared = await self.consume.queue_declare(self.dlq.name, passive=True)
            ready = int(declared.message_count or 0)
            prefetch = self.window + HOLD_CAP + 1
            await self.consume.basic_qos(prefetch_count=min(prefetch, 65535))
            if ready or self.control.total:
                await self.consume.basic_consume(self.dlq.name, self._on_message, no_ack=False)
        except MqctlError:
            raise
        except Exception as exc:
            raise self.connections.map_error(exc, self.vhost, f"queue {self.dlq.name!r}") from None
        self.acker = asyncio.create_task(self._ack_loop())
        return ready

    # ---------------------------------------------------------------------------- the loop

    async def run(self) -> None:
        ready = await self.open()
        # A plan read just before (the confirmation prompt) returns its peeked messages
        # asynchronously, so the ready count can be low for a moment: the expected count
        # from that plan, when given, is the budget instead (fewer arriving ends on idle).
        ready = max(ready, self.control.total or 0)
        self.control.begin(ready)
        seen = 0
        try:
            while seen < ready and not self.control.stopping and self.lost is None:
                if not self.deliveries:
                    await self._flush()  # everything available is encoded: send it
                    if not await self._wait_delivery():
                        break
                delivered = self.deliveries.popleft()
                seen += 1
                if type(delivered) is Delivery:  # read by BulkReader
                    tag, received = delivered.delivery_tag, delivered.raw_headers
                    message = delivery_to_message(delivered, self.dlq.name, self.vhost)
                else:  # aiormq's DeliveredMessage
                    tag, received = delivered.delivery.delivery_tag, None
                    message = to_message(delivered, self.dlq.name, self.vhost)
                decision = self.planner.decide(message)
                if decision.action == "stop":
                    self.control.stopped_early(f"--limit {self.planner.options.limit} reached")
                    break
                self.control.examined()
                if decision.action == "skip":
                    self.inflight.hold(tag)
                    self.control.skipped(decision.reason or "skipped")
                else:
                    await self._start_move(tag, received, decision)
                if self.inflight.held >= HOLD_CAP:
                    self.control.stopped_early(
                        f"{self.inflight.held} messages left in the DLQ are held by this run; "
                        f"rerun with filters that match them or redrive them in parts"
                    )
                    break
            await self._flush()
            await self._wait_settled()
        finally:
            await asyncio.shield(self._close())
        if self.lost is not None:
            raise self._lost_error()

    async def _wait_delivery(self) -> bool:
        """Wait for the next delivery; False when the queue stayed empty for the idle time."""
        waited = 0.0
        idle = max(2.0, min(self.timeout, 5.0))
        while not self.deliveries:
            if self.lost is not None:
                return False
            if waited >= idle:
                self.control.stopped_early("the DLQ had fewer messages than at the start")
                return False
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL)
            waited += POLL
        return True

    async def _target_missing(self, target: Target) -> str | None:
        """Why ``target`` cannot take messages (it does not exist), checked once per run."""
        key = (target.kind, target.name)
        if key not in self.exists:
            self.exists[key] = await missing_target(self.api, self.vhost, target)
        return self.exists[key]

    async def _start_move(
        self, tag: int, received: dict[str, tuple[Any, bytes]] | None, decision: Decision
    ) -> None:
        """Encode the copy into the batch (sent by ``_flush``); a missing target holds it.
        ``received``: the DLQ message's encoded header values (reused where unchanged)."""
        target, outgoing = decision.target, decision.outgoing
        assert target is not None and outgoing is not None
        missing = self.exists.get((target.kind, target.name), "?")
        if missing == "?":
            missing = await self._target_missing(target)
        if missing is not None:
            self.inflight.hold(tag)
            self.control.failed(missing)
            return
        if self.control.rate_limited:
            await self._flush()  # nothing waits in the batch while the limiter sleeps
            await self.control.throttle()
        while len(self.inflight) >= self.window and self.lost is None:
            await self._flush()
            await self._wait_progress()
        if self.lost is not None:  # not published: stays unacked, so it stays in the DLQ
            return
        exchange = target.name if target.kind == "exchange" else ""
        routing_key = outgoing.routing_key or (target.name if target.kind == "queue" else "")
        message_id = outgoing.properties.get("message_id") or None
        if self.encoder is None:  # aiormq's public API
            self.inflight.published(tag, target, (message_id, exchange, routing_key))
            self._publish_one(self.inflight.seq, exchange, routing_key, outgoing)
            return
        properties = encode_properties(outgoing.properties, outgoing.headers, received)
        body = outgoing.value or b""  # AMQP has no null body: a null value goes as empty
        self.batch.append(self.encoder.encode(exchange, routing_key, body, properties))
        self.inflight.published(tag, target, (message_id, exchange, routing_key))
        if len(self.batch) >= FLUSH_EVERY or self.control.rate_limited:
            await self._flush()

    def _publish_one(self, seq: int, exchange: str, routing_key: str, outgoing: Any) -> None:
        """Publish through aiormq's public API: a task per message awaits its confirm (tasks
        take the channel's lock in order, so copies still go out in DLQ order)."""
        properties = amqp_properties(outgoing.properties, outgoing.headers)
        task = asyncio.create_task(
            publish_and_confirm(
                self.publish, self.inflight, seq, exchange, routing_key, outgoing.value, properties
            )
        )
        task.add_done_callback(self._published)
        self.publishes.add(task)

    def _published(self, task: asyncio.Task[None]) -> None:
        self.publishes.discard(task)
        self.settled.set()

    async def _flush(self) -> None:
        """Write the encoded publishes in one go (they reach the socket in this order)."""
        if not self.batch or self.lost is not None:
            return
        payload, self.batch = b"".join(self.batch), []
        await aiormq_internals.write_raw(self.publish, payload, self._stopped, POLL)

    def _stopped(self) -> bool:
        return self.lost is not None

    async def _wait_progress(self) -> None:
        """Wait for confirms (or an outage); fail publishes unconfirmed for too long."""
        self.room.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.room.wait(), POLL)
        if self.inflight.expire(self.publish_timeout):
            self.settled.set()

    async def _wait_settled(self) -> None:
        """Every publish confirmed (or failed) and acked: the end of a run."""
        while self.inflight and self.lost is None:
            await self._wait_progress()

    # ----------------------------------------------------------------------------- acking

    async def _ack_loop(self) -> None:
        """After each burst of confirms: ack the settled head of the window, in order."""
        while True:
            await self.settled.wait()
            self.settled.clear()
            if self.lost is not None:
                self.room.set()
                return
            try:
                await self._ack_settled()
            except Exception as exc:  # confirmed but not acked: a duplicate on the next run
                self.lost = self.lost or exc
                self.wake.set()
            self.room.set()

    async def _ack_settled(self) -> None:
        acks = self.inflight.settled_acks(self.control)
        if acks and self.lost is None:
            consume = self.consume
            if consume.is_closed:
                raise ConnectionError("the consuming channel closed")
            if not self.fast:
                for tag, multiple in acks:
                    await consume.basic_ack(tag, multiple=multiple)
                return
            frames = b"".join(ack_frame(consume.number, tag, multiple) for tag, multiple in acks)
            await aiormq_internals.write_raw(consume, frames, self._stopped, POLL)

    # ----------------------------------------------------------------------------- ending

    async def _close(self) -> None:
        """Ack what is settled, return every message this run did not move, then close."""
        if self.acker is not None:
            self.acker.cancel()
            with contextlib.suppress(BaseException):
                await self.acker
        if self.lost is None:
            with contextlib.suppress(Exception):
                await self._ack_settled()
        self.inflight.abandon(self.control)  # not acked (the connection is gone): in the DLQ
        for task in list(self.publishes):  # public API: confirms that will not come now
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self.closing = True
        with contextlib.suppress(Exception):
            if self.consume is not None and not self.consume.is_closed:
                for tag in list(self.consume.consumers):
                    await self.consume.basic_cancel(tag)
                # delivery tag 0 + multiple: every message still unacked on this channel
                await self.consume.basic_nack(0, multiple=True, requeue=True)
        await self.connections.close()
        await self.publishing.close()

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
