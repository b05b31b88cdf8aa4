"""``--rate R/s``: pace an async stream of messages.

Message ``i`` is released at ``start + i / rate`` (a fixed schedule, not a sleep after each
message), so slow sends are caught up and the average rate stays at ``rate`` without drift.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from mqctl.errors import UsageError

T = TypeVar("T")

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_rate(text: str) -> float:
    """``"200"``, ``"200/s"``, ``"30/m"``, ``"0.5/s"`` -> messages per second (> 0)."""
    number, _, unit = text.strip().partition("/")
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"--rate {text!r}: expected a number of messages, e.g. 200/s") from None
    per = _UNITS.get(unit.strip() or "s")
    if per is None:
        raise UsageError(f"--rate {text!r}: unit must be /s, /m or /h")
    if not value > 0 or value == float("inf"):
        raise UsageError(f"--rate {text!r}: must be greater than 0")
    return value / per


async def rate_limited(
    source: AsyncIterator[T],
    per_second: float | None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[T]:
    """Yield from ``source`` at most ``per_second`` items per second (None = unlimited)."""
    if per_second is None:
        async for item in source:
            yield item
        return
    interval = 1.0 / per_second
    start = clock()
    index = 0
    async for item in source:
        due = start + index * interval
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        index += 1
        yield item
