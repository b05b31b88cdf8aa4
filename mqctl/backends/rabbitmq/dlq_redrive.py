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
Deliveries are read straight off the consuming channel (no task per message); every message
available is decided and encoded, and the batch goes to the socket in one write (one
``basic.publish`` + header + body per message, in DLQ order, on one channel). Confirms are
tracked by publish sequence number in a sliding window of ``window`` messages; after each
burst of confirms the head of the window that is settled is acked on the DLQ with one
``basic.ack multiple`` up to the highest contiguous confirmed delivery tag (single acks once
a message of this run is held, since a multiple ack would cover it too). A return
(``mandatory``, unroutable) is matched to the unconfirmed publishes by message id, exchange
and routing key; when that is ambiguous every candidate is treated as returned: they stay in
the DLQ (a possible duplicate, never a loss).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections import OrderedDict, deque
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

FLUSH_EVERY = 256  # messages encoded before they are written even if more are waiting
HOLD_CAP = 10_000  # messages kept unacked (not moved) before the run stops early
POLL = 0.5
# AMQP property names in our models vs pamqp's attribute names.
_PAMQP_NAMES = {"type": "message_type"}
_FRAME_END = b"\xce"
_FRAME_HEADER = struct.Struct(">BHI")  # frame type, channel, payload size
_ACK = struct.Struct(">BHIHHQB")  # a whole basic.ack method frame but its end octet
_PENDING, _CONFIRMED, _FAILED = 0, 1, 2


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


def ack_frame(channel: int, delivery_tag: int, multiple: bool) -> bytes:
    """A ``basic.ack`` method frame (class 60, method 80: 13 bytes of arguments)."""
    return _ACK.pack(1, channel, 13, 60, 80, delivery_tag, 1 if multiple else 0) + _FRAME_END


# Basic properties a redrive sends (AMQP_PROPERTIES and the headers), in wire order, with
# their flag bit and type: s shortstr, t table, o octet, T timestamp.
_PROPERTY_LAYOUT = (
    ("content_type", 15, "s"),
    ("content_encoding", 14, "s"),
    ("headers", 13, "t"),
    ("delivery_mode", 12, "o"),
    ("priority", 11, "o"),
    ("correlation_id", 10, "s"),
    ("reply_to", 9, "s"),
    ("message_id", 7, "s"),
    ("timestamp", 6, "T"),
    ("type", 5, "s"),
    ("app_id", 3, "s"),
)


def encode_properties(properties: dict[str, Any], headers: list[tuple[str, Any]]) -> bytes:
    """The property flags and values of a content header, as pamqp's ``Basic.Properties``
    marshals them (None and empty strings are left out), without building that object."""
    from pamqp import encode

    flags = 0
    parts: list[bytes] = []
    for name, bit, kind in _PROPERTY_LAYOUT:
        value: Any = dict(headers) if name == "headers" else properties.get(name)
        if value is None or value == "":
            continue
        flags |= 1 << bit
        if kind == "s":
            raw = value.encode() if isinstance(value, str) else bytes(value)
            if len(raw) > 255:
                raise ValueError(f"property {name} longer than 255 bytes")
            parts.append(bytes((len(raw),)) + raw)
        elif kind == "o":
            parts.append(bytes((int(value),)))
        elif kind == "t":
            parts.append(encode.field_table(value))
        else:
            parts.append(encode.timestamp(value))
    return flags.to_bytes(2, "big") + b"".join(parts)


