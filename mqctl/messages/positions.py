"""Where a peek starts: ``--offset``, ``--from-beginning``, ``--last N``, ``--since``.

``--offset`` takes a number (the same offset in every selected partition) or a stream-style
word: ``first`` / ``beginning``, ``last`` (the last message of each partition), ``next`` /
``end`` (only messages that arrive from now on; use with ``--follow``). ``--since`` takes an
ISO 8601 time (a time without zone is UTC) or a duration back from now: ``90s``, ``15m``,
``2h``, ``1d``, ``1h30m``. At most one of these may be given; none means from the beginning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from mqctl.errors import UsageError
from mqctl.models.messages import StartPosition

MAX_DURATION_TEXT = 64  # characters; longer --since values are not durations
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WORDS = {
    "first": StartPosition("beginning"),
    "beginning": StartPosition("beginning"),
    "earliest": StartPosition("beginning"),
    "last": StartPosition("last", 1),
    "next": StartPosition("end"),
    "end": StartPosition("end"),
    "latest": StartPosition("end"),
}


def parse_duration(text: str) -> timedelta | None:
    """``"1h30m"`` -> timedelta; None when ``text`` is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    # Long input is not a duration: _DURATION backtracks quadratically on long digit runs.
    if not compact or len(compact) > MAX_DURATION_TEXT or _DURATION.sub("", compact):
        return None
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(compact))
    try:
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError):  # inf, or more than 999,999,999 days
        raise UsageError(f"duration {text!r} is too long") from None


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """``--since`` value -> aware UTC datetime (exit 2 if it is neither form)."""
    duration = parse_duration(text)
    if duration is not None:
        try:
            return (now or datetime.now(UTC)) - duration
        except OverflowError:  # before year 1
            raise UsageError(f"--since {text!r}: that is before year 1") from None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected an ISO 8601 time (2026-11-26T10:00Z) "
            "or a duration (15m, 2h, 1d)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def parse_offset(text: str) -> StartPosition:
    word = text.strip().lower()
    if word in _WORDS:
        return _WORDS[word]
    try:
        offset = int(word)
    except ValueError:
        raise UsageError(
            f"--offset {text!r}: expected a number or first|last|next",
        ) from None
    if offset < 0:
        raise UsageError(
            f"--offset {text!r}: offsets are not negative",
            hint="use --last N for the last N messages of each partition",
        )
    return StartPosition("offset", offset)


def parse_start(
    *,
    offset: str | None = None,
    from_beginning: bool = False,
    last: int | None = None,
    since: str | None = None,
    now: datetime | None = None,
) -> StartPosition:
    """Combine the start flags into one :class:`StartPosition` (conflicts are exit 2)."""
    given = [
        name
        for name, value in (
            ("--offset", offset is not None),
            ("--from-beginning", from_beginning),
            ("--last", last is not None),
            ("--since", since is not None),
        )
        if value
    ]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined: pick one start position")
    if offset is not None:
        return parse_offset(offset)
    if last is not None:
        if last < 1:
            raise UsageError(f"--last {last}: must be at least 1")
        return StartPosition("last", last)
    if since is not None:
        from mqctl.lag.parsing import checked_epoch_ms

        when = parse_time(since, now)
        ms = checked_epoch_ms(int(when.timestamp() * 1000), f"--since {since!r}")
        return StartPosition("timestamp", ms)
    return StartPosition("beginning")
