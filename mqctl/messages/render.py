"""Showing messages: ``pretty`` and ``table`` (people, :mod:`mqctl.messages.pretty`),
``json``/``jsonl``/``yaml`` (programs; fields in docs/peek-publish.md, the lossless format in
docs/output.md) and ``raw`` (the value bytes, for piping).

JSON output escapes control characters itself (and we escape the C1/bidi ones JSON leaves
alone); ``raw`` writes bytes untouched.
"""

from __future__ import annotations

import base64
import enum
import json
import sys
from collections.abc import Sequence
from json.encoder import encode_basestring
from typing import IO, Any

from mqctl.messages.decode import (
    EXACT_FORMATS,
    TYPED_HEADERS,
    DecodedValue,
    cut_value,
    decode_value,
    header_json,
    text_or_base64,
)
from mqctl.messages.json_splice import json_text, json_texts
from mqctl.messages.line_format import LineFormat
from mqctl.messages.pretty import (
    EMPTY_TEXT,
    NULL_TEXT,
    PRETTY_MAX_BYTES,
    capped,
    format_header_value,
    iso,
    pretty_text,
    table_line,
    x_death_lines,
)
from mqctl.models.messages import Message
from mqctl.output.render import terminal_safe_json

__all__ = [  # (the views for people live in mqctl.messages.pretty; importable from here too)
    "EMPTY_TEXT",
    "NULL_TEXT",
    "MessageFormat",
    "MessagePrinter",
    "format_header_value",
    "json_line",
    "jsonl_line",
    "jsonl_lines",
    "message_record",
    "pretty_text",
    "table_line",
    "x_death_lines",
]


class MessageFormat(enum.StrEnum):
    pretty = "pretty"
    table = "table"
    json = "json"
    jsonl = "jsonl"
    yaml = "yaml"
    raw = "raw"


def _value_extras(value: bytes | None, decoded: DecodedValue, spliced: bool) -> dict[str, Any]:
    """``value_base64`` when the view of the value does not give its exact bytes back."""
    if spliced or decoded.format in EXACT_FORMATS or value is None:
        return {}
    return {"value_base64": base64.b64encode(value).decode("ascii")}


def message_record(message: Message, mode: str = "auto", cap: int | None = None) -> dict[str, Any]:
    """The JSON form of one message (field names are a public interface: add, never rename).

    It is lossless (docs/output.md): ``value`` gives the exact bytes back when its format is
    ``text``, ``base64``, ``hex``, ``null``, or ``json`` written as it came; otherwise the
    record adds ``value_base64``. ``cap``: at most that many bytes of the value
    (``value_truncated_bytes`` then says how many were left out)."""
    value, omitted = capped(message.value, cap)
    decoded = decode_value(value, mode, message.headers)
    typed = message.backend in TYPED_HEADERS
    spliced = decoded.format == "json" and json_text(value, mode, message.headers) is not None
    if message.key is None:
        key: str | None = None
        key_format: str | None = None
    else:
        key, key_format = text_or_base64(message.key)
    record = {
        "backend": message.backend,
        "source": message.source,
        "vhost": message.vhost,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp": iso(message.timestamp),
        "timestamp_type": message.timestamp_type,
        "exchange": message.exchange,
        "routing_key": message.routing_key,
        "redelivered": message.redelivered,
        "key": key,
        "key_format": key_format,
        "headers": [[name, header_json(v, typed)] for name, v in message.headers],
        "properties": _jsonable(message.properties),
        "value": decoded.data,
        "value_format": decoded.format,
        "value_error": decoded.error,
        **_value_extras(value, decoded, spliced),
        "size": message.size,
    }
    if omitted:
        record["value_truncated_bytes"] = omitted
    return record


def _jsonable(value: Any) -> Any:
    if not value:
        return value if isinstance(value, dict) else {}
    from mqctl.output.render import to_jsonable

    return to_jsonable(value)


# One encoder for every line: json.dumps with options builds a new encoder per call.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def json_line(record: Any) -> str:
    return terminal_safe_json(_LINE_ENCODER.encode(record))


_STRINGS: dict[str, str] = {}


def _str(text: Any) -> str:
    """A JSON string (as the line encoder writes it); names repeat, so they are cached."""
    if text is None:
        return "null"
    if text.__class__ is not str:
        return _LINE_ENCODER.encode(text)  # anything else a backend put there
    encoded = _STRINGS.get(text)
    if encoded is None:
        encoded = encode_basestring(text)
        if len(text) <= 256:
            if len(_STRINGS) >= 4096:
                _STRINGS.clear()
            _STRINGS[text] = encoded
    return encoded


def _int(number: Any) -> str:
    return int.__repr__(number) if number.__class__ is int else _LINE_ENCODER.encode(number)


