"""Concurrent callers of the same read share one request instead of each making their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _mark_retrieved(task: asyncio.Future[Any]) -> None:
    """A shared request's failure is reported to its callers; do not warn it was unseen."""
    if not task.cancelled():
        task.exception()


class SingleFlight:
    """Join the request for a key already in flight, or start it.

    For idempotent reads that several callers ask at the same moment (a TUI refresh asks
    Kafka's cluster metadata for status, topics and lag together). Nothing is cached: a
    caller arriving after the answer came back starts a new request. The shared request is
    shielded, so one caller giving up does not cancel it for the others.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Future[Any]] = {}

    def join(self, key: str, start: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """The shared result for ``key``; ``start()`` is called only when none is in flight."""
        task = self._tasks.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(start())
            task.add_done_callback(_mark_retrieved)
            self._tasks[key] = task
        return asyncio.shield(task)
