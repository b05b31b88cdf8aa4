"""Peek filters (``--key``, ``--grep``, ``--header``), applied by the core for every broker.

All given filters must match (AND). ``--grep`` searches the key and the value, both read as
UTF-8 with invalid bytes replaced, so a filter never fails on binary data. Header filters
compare the header's text form exactly; ``--header k`` without ``=`` only requires presence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mqctl.errors import UsageError
from mqctl.messages.headers import parse_pair
from mqctl.models.messages import HeaderValue, Message


@dataclass(slots=True)
class FilterStats:
    """How many messages were read vs shown (reported when filters are used)."""

    scanned: int = 0
    matched: int = 0


def header_text(value: HeaderValue) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None:
        return ""
    return str(value)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    key: str | None = None
    grep: re.Pattern[str] | None = None
    headers: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self.key is not None or self.grep is not None or bool(self.headers)

    def matches(self, message: Message) -> bool:
        key_text = None if message.key is None else message.key.decode("utf-8", "replace")
        if self.key is not None and key_text != self.key:
            return False
        for name, wanted in self.headers:
            values = [header_text(v) for k, v in message.headers if k == name]
            if not values or (wanted is not None and wanted not in values):
                return False
        if self.grep is not None:
            value_text = (message.value or b"").decode("utf-8", "replace")
            if not (self.grep.search(value_text) or (key_text and self.grep.search(key_text))):
                return False
        return True


def build_filter(
    key: str | None = None, grep: str | None = None, headers: list[str] | None = None
) -> MessageFilter:
    """Validate the filter flags (bad regex or header -> exit 2)."""
    pattern = None
    if grep is not None:
        try:
            pattern = re.compile(grep)
        except re.error as exc:
            raise UsageError(f"--grep {grep!r}: invalid regular expression: {exc}") from None
    wanted: list[tuple[str, str | None]] = []
    for arg in headers or ():
        if "=" in arg:
            wanted.append(parse_pair(arg, "--header"))
        elif arg.strip():
            wanted.append((arg.strip(), None))
        else:
            raise UsageError("--header: expected KEY=VALUE or KEY")
    return MessageFilter(key, pattern, tuple(wanted))