# The parts of a line that repeat from message to message, encoded once.
_HEADS: dict[tuple[Any, ...], str] = {}
_MIDDLES: dict[tuple[Any, ...], str] = {}


def _cached(cache: dict[tuple[Any, ...], str], key: tuple[Any, ...], text: str) -> str:
    if len(cache) >= 1024:
        cache.clear()
    cache[key] = text
    return text


def jsonl_line(message: Message, mode: str = "auto", cap: int | None = None) -> str:
    """``json_line(message_record(message, mode, cap))``, built without the dict.

    Same fields in the same order with the same values; the one difference: a value that is
    already a one-line JSON document (see :func:`mqctl.messages.json_splice.json_text`) is written
    as it came (same document, but e.g. ``1E2`` or ``"\\u00e9"`` are not normalised to
    ``100.0`` and ``"é"``) instead of being parsed and encoded again: this is what makes the
    line give back the value's exact bytes.
    """
    return terminal_safe_json(_line(message, mode, cap))


def _line(message: Message, mode: str, cap: int | None) -> str:
    """:func:`jsonl_line` before the terminal-safe escaping."""
    value = message.value
    omitted = 0
    if cap and value is not None and len(value) > cap:
        value, omitted = cut_value(value, cap)
    text = json_text(value, mode, message.headers)
    if text is not None:
        value_part = f'{text},"value_format":"json","value_error":null'
    else:
        decoded = decode_value(value, mode, message.headers)
        value_part = (
            f'{_LINE_ENCODER.encode(decoded.data)},"value_format":{_str(decoded.format)},'
            f'"value_error":{_str(decoded.error)}'
        )
        if value is not None and decoded.format not in EXACT_FORMATS:
            value_part += f',"value_base64":"{base64.b64encode(value).decode("ascii")}"'
    key = message.key
    if key is None:
        key_part = 'null,"key_format":null'
    else:
        key_text, key_format = text_or_base64(key)
        key_part = f'{_str(key_text)},"key_format":{_str(key_format)}'
    headers = message.headers
    if headers:
        typed = message.backend in TYPED_HEADERS
        headers_part = _LINE_ENCODER.encode([[name, header_json(v, typed)] for name, v in headers])
    else:
        headers_part = "[]"
    properties = message.properties
    properties_part = _LINE_ENCODER.encode(_jsonable(properties)) if properties else "{}"
    where = (message.backend, message.source, message.vhost)
    head = _HEADS.get(where)
    if head is None:
        head = _cached(
            _HEADS,
            where,
            f'{{"backend":{_str(where[0])},"source":{_str(where[1])},"vhost":{_str(where[2])}',
        )
    how = (message.timestamp_type, message.exchange, message.routing_key, message.redelivered)
    middle = _MIDDLES.get(how)
    if middle is None:
        middle = _cached(
            _MIDDLES,
            how,
            f'"timestamp_type":{_str(how[0])},"exchange":{_str(how[1])},'
            f'"routing_key":{_str(how[2])},"redelivered":{_str(how[3])}',
        )
    tail = f',"value_truncated_bytes":{omitted}}}' if omitted else "}"
    return (
        f'{head},"partition":{_int(message.partition)},"offset":{_int(message.offset)},'
        f'"timestamp":{_str(iso(message.timestamp))},{middle},'
        f'"key":{key_part},"headers":{headers_part},"properties":{properties_part},'
        f'"value":{value_part},"size":{_int(message.size)}{tail}'
    )


# Batch fast path: the line up to the offset, per source and partition, and from the
# timestamp to the key, per timestamp and delivery fields (Kafka: few per fetch).
_PREFIXES: dict[tuple[Any, ...], str] = {}
_STAMPS: dict[tuple[Any, ...], str] = {}


