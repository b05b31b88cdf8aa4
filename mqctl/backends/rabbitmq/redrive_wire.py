"""The AMQP wire side of a RabbitMQ redrive: messages in, frames out, without aiormq objects.

A redrive writes its publishes and acks as pre-encoded frames (one socket write per burst), so
the frames are built here with pamqp's public marshalling: ``basic.publish`` + content header +
body frames per message (:class:`FrameEncoder`), the content header's property flags and values
(:func:`encode_properties`) and ``basic.ack`` frames (:func:`ack_frame`). Deliveries are turned
into the core :class:`Message` by :func:`to_message`.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from pamqp import encode as amqp_encode
from pamqp import frame as amqp_frame
from pamqp.commands import Basic

from mqctl.backends.rabbitmq.redrive_reader import PROPERTY_LAYOUT
from mqctl.dlq.metadata import REDRIVE_COUNT_HEADER
from mqctl.dlq.plan import AMQP_PROPERTIES
from mqctl.dlq.republish import REDRIVEN_PREFIX, is_dead_letter_header
from mqctl.models.messages import Message

if TYPE_CHECKING:
    from mqctl.backends.rabbitmq.redrive_reader import Delivery

# AMQP property names in our models vs pamqp's attribute names.
_PAMQP_NAMES = {"type": "message_type"}
FRAME_END = b"\xce"
_FRAME_HEADER = struct.Struct(">BHI")  # frame type, channel, payload size
_ACK = struct.Struct(">BHIHHQB")  # a whole basic.ack method frame but its end octet


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


_KEPT = (*AMQP_PROPERTIES, "expiration", "user_id")


def delivery_to_message(delivery: Delivery, queue: str, vhost: str) -> Message:
    """A delivery read by :class:`~.redrive_reader.BulkReader` as the core model (the same
    message :func:`to_message` makes of aiormq's)."""
    given = delivery.properties
    properties = {name: given[name] for name in _KEPT if name in given}
    headers = delivery.headers
    return Message(
        backend="rabbitmq",
        source=queue,
        value=delivery.body,
        headers=list(headers.items()) if headers else [],
        timestamp=given.get("timestamp"),
        exchange=delivery.exchange,
        routing_key=delivery.routing_key,
        redelivered=delivery.redelivered,
        vhost=vhost,
        properties=properties,
    )


def amqp_properties(properties: dict[str, Any], headers: list[tuple[str, Any]]) -> Any:
    kwargs = {_PAMQP_NAMES.get(k, k): v for k, v in properties.items() if k in AMQP_PROPERTIES}
    return Basic.Properties(headers=dict(headers), **kwargs)


def ack_frame(channel: int, delivery_tag: int, multiple: bool) -> bytes:
    """A ``basic.ack`` method frame (class 60, method 80: 13 bytes of arguments)."""
    return _ACK.pack(1, channel, 13, 60, 80, delivery_tag, 1 if multiple else 0) + FRAME_END


# Basic properties a redrive sends (AMQP_PROPERTIES and the headers), in wire order, with
# their flag bit and type (the reader's table of every basic property).
_PROPERTY_LAYOUT = tuple(
    entry for entry in PROPERTY_LAYOUT if entry[0] == "headers" or entry[0] in AMQP_PROPERTIES
)


def encode_properties(
    properties: dict[str, Any],
    headers: list[tuple[str, Any]],
    received: dict[str, tuple[Any, bytes]] | None = None,
) -> bytes:
    """The property flags and values of a content header, as pamqp's ``Basic.Properties``
    marshals them (None and empty strings are left out), without building that object.

    ``received``: the received message's encoded header values (``Delivery.raw_headers``),
    reused for the headers republished unchanged (see :func:`encode_table`)."""
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
            parts.append(
                encode_table(value, received) if received else amqp_encode.field_table(value)
            )
        else:
            parts.append(amqp_encode.timestamp(value))
    return flags.to_bytes(2, "big") + b"".join(parts)


# Per header name: its encoded key, and the received header whose bytes it may reuse.
_KEYS: dict[str, tuple[bytes, str | None]] = {}
_KEYS_MAX = 4096


def _key(key: str) -> tuple[bytes, str | None] | None:
    """(encoded key, received name to reuse) for ``key``; None: pamqp must encode the table
    (a key over 128 bytes, which it truncates)."""
    known = _KEYS.get(key)
    if known is not None:
        return known
    name = key.encode("utf-8")
    if len(name) > 128:
        return None
    source: str | None = key
    if key.startswith(REDRIVEN_PREFIX):
        original = key[len(REDRIVEN_PREFIX) :]
        source = original if is_dead_letter_header(original) else None
    elif key == REDRIVE_COUNT_HEADER:
        source = None
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    known = _KEYS[key] = (bytes((len(name),)) + name, source)
    return known


def encode_table(table: dict[str, Any], received: dict[str, tuple[Any, bytes]]) -> bytes:
    """``table`` as pamqp's ``encode.field_table`` writes it (keys sorted), except that a value
    republished unchanged keeps the bytes it arrived with: the same object under its own name,
    or a dead-letter header under its ``x-mqctl-redriven-`` name. Those bytes are what pamqp
    decoded it from, so the copy carries the original's exact field types (pamqp would pick
    an integer's width by its value). The headers mqctl writes itself are always encoded."""
    data: list[bytes] = []
    for key, item in sorted(table.items()):
        known = _key(key)
        if known is None:
            return amqp_encode.field_table(table)
        name, source = known
        kept = received.get(source) if source is not None else None
        if kept is not None and kept[0] is item:
            data.append(name + kept[1])
        elif type(item) is str:  # pamqp's long string, inline
            raw = item.encode("utf-8")
            data.append(name + b"S" + len(raw).to_bytes(4, "big") + raw)
        else:
            try:
                data.append(name + amqp_encode.encode_table_value(item))
            except TypeError as err:  # pamqp's wording
                raise TypeError(f"{key} error: {err}") from err
    output = b"".join(data)
    return len(output).to_bytes(4, "big") + output


class FrameEncoder:
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
            publish = Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=True)
            frame = amqp_frame.marshal(publish, self.number)
            self._methods[key] = frame
        return frame

    def encode(self, exchange: str, routing_key: str, body: bytes, properties: bytes) -> bytes:
        """One message's frames; ``properties`` from :func:`encode_properties`."""
        number = self.number
        header = self._header.pack(2, number, 12 + len(properties), 60, 0, len(body))
        parts = [self.method(exchange, routing_key), header, properties, FRAME_END]
        size = self.max_content
        for start in range(0, len(body), size):
            chunk = body[start : start + size]
            parts.append(_FRAME_HEADER.pack(3, number, len(chunk)) + chunk + FRAME_END)
        return b"".join(parts)
