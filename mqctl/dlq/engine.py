"""Bookkeeping shared by every backend's redrive loop: rate limit, stop request, progress,
and the summary. The backend owns the broker protocol (consume, publish with confirm,
ack/commit after the confirm); it reports each outcome here.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterator

from mqctl.dlq.models import RedriveSummary
from mqctl.dlq.plan import Target

ProgressCallback = Callable[[RedriveSummary, int | None], None]
MAX_ERRORS_KEPT = 20
PROGRESS_EVERY = 0.1  # seconds between progress callbacks


class RateLimiter:
    """Spaces messages evenly at ``rate`` per second (no bursts beyond one message)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        self._next = max(self._next, now)
        delay = self._next - now
        self._next += self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class RedriveControl:
    """Handed to a backend's redrive: it asks :attr:`stopping` before taking each message,
    awaits :meth:`throttle` before each publish and reports every outcome."""

    def __init__(
        self,
        summary: RedriveSummary,
        *,
        rate: float | None = None,
        total: int | None = None,
        progress: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
        window: int = 1000,
    ) -> None:
        self.summary = summary
        self.total = total
        self.window = window
        self._limiter = RateLimiter(rate)
        self._progress = progress
        self._stop = stop or asyncio.Event()
        self._started = time.monotonic()
        self._last_progress = 0.0

    def begin(self, total: int | None) -> None:
        """The backend knows how many messages this run covers: show it right away."""
        self.total = total
        self._tick(force=True)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """The backend itself must end the run early (e.g. its redrive lease was lost)."""
        self._stop.set()

    @property
    def rate_limited(self) -> bool:
        """``--rate`` is set: a backend sends each message as soon as it is throttled."""
        return self._limiter.interval > 0

    async def throttle(self) -> None:
        await self._limiter.wait()

    def examined(self) -> None:
        self.summary.examined += 1

    def moved(self, target: Target) -> None:
        self.summary.moved += 1
        label = target.label
        self.summary.by_destination[label] = self.summary.by_destination.get(label, 0) + 1
        self._tick()

    def skipped(self, reason: str) -> None:
        self.summary.skipped[reason] = self.summary.skipped.get(reason, 0) + 1
        self._tick()

    def failed(self, error: str) -> None:
        self.summary.failed += 1
        if len(self.summary.errors) < MAX_ERRORS_KEPT and error not in self.summary.errors:
            self.summary.errors.append(error)
        self._tick()

    def stopped_early(self, why: str) -> None:
        if self.summary.stopped_early is None:
            self.summary.stopped_early = why

    def _tick(self, force: bool = False) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_EVERY:
            self._last_progress = now
            self._progress(self.summary, self.total)

    def finish(self) -> RedriveSummary:
        elapsed = time.monotonic() - self._started
        self.summary.duration_seconds = round(elapsed, 3)
        self.summary.interrupted = self._stop.is_set() and self.summary.stopped_early is None
        if elapsed > 0 and self.summary.moved and not self.summary.dry_run:
            self.summary.rate_per_second = round(self.summary.moved / elapsed, 1)
        self._tick(force=True)
        return self.summary


@contextlib.contextmanager
def stop_on_interrupt(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C (SIGINT) or SIGTERM asks the redrive to stop after in-flight confirms instead
    of killing it mid-way. Outside the main thread (TUI workers) nothing is installed."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
