"""``peek --format '%k %s\\n'``: one line per message shaped by a kcat-style template.

Placeholders: ``%t`` topic (the source), ``%p`` partition, ``%o`` offset, ``%k`` key, ``%s``
value, ``%h`` headers (``name=value`` joined by ``,``), ``%T`` timestamp (epoch ms), ``%S``
value size, ``%K`` key size, ``%%`` a literal ``%``; escapes ``\\n``, ``\\t``, ``\\r``,
``\\\\``. Nothing is added: the template says where lines end.

A template can not tell a null key or value from an empty one (``%k``/``%s`` are empty for
both; ``%K``/``%S`` are ``-1`` for null, as on the Kafka wire); ``-o jsonl`` is the exact form.
Fields a message does not have (a RabbitMQ queue's partition, a missing timestamp) are empty.

Written to a pipe or file the key, value and header bytes are written as they are (like
kcat). On a terminal they are escaped as ``table`` output escapes them (control characters
and bytes that are not UTF-8 as ``\\xNN``), so data can never drive the terminal; the
template's own text (its ``\\n`` and ``\\t``) is never escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mqctl.errors import UsageError
from mqctl.messages.pretty import capped, format_header_value
from mqctl.models.messages import HeaderValue, Message
from mqctl.output.sanitize import safe_text

PLACEHOLDERS = "%t %p %o %k %s %h %T %S %K %%"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_UNTRUSTED = frozenset("tksh")  # data from the broker (escaped on a terminal)


def _number(value: int | None) -> bytes:
    return b"" if value is None else str(value).encode("ascii")


def _size(data: bytes | None) -> bytes:
    return b"-1" if data is None else str(len(data)).encode("ascii")


def _header_bytes(value: HeaderValue) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return format_header_value(value).encode("utf-8", "surrogateescape")


def _headers(message: Message) -> bytes:
    return b",".join(
        name.encode("utf-8", "surrogateescape") + b"=" + _header_bytes(value)
        for name, value in message.headers
    )


def _timestamp_ms(message: Message) -> bytes:
    ts = message.timestamp
    if ts is None:
        return b""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return str((ts - _EPOCH) // _MS).encode("ascii")


_FIELDS: dict[str, Callable[[Message], bytes]] = {
    "t": lambda m: m.source.encode("utf-8", "surrogateescape"),
    "p": lambda m: _number(m.partition),
    "o": lambda m: _number(m.offset),
    "k": lambda m: m.key or b"",
    "s": lambda m: m.value or b"",
    "h": _headers,
    "T": _timestamp_ms,
    "S": lambda m: _size(m.value),
    "K": lambda m: _size(m.key),
}


def parse_template(template: str) -> list[tuple[str, str | None]]:
    """The template as parts: ``(field letter, None)`` or ``("", literal text)``. Exit 2 on
    an unknown placeholder or escape (naming it): a typo never prints wrong output silently."""
    parts: list[tuple[str, str | None]] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        following = template[i + 1] if i + 1 < len(template) else ""
        if char == "%":
            if following == "%":
                literal.append("%")
            elif following in _FIELDS:
                if literal:
                    parts.append(("", "".join(literal)))
                    literal = []
                parts.append((following, None))
            else:
                placeholder = "%" + following
                raise UsageError(
                    f"--format: unknown placeholder {placeholder!r}",
                    hint=f"placeholders: {PLACEHOLDERS}; escapes: \\n \\t \\r \\\\",
                )
            i += 2
        elif char == "\\":
            if following not in _ESCAPES:
                escape = "\\" + following
                raise UsageError(
                    f"--format: unknown escape {escape!r}",
                    hint="escapes: \\n \\t \\r \\\\ (a literal backslash is \\\\)",
                )
            literal.append(_ESCAPES[following])
            i += 2
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append(("", "".join(literal)))
    return parts


class LineFormat:
    """A parsed ``--format`` template. ``escape``: make data terminal-safe (stdout is a
    terminal); ``cap``: at most that many bytes of each value (``--max-bytes``)."""

    def __init__(self, template: str, *, escape: bool = False, cap: int | None = None) -> None:
        self.parts = [  # literals encoded once
            (field, None if text is None else text.encode("utf-8", "surrogateescape"))
            for field, text in parse_template(template)
        ]
        self.escape = escape
        self.cap = cap

    def render(self, message: Message) -> bytes:
        if self.cap and message.value is not None and len(message.value) > self.cap:
            from dataclasses import replace

            message = replace(message, value=capped(message.value, self.cap)[0])
        out: list[bytes] = []
        for field, literal in self.parts:
            if literal is not None:
                out.append(literal)
                continue
            data = _FIELDS[field](message)
            if self.escape and field in _UNTRUSTED:
                text = data.decode("utf-8", "backslashreplace")
                data = safe_text(text).encode("utf-8")
            out.append(data)
        return b"".join(out)
