"""AMQP messages <-> the broker-neutral message model (properties, headers, x-death)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mqctl.errors import UsageError
from mqctl.models.messages import HeaderValue, Message, OutgoingMessage

if TYPE_CHECKING:
    from aio_pika.abc import AbstractIncomingMessage

# AMQP basic properties, by the names users know (docs/rabbitmq.md); all are shown on peek.
STRING_PROPERTIES = (
    "content_type",
    "content_encoding",
    "message_id",
    "correlation_id",
    "type",
    "app_id",
    "user_id",
    "reply_to",
)
PROPERTIES = (
    *STRING_PROPERTIES,
    "timestamp",
    "delivery_mode",
    "priority",
    "expiration",
)


def plain(value: Any) -> HeaderValue:
    """Header values as plain JSON-friendly types (AMQP decimals, nested tables, arrays)."""
    if isinstance(value, Decimal):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # AMQP timestamps are UTC seconds
    result: HeaderValue = value
    return result


def to_message(msg: AbstractIncomingMessage, queue: str, vhost: str) -> Message:
    """One delivered message; stream deliveries carry their offset in ``x-stream-offset``."""
    properties: dict[str, Any] = {}
    for name in STRING_PROPERTIES:
        value = getattr(msg, name, None)
        if value is not None:
            properties[name] = value
    if msg.timestamp is not None:
        properties["timestamp"] = plain(msg.timestamp)
    if msg.delivery_mode is not None:
        properties["delivery_mode"] = int(msg.delivery_mode)
    if msg.priority:
        # aio-pika reads an absent priority as 0, so 0 (the default anyway) is not shown.
        properties["priority"] = int(msg.priority)
    if isinstance(msg.expiration, int | float):
        # aio-pika decodes the wire value (milliseconds, a string) into seconds.
        properties["expiration"] = str(round(float(msg.expiration) * 1000))
    headers = [(str(k), plain(v)) for k, v in (msg.headers or {}).items()]
    offset = (msg.headers or {}).get("x-stream-offset")
    timestamp = properties.get("timestamp")
    return Message(
        backend="rabbitmq",
        source=queue,
        value=bytes(msg.body),
        headers=headers,
        offset=offset if isinstance(offset, int) else None,
        timestamp=timestamp if isinstance(timestamp, datetime) else None,
        exchange=msg.exchange,
        routing_key=msg.routing_key,
        redelivered=bool(msg.redelivered),
        vhost=vhost,
        properties=properties,
    )


def _int_property(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"property {name}: expected an integer, got {value!r}") from None
    if not low <= number <= high or isinstance(value, bool):
        raise UsageError(f"property {name}: expected {low}..{high}, got {value!r}")
    return number


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise UsageError(
        f"property timestamp: expected epoch seconds or an ISO 8601 time, got {value!r}"
    )


def _header_value(value: Any) -> Any:
    """Text stays text (a long string on the wire, what consumers expect); other bytes go
    as an AMQP byte array, and so does a ``bytearray`` (bytes meant as binary: a JSON line's
    ``{"base64": …}``, what peek writes for a byte array). Nested lists and tables are
    converted the same way."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return bytearray(value)
    if isinstance(value, dict):
        return {str(k): _header_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_header_value(v) for v in value]
    return value


def build_kwargs(out: OutgoingMessage, *, persistent: bool) -> dict[str, Any]:
    """Keyword arguments for ``aio_pika.Message`` from an outgoing message; bad property
    names or values are usage errors naming the property."""
    kwargs: dict[str, Any] = {"delivery_mode": 2 if persistent else 1}
    for raw_name, value in out.properties.items():
        name = raw_name.replace("-", "_").lower()
        if value is None:
            continue
        if name in STRING_PROPERTIES:
            kwargs[name] = str(value)
        elif name == "delivery_mode":
            mode = {"persistent": 2, "transient": 1}.get(str(value).lower())
            kwargs[name] = mode if mode is not None else _int_property(name, value, 1, 2)
        elif name == "priority":
            kwargs[name] = _int_property(name, value, 0, 255)
        elif name == "expiration":
            millis = _int_property(name, value, 0, 2**31 - 1)
            # aio-pika writes int(seconds * 1000) as the wire's ms text: half a millisecond
            # more keeps float rounding (1026.311 * 1000 = 1026310.99…) from losing one
            kwargs[name] = (millis + 0.5) / 1000
        elif name == "timestamp":
            kwargs[name] = _timestamp(value)
        else:
            known = ", ".join(PROPERTIES)
            raise UsageError(f"unknown AMQP property {raw_name!r} (known: {known})")
    headers: dict[str, Any] = {}
    for key, value in out.headers:
        headers[key] = _header_value(value)  # a table: a repeated key keeps its last value
    if headers:
        kwargs["headers"] = headers
    return kwargs