class _Publisher:
    """Encodes ``basic.publish`` + content header + body frames for one channel."""

    def __init__(self, channel_number: int, max_content_size: int) -> None:
        self.number = channel_number
        self.max_content = max_content_size
        self._methods: dict[tuple[str, str], bytes] = {}
        self._header = struct.Struct(">BHIHHQ")  # frame header + class, weight, body size

    def method(self, exchange: str, routing_key: str) -> bytes:
        key = (exchange, routing_key)
        frame = self._methods.get(key)
        if frame is None:
            from pamqp import frame as pamqp_frame
            from pamqp.commands import Basic

            publish = Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=True)
            frame = pamqp_frame.marshal(publish, self.number)
            self._methods[key] = frame
        return frame

    def encode(self, exchange: str, routing_key: str, body: bytes, properties: bytes) -> bytes:
        """One message's frames; ``properties`` from :func:`encode_properties`."""
        number = self.number
        header = self._header.pack(2, number, 12 + len(properties), 60, 0, len(body))
        parts = [self.method(exchange, routing_key), header, properties, _FRAME_END]
        size = self.max_content
        for start in range(0, len(body), size):
            chunk = body[start : start + size]
            parts.append(_FRAME_HEADER.pack(3, number, len(chunk)) + chunk + _FRAME_END)
        return b"".join(parts)


