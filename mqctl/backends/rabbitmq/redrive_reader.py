"""Reads a redrive's two AMQP connections in bulk, without aiormq's per-frame machinery.

aiormq reads every frame with three ``readexactly`` calls, unmarshals it with pamqp, passes it
through two queues and a task switch, then builds a ``DeliveredMessage``: at tens of thousands
of small messages that is most of a redrive's CPU. :class:`BulkReader` takes one connection's
frames from the stream's buffer in one ``read`` (hundreds of frames at a time) and handles the
redrive's own frames on its channel at once: ``basic.deliver`` + content header + body frames
(:class:`Delivery`), ``basic.ack`` / ``basic.nack`` (publisher confirms) and ``basic.return`` +
its content. Every other frame (RPC replies, heartbeats, channel and connection close...) is
unmarshalled by pamqp and handed to aiormq as before, in the order received.

Values are decoded with pamqp's own field decoders (``decode.embedded_value``, ``short_str``,
``timestamp``), so a delivery holds exactly what pamqp would have returned; in addition it
keeps each header's encoded value (``raw_headers``) so a copy republished unchanged can reuse
those bytes (:func:`mqctl.backends.rabbitmq.redrive_wire.encode_properties`).
tests/test_redrive_reader.py checks the parser against pamqp on generated frames.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from typing import Any

from pamqp import decode
from pamqp import frame as amqp_frame
from pamqp.exceptions import PAMQPException
from pamqp.header import ContentHeader

FRAME_METHOD, FRAME_HEADER, FRAME_BODY = 1, 2, 3
FRAME_END = 0xCE
READ_SIZE = 1 << 18
_HEAD = struct.Struct(">BHI")  # frame type, channel, payload size
_METHOD = struct.Struct(">HH")  # class id, method id
_U64 = struct.Struct(">Q")
_U16 = struct.Struct(">H")
_CONTENT = struct.Struct(">HHQH")  # class id, weight, body size, first property flags
BASIC_DELIVER = (60, 60)
BASIC_RETURN = (60, 50)
BASIC_ACK = (60, 80)
BASIC_NACK = (60, 120)

# Basic properties in wire order: AMQP name, flag bit, kind (s shortstr, t table, o octet,
# T timestamp). pamqp calls ``type`` ``message_type``; this module uses the AMQP names.
PROPERTY_LAYOUT = (
    ("content_type", 15, "s"),
    ("content_encoding", 14, "s"),
    ("headers", 13, "t"),
    ("delivery_mode", 12, "o"),
    ("priority", 11, "o"),
    ("correlation_id", 10, "s"),
    ("reply_to", 9, "s"),
    ("expiration", 8, "s"),
    ("message_id", 7, "s"),
    ("timestamp", 6, "T"),
    ("type", 5, "s"),
    ("user_id", 4, "s"),
    ("app_id", 3, "s"),
    ("cluster_id", 2, "s"),
)


class FrameError(ValueError):
    """The stream does not hold valid AMQP frames."""


class Delivery:
    """One ``basic.deliver`` (or ``basic.return``) with its content, decoded like pamqp."""

    __slots__ = (
        "body",
        "delivery_tag",
        "exchange",
        "headers",
        "properties",
        "raw_headers",
        "redelivered",
        "reply_code",
        "routing_key",
    )

    def __init__(self) -> None:
        self.delivery_tag = 0
        self.redelivered = False
        self.reply_code = 0  # basic.return only
        self.exchange = ""
        self.routing_key = ""
        self.properties: dict[str, Any] = {}  # by AMQP name, headers apart, None left out
        self.headers: dict[str, Any] | None = None
        # Each header's encoded value (type octet + value) as received, with the decoded
        # object it came from: reused only while that very object is republished.
        self.raw_headers: dict[str, tuple[Any, bytes]] = {}
        self.body = b""


def _short_str(data: bytes, offset: int) -> tuple[str, int]:
    size = data[offset]
    end = offset + 1 + size
    if end > len(data):
        raise FrameError("short string past the end of its frame")
    return data[offset + 1 : end].decode("utf-8"), end


def decode_table(data: bytes, offset: int, into: Delivery) -> int:
    """Decode the field table at ``offset`` into ``into.headers`` / ``raw_headers`` (the
    loop of pamqp's ``decode.field_table``, keeping each value's bytes); returns its end."""
    length: int = struct.unpack_from(">I", data, offset)[0]
    offset += 4
    end: int = offset + length
    if end > len(data):
        raise FrameError("field table length exceeds its frame")
    table: dict[str, Any] = {}
    raw = into.raw_headers
    while offset < end:
        key_length = data[offset]
        offset += 1
        if offset + key_length > end:
            raise FrameError("field table key length exceeds its table")
        key = data[offset : offset + key_length].decode("utf-8")
        offset += key_length
        try:
            consumed, value = decode.embedded_value(data[offset:end])
        except (ValueError, struct.error, TypeError) as exc:
            raise FrameError(f"field table value of {key!r}: {exc}") from None
        if consumed == 0:
            raise FrameError("empty field table value")
        table[key] = value
        raw[key] = (value, data[offset : offset + consumed])
        offset += consumed
    into.headers = table
    return end


def decode_properties(data: bytes, offset: int, flags: int, into: Delivery) -> None:
    """The basic properties after the content header's flags, as pamqp reads them."""
    properties = into.properties
    for name, bit, kind in PROPERTY_LAYOUT:
        if not flags & (1 << bit):
            continue
        if kind == "s":
            properties[name], offset = _short_str(data, offset)
        elif kind == "o":
            properties[name] = data[offset]
            offset += 1
        elif kind == "t":
            offset = decode_table(data, offset, into)
        else:
            properties[name] = decode.timestamp(data[offset : offset + 8])[1]
            offset += 8


