"""Stream entries <-> mqctl messages.

A Redis stream entry is an id plus field/value pairs. mqctl maps it like this (and back, so a
peeked entry republished by a redrive has the same fields):

* the ``value`` field (``value-field`` in the config) is the message value, the ``key`` field
  (``key-field``) its key, every other field a header (name -> bytes);
* an entry without a value field whose fields are all UTF-8 text is shown as one JSON object
  (``properties["fields"] == "json"``); publishing such a message expands the object again;
  one with binary fields has no value (``None``, not empty) and its fields other than the key
  as headers; publishing a null value writes no value field;
* the entry id is ``properties["id"]``; its millisecond part is the timestamp.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mqctl.errors import UsageError
from mqctl.models.messages import HeaderValue, Message, OutgoingMessage

BACKEND = "redis-streams"
FIELDS_PROPERTY = "fields"  # how the entry's fields became the message: value | json


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def id_millis(entry_id: bytes | str) -> int:
    return int(_text(entry_id).partition("-")[0])


def id_time(entry_id: bytes | str) -> datetime:
    return datetime.fromtimestamp(id_millis(entry_id) / 1000, tz=UTC)


def entry_to_message(
    stream: str,
    entry_id: bytes | str,
    fields: dict[bytes, bytes],
    *,
    value_field: str,
    key_field: str,
) -> Message:
    vf, kf = value_field.encode(), key_field.encode()
    value: bytes | None = None
    key: bytes | None = None
    headers: list[tuple[str, HeaderValue]] = []
    mode = "value"
    if vf in fields:
        for name, raw in fields.items():
            if name == vf:
                value = raw
            elif name == kf:
                key = raw
            else:
                headers.append((name.decode(errors="replace"), raw))
    else:
        try:
            obj = {name.decode(): raw.decode() for name, raw in fields.items() if name != kf}
        except UnicodeDecodeError:
            obj = None
        if obj is not None:
            mode = "json"
            value = json.dumps(obj, ensure_ascii=False).encode()
            key = fields.get(kf)
        else:  # binary fields and no value field: no value (null), the others are headers
            key = fields.get(kf)
            headers = [(n.decode(errors="replace"), raw) for n, raw in fields.items() if n != kf]
    return Message(
        backend=BACKEND,
        source=stream,
        value=value,
        key=key,
        headers=headers,
        timestamp=id_time(entry_id),
        timestamp_type="LogAppendTime",
        properties={"id": _text(entry_id), FIELDS_PROPERTY: mode},
    )


def _header_bytes(value: HeaderValue) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if value is None:
        return b""
    if isinstance(value, datetime):
        return value.isoformat().encode()
    return json.dumps(value).encode()


def message_to_fields(
    message: OutgoingMessage, *, value_field: str, key_field: str
) -> dict[str, bytes]:
    """The fields to XADD for ``message`` (raises UsageError when they cannot be built)."""
    fields: dict[str, bytes] = {}
    if message.key is not None:
        fields[key_field] = message.key
    if message.properties.get(FIELDS_PROPERTY) == "json":
        try:
            obj: Any = None if message.value is None else json.loads(message.value)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise UsageError("a Redis entry marked as JSON fields needs a JSON object value")
        for name, raw in obj.items():
            fields[str(name)] = _header_bytes(raw)
    elif message.value is not None:
        # A null value is an entry without the value field (what peek shows as null), an
        # empty one a value field of zero bytes.
        fields[value_field] = message.value
    for name, raw in message.headers:
        if name in (value_field, key_field):
            raise UsageError(f"header {name!r} collides with the entry's {name} field")
        fields[name] = _header_bytes(raw)
    if not fields:
        raise UsageError("a Redis stream entry needs at least one field (null value, no key)")
    return fields
