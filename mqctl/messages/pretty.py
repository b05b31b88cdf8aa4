"""Messages for people: ``pretty`` blocks and ``table`` lines (peek's default views).

Every piece of message data goes through :func:`mqctl.output.sanitize.safe_text`, so keys,
headers and values can never drive the terminal. A missing value is ``(null)``, a value of
zero bytes ``(empty)``; long values are cut (``… N more bytes``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mqctl.messages.decode import DecodedValue, cut_value, decode_value, text_or_base64
from mqctl.models.messages import HeaderValue, Message
from mqctl.output.sanitize import safe_text

_ISO: dict[datetime, str] = {}


def iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    # Messages of one batch share few timestamps (Kafka: one datetime per millisecond).
    text = _ISO.get(ts)
    if text is None:
        if len(_ISO) >= 4096:
            _ISO.clear()
        text = _ISO[ts] = ts.isoformat(timespec="milliseconds")
    return text


PRETTY_MAX_BYTES = 16 * 1024
"""Bytes of a value ``pretty`` shows by default (``peek --max-bytes`` changes it, 0 = all):
a 5 MB value must not flood the terminal. JSON, JSONL, YAML and raw show every byte unless
``--max-bytes`` is given."""
TABLE_WIDTH = 120  # characters of a value in a ``table`` line


def capped(value: bytes | None, cap: int | None) -> tuple[bytes | None, int]:
    """The value shown under a ``--max-bytes`` cap, and how many bytes were left out."""
    if value is None or not cap:
        return value, 0
    return cut_value(value, cap)


NULL_TEXT = "(null)"  # no value at all (a Kafka tombstone, a null key or header value)
EMPTY_TEXT = "(empty)"  # a value of zero bytes


def format_header_value(value: HeaderValue) -> str:
    """A header value for people: text, or hex for binary, or compact JSON for tables;
    ``(null)`` and ``(empty)`` tell a missing value from an empty one."""
    if value is None:
        return NULL_TEXT
    if value == b"" or value == "":
        return EMPTY_TEXT
    if isinstance(value, bytes | bytearray):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + value.hex()
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        from mqctl.output.render import to_jsonable

        return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))
    return str(value)


def x_death_lines(value: HeaderValue) -> list[str] | None:
    """RabbitMQ ``x-death`` as one readable line per {queue, reason} (most recent first)."""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        return None
    lines = []
    for entry in value:
        assert isinstance(entry, dict)

        def get(name: str, entry: dict[str, Any] = entry) -> str:
            item = entry.get(name)
            if isinstance(item, bytes):
                return item.decode("utf-8", "replace")
            if isinstance(item, list):
                return ",".join(format_header_value(i) for i in item)
            return "-" if item is None else format_header_value(item)

        lines.append(
            f"{get('count')}x {get('reason')} in queue {get('queue')} "
            f"(exchange {get('exchange') or '-'}, routing keys {get('routing-keys') or '-'}, "
            f"last {get('time')})"
        )
    return lines


def _position(message: Message) -> str:
    if message.partition is not None:
        return f"{message.source} [{message.partition}] @ {message.offset}"
    where = message.source if message.vhost in (None, "/") else f"{message.vhost}/{message.source}"
    if message.offset is not None:
        return f"{where} @ {message.offset}"
    return where


def _value_block(decoded: DecodedValue) -> str:
    if decoded.format == "json" and isinstance(decoded.data, dict | list):
        return json.dumps(decoded.data, ensure_ascii=False, indent=2)
    return decoded.text


def _key_text(key: bytes | None) -> str:
    if key is None:
        return NULL_TEXT
    return text_or_base64(key)[0] if key else EMPTY_TEXT


def _more(omitted: int) -> str:
    return f"… {omitted} more byte{'s' if omitted != 1 else ''}"


def pretty_text(message: Message, mode: str = "auto", cap: int | None = PRETTY_MAX_BYTES) -> str:
    """A multi-line block for one message; every piece of message data is sanitized. At most
    ``cap`` bytes of the value are shown (None or 0: all), then a ``… N more bytes`` line."""
    value, omitted = capped(message.value, cap)
    decoded = decode_value(value, mode, message.headers)
    head = [_position(message)]
    if message.timestamp is not None:
        kind = f" ({message.timestamp_type})" if message.timestamp_type else ""
        head.append(f"{iso(message.timestamp)}{kind}")
    if message.exchange is not None:
        head.append(f"exchange {message.exchange or '(default)'}")
    if message.routing_key is not None:
        head.append(f"routing key {message.routing_key}")
    if message.redelivered:
        head.append("redelivered")
    head.append(f"{message.size} bytes")
    lines = ["── " + safe_text("  ".join(head))]
    if message.key is not None:
        key, key_format = text_or_base64(message.key)
        if not message.key:
            key = EMPTY_TEXT
        lines.append(f"key: {safe_text(key)}" + ("  (base64)" if key_format == "base64" else ""))
    elif message.backend == "kafka":
        lines.append(f"key: {NULL_TEXT}")  # Kafka keys matter (partitioning, compaction)
    for name, header in message.headers:
        death = x_death_lines(header) if name == "x-death" else None
        if death is not None:
            lines.append(f"header {safe_text(name)}:")
            lines.extend(f"    {safe_text(line)}" for line in death)
        else:
            lines.append(f"header {safe_text(name)}: {safe_text(format_header_value(header))}")
    for name, prop in sorted(message.properties.items()):
        if prop is not None and name != "headers":
            lines.append(f"property {safe_text(name)}: {safe_text(format_header_value(prop))}")
    label = decoded.format + (f", {decoded.error}" if decoded.error else "")
    if value is None:
        tombstone = "  (tombstone)" if message.backend == "kafka" else ""
        lines.append(f"value: {NULL_TEXT}{tombstone}")
    elif not value:
        lines.append(f"value: {EMPTY_TEXT}")
    else:
        lines.append(f"value ({safe_text(label)}):")
        lines.append(safe_text(_value_block(decoded), keep_newlines=True))
    if omitted:
        lines.append(f"{_more(omitted)} (--max-bytes 0 shows all)")
    return "\n".join(lines) + "\n"


def table_line(
    message: Message, mode: str = "auto", width: int = TABLE_WIDTH, cap: int | None = None
) -> str:
    """One tab-separated line: position, timestamp, key, value (at most ``width``
    characters, then ``… N more bytes``; ``cap`` bytes first when given)."""
    value, omitted = capped(message.value, cap)
    if value is None:
        shown = NULL_TEXT
    elif not value:
        shown = EMPTY_TEXT
    else:
        text = decode_value(value, mode, message.headers).text
        if len(text) > width:
            kept = text[: width - 1]
            omitted += len(value) - len(kept.encode("utf-8", "replace"))
            text = kept
        shown = f"{text}{_more(omitted)}" if omitted > 0 else text
    ts = iso(message.timestamp) or "-"
    where = (
        f"{message.partition}/{message.offset}"
        if message.partition is not None
        else str(message.offset if message.offset is not None else "-")
    )
    return "\t".join(safe_text(cell) for cell in (where, ts, _key_text(message.key), shown)) + "\n"