def _from_pamqp_header(payload: bytes, into: Delivery) -> None:
    """More than one property flags word (never sent by RabbitMQ): pamqp decodes it."""
    header = ContentHeader()
    header.unmarshal(payload)
    props = header.properties
    for name, _, _ in PROPERTY_LAYOUT:
        value = getattr(props, "message_type" if name == "type" else name, None)
        if name == "headers":
            into.headers = value
        elif value is not None:
            into.properties[name] = value


class BulkReader:
    """Replaces one aiormq ``FrameReceiver.get_frame``: frames of the ``methods`` on
    ``channel`` go to the callbacks, every other frame to aiormq."""

    def __init__(
        self,
        read: Callable[[int], Any],
        channel: int,
        *,
        on_delivery: Callable[[Delivery], None] | None = None,
        on_return: Callable[[Delivery], None] | None = None,
        on_confirm: Callable[[int, bool, bool], None] | None = None,
        touch: Callable[[], None] = lambda: None,
    ) -> None:
        self._read = read  # the StreamReader's read(n)
        self.channel = channel
        self.on_delivery = on_delivery
        self.on_return = on_return
        self.on_confirm = on_confirm
        self.methods: set[tuple[int, int]] = set()
        if on_delivery is not None:
            self.methods.add(BASIC_DELIVER)
        if on_return is not None:
            self.methods.add(BASIC_RETURN)
        if on_confirm is not None:
            self.methods |= {BASIC_ACK, BASIC_NACK}
        self.touch = touch  # aiormq's "a frame arrived" clock (its heartbeat check)
        self.buffer = bytearray()
        self.passed: deque[tuple[int, int, Any]] = deque()  # for aiormq, as pamqp returns
        self.content: Delivery | None = None  # a delivery or return waiting for its content
        self.returning = False
        self.body_size = 0
        self.parts: list[bytes] = []
        self.got = 0
        self.handled = 0  # frames handled here (tests check the bulk path was used)

    async def get_frame(self) -> tuple[int, int, Any]:
        """The next frame aiormq must see (its ``FrameReceiver.get_frame`` contract)."""
        while not self.passed:
            data = await self._read(READ_SIZE)
            if not data:
                if self.buffer or self.content is not None:
                    raise ConnectionError("Server connection unexpectedly closed")
                raise StopAsyncIteration
            self.feed(data)
            self.touch()
        return self.passed.popleft()

    def feed(self, data: bytes) -> None:
        """Take ``data`` off the stream: handle every complete frame in it."""
        buffer = self.buffer
        buffer += data
        size = len(buffer)
        position = 0
        mine, methods = self.channel, self.methods
        while size - position >= 8:
            kind, channel, length = _HEAD.unpack_from(buffer, position)
            end = position + 7 + length
            if end >= size:
                break
            if buffer[end] != FRAME_END:
                raise FrameError(f"frame end octet missing (frame type {kind})")
            if channel == mine and (
                self.content is not None
                or (kind == FRAME_METHOD and _METHOD.unpack_from(buffer, position + 7) in methods)
            ):
                self.handled += 1
                self._handle(kind, bytes(buffer[position + 7 : end]))
            else:
                try:
                    self.passed.append(amqp_frame.unmarshal(bytes(buffer[position : end + 1])))
                except PAMQPException as exc:
                    raise FrameError(str(exc)) from None
            position = end + 1
        del buffer[:position]

    def _handle(self, kind: int, payload: bytes) -> None:
        content = self.content
        if content is None:  # a method frame of ours
            self._method(payload)
        elif kind == FRAME_HEADER and not self.body_size and not self.parts:
            self._header(payload, content)
        elif kind == FRAME_BODY and self.body_size:
            self.parts.append(payload)
            self.got += len(payload)
            if self.got >= self.body_size:
                if self.got > self.body_size:
                    raise FrameError("content body longer than its header said")
                content.body = b"".join(self.parts) if len(self.parts) > 1 else self.parts[0]
                self._deliver(content)
        else:
            raise FrameError(f"unexpected frame type {kind} inside a message's content")

    def _method(self, payload: bytes) -> None:
        method = _METHOD.unpack_from(payload, 0)
        if method == BASIC_DELIVER:
            delivery = Delivery()
            _, offset = _short_str(payload, 4)  # consumer tag
            (delivery.delivery_tag,) = _U64.unpack_from(payload, offset)
            delivery.redelivered = bool(payload[offset + 8] & 1)
            delivery.exchange, offset = _short_str(payload, offset + 9)
            delivery.routing_key, _ = _short_str(payload, offset)
            self.content, self.returning = delivery, False
        elif method == BASIC_RETURN:
            delivery = Delivery()
            (delivery.reply_code,) = _U16.unpack_from(payload, 4)
            _, offset = _short_str(payload, 6)  # reply text
            delivery.exchange, offset = _short_str(payload, offset)
            delivery.routing_key, _ = _short_str(payload, offset)
            self.content, self.returning = delivery, True
        else:  # basic.ack / basic.nack: delivery tag, then multiple as bit 0
            assert self.on_confirm is not None
            (tag,) = _U64.unpack_from(payload, 4)
            self.on_confirm(tag, bool(payload[12] & 1), method == BASIC_NACK)

    def _header(self, payload: bytes, content: Delivery) -> None:
        _, _, body_size, flags = _CONTENT.unpack_from(payload, 0)
        if flags & 1:
            _from_pamqp_header(payload, content)
        else:
            decode_properties(payload, 14, flags, content)
        self.body_size = body_size
        if not body_size:
            self._deliver(content)

    def _deliver(self, content: Delivery) -> None:
        returning = self.returning
        self.content, self.body_size, self.parts, self.got = None, 0, [], 0
        callback = self.on_return if returning else self.on_delivery
        assert callback is not None
        callback(content)