class _InFlight:
    """One published copy: its publish sequence number and the DLQ delivery tag to ack."""

    __slots__ = ("error", "key", "seq", "state", "tag", "target")

    def __init__(self, seq: int, tag: int, target: Target, key: tuple[Any, str, str]) -> None:
        self.seq = seq
        self.tag = tag
        self.target = target
        self.key = key  # (message id, exchange, routing key): to match a basic.return
        self.state = _PENDING
        self.error = ""


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
        self.deliveries: deque[Any] = deque()
        self.exists: dict[tuple[str, str], str | None] = {}
        self.window = max(1, control.window)
        # The sliding window, in publish (= DLQ) order, and its unconfirmed part by sequence.
        self.order: deque[_InFlight] = deque()
        self.unconfirmed: OrderedDict[int, _InFlight] = OrderedDict()
        self.seq = 0  # publish sequence number (the broker's confirm delivery tag)
        self.batch: list[bytes] = []
        # Lowest DLQ delivery tag this run holds (leaves unacked): a ``multiple`` ack may
        # only reach below it; from there on every message is acked on its own.
        self.first_held: int | None = None
        self.held = 0
        self.wake = asyncio.Event()  # a delivery, a confirm or an outage
        self.settled = asyncio.Event()  # confirms arrived: the acker walks the window
        self.progress_at = time.monotonic()
        self.lost: BaseException | None = None
        self.closing = False
        self.consume: Any = None
        self.publish: Any = None
        self.publisher: _Publisher | None = None
        self.acker: asyncio.Task[None] | None = None
        # A publish may wait behind a full window on a busy broker: that is not an outage.
        self.publish_timeout = max(30.0, 3 * timeout)

    # ------------------------------------------------------------------------------ set-up

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
            self._hook_channels()
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

    def _hook_channels(self) -> None:
        """Take over the frames of the hot path from aiormq's per-message machinery.

        aiormq resolves one future per publish (and schedules a callback per confirmed tag)
        and starts a task per delivery; at tens of thousands of messages that bookkeeping is
        most of the cost. The channel reader dispatches through these methods, so the
        instance attributes replace them for these two channels only."""
        consume, publish = self.consume, self.publish
        for channel, name in (
            (consume, "_on_deliver_frame"),
            (publish, "_on_confirm_frame"),
            (publish, "_on_return_frame"),
        ):
            if not callable(getattr(channel, name, None)) or not callable(
                getattr(channel, "_read_content", None)
            ):
                raise MqctlError(f"unsupported aiormq version (no Channel.{name})")
        consume._on_deliver_frame = self._on_deliver_frame
        publish._on_confirm_frame = self._on_confirm_frame
        publish._on_return_frame = self._on_return_frame
        for channel in (consume, publish):
            channel.closing.add_done_callback(self._channel_closed)
        self.publisher = _Publisher(publish.number, publish.max_content_size)

    # ------------------------------------------------------------------ frames from aiormq

    async def _read_message(self, channel: Any, frame: Any) -> Any:
        from pamqp.header import ContentHeader

        header = await channel._get_frame()
        if not isinstance(header, ContentHeader):
            raise ValueError(f"unexpected frame {header!r} instead of a content header")
        return await channel._read_content(frame, header)

    async def _on_deliver_frame(self, frame: Any) -> None:
        self.deliveries.append(await self._read_message(self.consume, frame))
        self.wake.set()

    async def _on_message(self, message: Any) -> None:
        """basic_consume's callback (unused while ``_on_deliver_frame`` is hooked)."""
        self.deliveries.append(message)
        self.wake.set()

    async def _on_confirm_frame(self, frame: Any) -> None:
        from pamqp.commands import Basic

        self.progress_at = time.monotonic()
        nack = isinstance(frame, Basic.Nack)
        tag = frame.delivery_tag
        unconfirmed = self.unconfirmed
        if getattr(frame, "multiple", False):
            while unconfirmed:
                seq = next(iter(unconfirmed))
                if seq > tag:
                    break
                self._settle(unconfirmed.popitem(last=False)[1], nack)
        else:
            entry = unconfirmed.pop(tag, None)
            if entry is not None:
                self._settle(entry, nack)
        self.settled.set()

    def _settle(self, entry: _InFlight, nack: bool) -> None:
        if entry.state != _PENDING:  # returned before its confirm: stays failed
            return
        if nack:
            entry.state = _FAILED
            entry.error = f"{entry.target.label}: the broker refused the message (nack)"
        else:
            entry.state = _CONFIRMED

    async def _on_return_frame(self, frame: Any) -> None:
        """An unroutable copy came back (it is confirmed right after: stays failed)."""
        message = await self._read_message(self.publish, frame)
        key = (message.header.properties.message_id, frame.exchange, frame.routing_key)
        candidates = [e for e in self.unconfirmed.values() if e.key == key]
        if not candidates:
            if any(e.key == key for e in self.order):  # already marked by an earlier return
                return
            candidates = list(self.unconfirmed.values())  # cannot tell: none is acked
        for entry in candidates:
            if entry.state == _PENDING:
                entry.state = _FAILED
                entry.error = f"{entry.target.label}: returned as unroutable (no queue bound)"

    def _connection_closed(self, _sender: Any, exc: BaseException | None = None) -> None:
        """The broker or the network closed the connection: every unacked message is back in
        the DLQ already, so stop at once; publishes still unconfirmed count as failed."""
        if self.closing:
            return
        self.lost = self.lost or exc or ConnectionError("connection closed")
        self.wake.set()
        self.settled.set()

    def _channel_closed(self, future: asyncio.Future[Any]) -> None:
        exc = None if future.cancelled() else future.exception()
        if self.closing:
            return
        self.lost = self.lost or exc or ConnectionError("a channel of the redrive closed")
        self.wake.set()
        self.settled.set()

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
                decision = self.planner.decide(to_message(delivered, self.dlq.name, self.vhost))
                if decision.action == "stop":
                    self.control.stopped_early(f"--limit {self.planner.options.limit} reached")
                    break
                self.control.examined()
                if decision.action == "skip":
                    self._hold(delivered.delivery.delivery_tag)
                    self.control.skipped(decision.reason or "skipped")
                else:
                    await self._start_move(delivered, decision)
                if self.held >= HOLD_CAP:
                    self.control.stopped_early(
                        f"{self.held} messages left in the DLQ are held by this run; "
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

    async def _start_move(self, delivered: Any, decision: Decision) -> None:
        """Encode the copy into the batch (sent by ``_flush``); a missing target holds it."""
        target, outgoing = decision.target, decision.outgoing
        assert target is not None and outgoing is not None
        tag = delivered.delivery.delivery_tag
        missing = self.exists.get((target.kind, target.name), "?")
        if missing == "?":
            missing = await self._target_missing(target)
        if missing is not None:
            self._hold(tag)
            self.control.failed(missing)
            return
        if self.control.rate_limited:
            await self._flush()  # nothing waits in the batch while the limiter sleeps
            await self.control.throttle()
        while len(self.order) >= self.window and self.lost is None:
            await self._flush()
            await self._wait_progress()
        if self.lost is not None:  # not published: stays unacked, so it stays in the DLQ
            return
        exchange = target.name if target.kind == "exchange" else ""
        routing_key = outgoing.routing_key or (target.name if target.kind == "queue" else "")
        properties = encode_properties(outgoing.properties, outgoing.headers)
        assert self.publisher is not None
        self.batch.append(self.publisher.encode(exchange, routing_key, outgoing.value, properties))
        self.seq += 1
        message_id = outgoing.properties.get("message_id") or None
        entry = _InFlight(self.seq, tag, target, (message_id, exchange, routing_key))
        if not self.unconfirmed:
            self.progress_at = time.monotonic()
        self.unconfirmed[self.seq] = entry
        self.order.append(entry)
        if len(self.batch) >= FLUSH_EVERY or self.control.rate_limited:
            await self._flush()

    async def _flush(self) -> None:
        """Write the encoded publishes in one go (they reach the socket in this order)."""
        if not self.batch or self.lost is not None:
            return
        from aiormq.abc import ChannelFrame

        payload, self.batch = b"".join(self.batch), []
        await self._write(self.publish, ChannelFrame(payload=payload, should_close=False))

    async def _write(self, channel: Any, frame: Any) -> None:
        """Queue raw frames for the connection's writer (FIFO with aiormq's own frames)."""
        queue = channel.write_queue
        while self.lost is None:
            try:
                queue.put_nowait(frame)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.put(frame), POLL)
                    return

    async def _wait_progress(self) -> None:
        """Wait for confirms (or an outage); fail publishes unconfirmed for too long."""
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), POLL)
        if self.unconfirmed and time.monotonic() - self.progress_at > self.publish_timeout:
            # Stays unacked: returned to the DLQ at the end of the run (a late confirm is
            # ignored, so at worst the copy is a duplicate).
            while self.unconfirmed:
                entry = self.unconfirmed.popitem(last=False)[1]
                if entry.state == _PENDING:
                    entry.state = _FAILED
                    entry.error = (
                        f"{entry.target.label}: not confirmed within {self.publish_timeout:g}s"
                    )
            self.settled.set()

    async def _wait_settled(self) -> None:
        """Every publish confirmed (or failed) and acked: the end of a run."""
        while self.order and self.lost is None:
            await self._wait_progress()

    # ----------------------------------------------------------------------------- acking

    def _hold(self, tag: int) -> None:
        """A message stays unacked: no ``multiple`` ack may reach it any more."""
        self.held += 1
        if self.first_held is None or tag < self.first_held:
            self.first_held = tag

    async def _ack_loop(self) -> None:
        """After each burst of confirms: ack the settled head of the window, in order."""
        while True:
            await self.settled.wait()
            self.settled.clear()
            if self.lost is not None:
                self.wake.set()
                return
            try:
                await self._ack_settled()
            except Exception as exc:  # confirmed but not acked: a duplicate on the next run
                self.lost = self.lost or exc
            self.wake.set()

    async def _ack_settled(self) -> None:
        order, control = self.order, self.control
        frames: list[bytes] = []
        run: list[int] = []  # confirmed DLQ delivery tags since the last hold, in order

        def ack_run() -> None:
            first_held = self.first_held
            number = self.consume.number
            if first_held is None or run[-1] < first_held:
                frames.append(ack_frame(number, run[-1], True))
            else:
                frames.extend(ack_frame(number, t, False) for t in run)
            run.clear()

        while order and order[0].state != _PENDING:
            entry = order.popleft()
            if entry.state == _CONFIRMED:
                run.append(entry.tag)
                control.moved(entry.target)
            else:
                if run:
                    ack_run()
                self._hold(entry.tag)
                control.failed(entry.error)
        if run:
            ack_run()
        if frames and self.lost is None:
            from aiormq.abc import ChannelFrame

            if self.consume.is_closed:
                raise ConnectionError("the consuming channel closed")
            await self._write(
                self.consume, ChannelFrame(payload=b"".join(frames), should_close=False)
            )

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
        for entry in self.order:  # not acked (the connection is gone): back in the DLQ
            if entry.state == _CONFIRMED:  # the copy arrived: a duplicate on the next run
                self.control.moved(entry.target)
            elif entry.state == _FAILED:
                self.control.failed(entry.error)
            else:
                self.control.failed(
                    f"{entry.target.label}: not confirmed before the connection was lost"
                )
        self.order.clear()
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
