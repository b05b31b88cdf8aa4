"""The queue listing of the TUI's queues panel, cheap at thousands of queues (issue 19).

The first listing is always the broker's cheap one (every queue's depth, no message
stats: ~0.3 s at 5,000 queues against ~2 s with stats), so the queues panel fills about
as fast as the others; the full listing with stats is read right after it in the
background and the panel updated when it lands (consumers show as not known until then).
Later refreshes: with up to LEAN_QUEUES_ABOVE queues, the full listing (cheap at that
size); with more, the lean listing plus STATS_PAGES pages of the full listing read in the
background after it, going round the pages from one refresh to the next; the next refresh
puts those rates, consumer counts and policies on its rows. The broker renders a page with
stats in about a fifth of the time of all 5,000 queues with stats, and the page is read in
the pause between refreshes, so every refresh costs one lean listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from mqctl.models.inventory import QueuePage, QueueSummary
from mqctl.session import Session

LEAN_QUEUES_ABOVE = 1000
STATS_PAGES = 1
QueueKey = tuple[str, str, str]


def _key(queue: QueueSummary) -> QueueKey:
    return (queue.backend, queue.vhost, queue.name)


def _with_stats(depths: QueueSummary, stats: QueueSummary) -> QueueSummary:
    """``depths`` (a lean row) with the rates, consumers and policy of ``stats`` (an older
    full row of the same queue). Built directly: dataclasses.replace is ~5x slower, which
    shows at 5,000 rows per refresh."""
    return QueueSummary(
        depths.vhost, depths.name, depths.type, depths.durable, depths.state,
        depths.messages, depths.ready, depths.unacked, stats.consumers,
        stats.publish_rate, stats.deliver_rate, stats.ack_rate, stats.policy,
        stats.dead_letter_exchange, stats.dead_letter_routing_key, depths.arguments,
        depths.backend,
    )  # fmt: skip


class QueueListing:
    """One context's queue listing and the stats known of each queue."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._queue_count: int | None = None  # queues in the last listing (None: none yet)
        self._stats: dict[QueueKey, QueueSummary] = {}  # each queue's last row with stats
        self._lean: list[QueueSummary] | None = None  # the last listing, if it was lean
        self._next_page = 1  # the next page of the full listing to ask for
        # Rows with stats being read after a lean listing: the whole full listing (the
        # first time: ``_reading_all``) or its next pages.
        self._reading: asyncio.Future[list[QueueSummary]] | None = None
        self._reading_all = False

    def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()

    async def list_queues(self) -> list[QueueSummary]:
        """Every queue's row (see the module's docstring). Called by the app's refresh
        worker only, which never starts a queue listing while one is in flight: the
        bookkeeping here sees one listing at a time."""
        from mqctl.services import inventory

        count = self._queue_count
        if count is not None and (
            count <= LEAN_QUEUES_ABOVE or not inventory.has_queue_pages(self.session)
        ):
            if self._reading is not None:  # superseded by this listing
                self._reading.cancel()
                self._reading = None
            queues = await inventory.list_queues(self.session, all_vhosts=True, stats=True)
            self._queue_count = len(queues)
            self._lean = None
            self._stats = {_key(q): q for q in queues} if len(queues) > LEAN_QUEUES_ABOVE else {}
            return queues
        lean = await inventory.list_queues(self.session, all_vhosts=True, stats=False)
        self._queue_count = len(lean)
        self._lean = lean
        rows = self._merged(lean)
        if self._reading is None:  # read while the UI waits for the next tick
            self._reading_all = not self._stats  # nothing known yet: every queue's stats
            self._reading = asyncio.ensure_future(
                self._all_stats() if self._reading_all else self._stats_pages()
            )
        return rows

    def stats_pending(self) -> Awaitable[list[QueueSummary] | None] | None:
        """:meth:`mqctl_tui.services.TuiServices.queue_stats`."""
        task = self._reading
        if task is None or not self._reading_all or self._lean is None:
            return None  # (a queue new since the stats were read gets them from its page)
        return self._when_read(task)

    async def _when_read(
        self, task: asyncio.Future[list[QueueSummary]]
    ) -> list[QueueSummary] | None:
        await asyncio.wait([task])
        if task.cancelled() or self._lean is None:
            return None  # a full listing came since (with the stats)
        error = task.exception()
        if error is not None:
            raise error  # (the next listing starts reading them again)
        return self._merged(self._lean)  # the newest depths, not those of the call's time

    def _merged(self, lean: list[QueueSummary]) -> list[QueueSummary]:
        """The lean rows with the stats known of each queue (a row without any stays lean:
        consumers not known). Queues gone from the listing drop out of what is known."""
        self._take_read()
        known, self._stats = self._stats, {}
        rows = []
        for q in lean:
            key = _key(q)
            stats = known.get(key)
            if stats is None:
                rows.append(q)
            else:
                self._stats[key] = stats
                rows.append(_with_stats(q, stats))
        return rows

    def _take_read(self) -> None:
        """Fold in the stats read since the last listing if the reading is done (if not, a
        later listing uses them). A reading that failed is dropped: its queues keep their
        older stats, and the depths still show."""
        task = self._reading
        if task is None or not task.done():
            return
        self._reading = None
        if not task.cancelled() and task.exception() is None:
            self._stats.update((_key(q), q) for q in task.result())

    async def _all_stats(self) -> list[QueueSummary]:
        from mqctl.services import inventory

        return await inventory.list_queues(self.session, all_vhosts=True, stats=True)

    async def _stats_pages(self) -> list[QueueSummary]:
        """The rows of the next STATS_PAGES pages of the full listing. A page that fails is
        skipped (as a failed reading, see :meth:`_take_read`)."""
        from mqctl.services import inventory

        wanted = range(self._next_page, self._next_page + STATS_PAGES)
        answers = await asyncio.gather(
            *(inventory.list_queue_page(self.session, n, all_vhosts=True) for n in wanted),
            return_exceptions=True,
        )
        pages = [a for a in answers if isinstance(a, QueuePage)]
        if pages:
            last = max(pages, key=lambda p: p.page)
            self._next_page = last.page % last.page_count + 1
        else:
            self._next_page = 1
        return [q for page in pages for q in page.queues]