def jsonl_lines(messages: Sequence[Message], mode: str = "auto", cap: int | None = None) -> str:
    """Many messages as JSON lines, one string (one write for a whole fetched batch):
    exactly ``"".join(jsonl_line(m, mode, cap) + "\n" for m in messages)``.

    The common message (a JSON value that can be written as it came, no headers, no
    properties, an ``int`` offset, within ``cap``) is built from cached parts in this loop;
    any other goes through :func:`_line`. The terminal-safe escaping runs once on the whole
    text (it works character by character and never touches the newlines between lines)."""
    if not messages:
        return ""
    lines: list[str] = []
    append = lines.append
    prefixes, stamps = _PREFIXES, _STAMPS
    texts = json_texts([m.value for m in messages], [m.headers for m in messages], mode)
    for message, text in zip(messages, texts, strict=True):
        value = message.value
        offset = message.offset
        if (
            text is None
            or value is None
            or message.headers
            or message.properties
            or offset.__class__ is not int
            or (cap and len(value) > cap)
        ):
            append(_line(message, mode, cap))
            continue
        where = (message.backend, message.source, message.vhost, message.partition)
        prefix = prefixes.get(where)
        if prefix is None:
            prefix = _cached(
                prefixes,
                where,
                f'{{"backend":{_str(where[0])},"source":{_str(where[1])},'
                f'"vhost":{_str(where[2])},"partition":{_int(where[3])},"offset":',
            )
        when = (
            message.timestamp,
            message.timestamp_type,
            message.exchange,
            message.routing_key,
            message.redelivered,
        )
        stamp = stamps.get(when)
        if stamp is None:
            stamp = _cached(
                stamps,
                when,
                f',"timestamp":{_str(iso(when[0]))},"timestamp_type":{_str(when[1])},'
                f'"exchange":{_str(when[2])},"routing_key":{_str(when[3])},'
                f'"redelivered":{_str(when[4])},"key":',
            )
        key = message.key
        if key is None:
            key_part = 'null,"key_format":null'
            size = len(value)
        else:
            key_text, key_format = text_or_base64(key)
            key_part = f'{_str(key_text)},"key_format":{_str(key_format)}'
            size = len(value) + len(key)
        append(
            f'{prefix}{offset}{stamp}{key_part},"headers":[],"properties":{{}},'
            f'"value":{text},"value_format":"json","value_error":null,"size":{size}}}'
        )
    lines.append("")
    return terminal_safe_json("\n".join(lines))


class MessagePrinter:
    """Writes messages as they arrive (json and yaml collect, the others stream).

    ``max_bytes``: at most that many bytes of each value (``peek --max-bytes``; 0 = all);
    None: the defaults (``pretty`` :data:`PRETTY_MAX_BYTES`, ``table`` one line, the
    formats for programs every byte)."""

    def __init__(
        self,
        fmt: str,
        mode: str = "auto",
        out: IO[str] | None = None,
        binary: IO[bytes] | None = None,
        max_bytes: int | None = None,
        line_format: LineFormat | None = None,
    ) -> None:
        self.fmt = MessageFormat(fmt)
        self.line_format = line_format  # ``--format``: replaces ``fmt`` when given
        self.mode = mode
        self.out = out or sys.stdout
        self.binary = binary
        self.count = 0
        self._collected: list[dict[str, Any]] = []
        if max_bytes is None and self.fmt is MessageFormat.pretty:
            max_bytes = PRETTY_MAX_BYTES
        self.cap = max_bytes or None

    def _binary_out(self) -> IO[bytes] | None:
        if self.binary is not None:
            return self.binary
        return getattr(self.out, "buffer", None)

    def write(self, message: Message) -> None:
        self.count += 1
        fmt = self.fmt
        cap = self.cap
        if self.line_format is not None:
            self._write_bytes(self.line_format.render(message))
        elif fmt is MessageFormat.jsonl:
            self.out.write(jsonl_line(message, self.mode, cap) + "\n")
        elif fmt is MessageFormat.pretty:
            text = pretty_text(message, self.mode, cap)
            self.out.write(("\n" if self.count > 1 else "") + text)
        elif fmt is MessageFormat.table:
            self.out.write(table_line(message, self.mode, cap=cap))
        elif fmt is MessageFormat.raw:
            # (a null value and an empty one are both zero bytes here: raw has no markup)
            self._write_raw(capped(message.value, cap)[0] or b"")
        else:
            self._collected.append(message_record(message, self.mode, cap))

    def write_batch(self, messages: Sequence[Message]) -> None:
        """:meth:`write` for each message; ``jsonl`` and ``--format`` write the whole batch
        at once."""
        if self.line_format is not None:
            self.count += len(messages)
            self._write_bytes(b"".join([self.line_format.render(m) for m in messages]))
            return
        if self.fmt is MessageFormat.jsonl:
            self.count += len(messages)
            if messages:
                self.out.write(jsonl_lines(messages, self.mode, self.cap))
            return
        for message in messages:
            self.write(message)

    def _write_raw(self, value: bytes) -> None:
        self._write_bytes(value + b"\n")

    def _write_bytes(self, data: bytes) -> None:
        binary = self._binary_out()
        if binary is not None:
            self.out.flush()
            binary.write(data)
        else:  # a text-only stream (tests): lossless for every byte value
            self.out.write(data.decode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        raw = self.fmt is MessageFormat.raw or self.line_format is not None
        binary = self._binary_out() if raw else None
        (binary or self.out).flush()

    def close(self) -> None:
        """Write collected output (json, yaml) and flush."""
        if self.fmt is MessageFormat.json:
            text = json.dumps(self._collected, ensure_ascii=False, indent=2, default=str)
            self.out.write(terminal_safe_json(text) + "\n")
        elif self.fmt is MessageFormat.yaml:
            import yaml

            yaml.safe_dump(self._collected, self.out, sort_keys=False, allow_unicode=False)
        self.flush()
