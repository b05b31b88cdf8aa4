"""Peek filters (``--key``, ``--grep``, ``--header``), applied by the core for every broker.

All given filters must match (AND). ``--grep`` searches the key and the value, both read as
UTF-8 with invalid bytes replaced, so a filter never fails on binary data. Header filters
compare the header's text form exactly; ``--header k`` without ``=`` only requires presence.

Hostile regular expressions (``--grep`` here, ``body~REGEX`` in ``mqctl dlq``) are bounded:

* a pattern the ``re`` module cannot compile (syntax, ``a{4294967296}``, 1,000 nested
  groups that exhaust the recursion limit) is an exit-2 error, never a crash;
* a search that can backtrack (the pattern has ``*``, ``+``, ``?`` or ``{``) runs under a
  time bound of :data:`REGEX_TIMEOUT` seconds per message: ``re`` checks for signals while
  it matches, so a ``SIGALRM`` interval timer interrupts catastrophic backtracking such as
  ``(a+)+$`` or ``(a|a)*b``, and the peek/redrive stops with an exit-2 error naming the
  pattern ("matching one message took longer than 1 s"). Literal patterns (``sku-42``,
  ``error|warn``) match in linear time and skip the timer. The bound applies on the main
  thread (the CLI and the TUI's event loop) where POSIX interval timers exist; the handler,
  once installed, ignores alarms it did not arm; another ``SIGALRM`` handler and its
  pending timer are borrowed for the search and put back afterwards.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from types import FrameType
from typing import AnyStr

from mqctl.errors import UsageError
from mqctl.messages.headers import parse_pair
from mqctl.models.messages import HeaderValue, Message

REGEX_TIMEOUT = 1.0
"""Seconds one regular-expression search on one message may take (see the module doc)."""

_COMPILE_ERRORS = (re.error, RecursionError, OverflowError, ValueError)
_RISKY = re.compile(r"[*+?{]")


class _Expired(Exception):
    """Raised by our SIGALRM handler inside ``re`` when the time bound passed."""


class _Alarm:
    armed = False


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    if _Alarm.armed:
        _Alarm.armed = False
        raise _Expired


@lru_cache(maxsize=64)
def _can_backtrack(pattern: re.Pattern[str] | re.Pattern[bytes]) -> bool:
    source = pattern.pattern
    text = source.decode("latin-1") if isinstance(source, bytes) else source
    return _RISKY.search(text) is not None


def bounded_search(pattern: re.Pattern[AnyStr], data: AnyStr, what: str) -> bool:
    """``pattern.search(data)`` under the :data:`REGEX_TIMEOUT` bound (exit 2 when exceeded)."""
    if (
        not _can_backtrack(pattern)
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return pattern.search(data) is not None
    previous = signal.getsignal(signal.SIGALRM)
    if previous is None:  # a handler set from C: we could not put it back
        return pattern.search(data) is not None
    # Someone else's handler and timer (e.g. pytest-timeout) are borrowed, then restored.
    foreign = previous not in (_on_alarm, signal.SIG_DFL)
    pending = signal.getitimer(signal.ITIMER_REAL)[0]
    budget = min(REGEX_TIMEOUT, pending) if pending else REGEX_TIMEOUT
    if previous is not _on_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)  # kept when the default was in place
    started = time.monotonic()
    try:
        try:
            _Alarm.armed = True
            signal.setitimer(signal.ITIMER_REAL, budget)
            found = pattern.search(data) is not None
        finally:
            _Alarm.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            if foreign:
                signal.signal(signal.SIGALRM, previous)
            if pending:
                left = pending - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))
    except _Expired:
        raise UsageError(
            f"{what}: matching one message took longer than {budget:g} s "
            "(the pattern backtracks catastrophically)",
            hint="simplify the regular expression, e.g. no nested quantifiers like (a+)+",
        ) from None
    return found


def compile_regex(pattern: AnyStr, what: str) -> re.Pattern[AnyStr]:
    """``re.compile`` with every failure (not only syntax errors) turned into exit 2."""
    try:
        with warnings.catch_warnings():  # "FutureWarning: possible nested set": stderr noise
            warnings.simplefilter("ignore")
            return re.compile(pattern)
    except _COMPILE_ERRORS as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(f"{what}: invalid regular expression: {detail[:200]}") from None


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
    key: bytes | None = None  # the exact key bytes (``--key`` text is its UTF-8 encoding)
    grep: re.Pattern[str] | None = None
    headers: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self.key is not None or self.grep is not None or bool(self.headers)

    def matches(self, message: Message) -> bool:
        key_text = None if message.key is None else message.key.decode("utf-8", "replace")
        if self.key is not None and message.key != self.key:
            return False
        for name, wanted in self.headers:
            values = [header_text(v) for k, v in message.headers if k == name]
            if not values or (wanted is not None and wanted not in values):
                return False
        if self.grep is not None:
            what = f"--grep {_shown(self.grep.pattern)}"
            value_text = (message.value or b"").decode("utf-8", "replace")
            if not (
                bounded_search(self.grep, value_text, what)
                or (key_text and bounded_search(self.grep, key_text, what))
            ):
                return False
        return True


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 60 else pattern[:57] + "...")


def build_filter(
    key: str | bytes | None = None, grep: str | None = None, headers: list[str] | None = None
) -> MessageFilter:
    """Validate the filter flags (bad regex or header -> exit 2). ``key`` as text means its
    UTF-8 bytes (``peek --key``); bytes are compared as they are (``--key-base64``)."""
    if isinstance(key, str):
        key = key.encode("utf-8", "surrogateescape")
    pattern = None
    if grep is not None:
        pattern = compile_regex(grep, f"--grep {_shown(grep)}")
    wanted: list[tuple[str, str | None]] = []
    for arg in headers or ():
        if "=" in arg:
            wanted.append(parse_pair(arg, "--header"))
        elif arg.strip():
            wanted.append((arg.strip(), None))
        else:
            raise UsageError("--header: expected KEY=VALUE or KEY")
    return MessageFilter(key, pattern, tuple(wanted))
