"""The TUI's only door to the brokers: every method calls one ``mqctl.services`` function.

Screens and widgets never touch a backend or a broker client. They hold a
:class:`TuiServices` (one per selected context) and await its methods from background
workers. :class:`Services` is the real one, wrapping a :class:`mqctl.session.Session`; the
snapshot tests' fake (``tests/tui/fakes.py``) implements the same Protocol, and mypy checks
both against it (tests/tui/test_services_protocol.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from mqctl.config.schema import Context
from mqctl.dlq.models import InspectReport, RedriveSummary
from mqctl.dlq.plan import RedriveOptions
from mqctl.doctor.model import Finding
from mqctl.invocation import TUI
from mqctl.lag.model import GroupDetail, OffsetResetPlan, ResetSpec
from mqctl.messages.filters import MessageFilter
from mqctl.models.inventory import (
    BrokerStatus,
    Destination,
    QueueDetail,
    QueuePage,
    QueueSummary,
    TopicDetail,
    TopicSummary,
)
from mqctl.models.lag import LagEntry
from mqctl.models.messages import Message, OutgoingMessage, PeekOptions, PublishOptions
from mqctl.models.messages import PublishResult as PublishResult
from mqctl.session import Session


async def close_stream(stream: AsyncIterator[object]) -> None:
    """Close a peek or publish stream a screen stops reading (an async generator: its
    ``finally`` blocks release the broker's consumer or producer at once)."""
    if isinstance(stream, AsyncGenerator):
        await stream.aclose()


T = TypeVar("T")


class TuiServices(Protocol):
    """What the TUI asks of the brokers (one instance per selected context)."""

    @property
    def read_only(self) -> bool: ...

    @property
    def backend_names(self) -> list[str]: ...

    async def close(self) -> None: ...

    async def call(self, service: Callable[[Session], Awaitable[T]]) -> T:
        """A read-only core service call with this context's session (the admin views)."""

    def approve_writes(self) -> None:
        """The user typed the protected context's name: the session's writes go ahead."""

    async def broker_status(self) -> list[BrokerStatus]: ...

    async def list_topics(self) -> list[TopicSummary]: ...

    async def list_queues(self) -> list[QueueSummary]: ...

    async def describe_topic(self, name: str) -> TopicDetail: ...

    async def describe_queue(self, name: str, vhost: str | None) -> QueueDetail: ...

    async def lag(self) -> list[LagEntry]: ...

    async def describe_group(self, group: str) -> GroupDetail: ...

    async def offsets_plan(self, group: str, spec: ResetSpec) -> OffsetResetPlan: ...

    async def offsets_apply(self, plan: OffsetResetPlan) -> OffsetResetPlan: ...

    def peek(
        self, destination: Destination, options: PeekOptions, filters: MessageFilter | None = None
    ) -> AsyncIterator[Message]: ...

    def publish(
        self,
        destination: Destination,
        outgoing: Iterable[OutgoingMessage],
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[PublishResult]: ...

    def publish_tallies(
        self,
        destination: Destination,
        outgoing: Iterable[OutgoingMessage],
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[tuple[int, list[PublishResult]]]:
        """:meth:`publish` for progress: (messages confirmed, failed results) per group."""
        ...

    async def dlq_inspect(
        self, destination: Destination, *, group_by: str = "reason"
    ) -> InspectReport: ...

    async def doctor(self) -> list[Finding]:
        """The doctor's findings on this context (two samples ``interval`` apart)."""

    async def dlq_plan(
        self, destination: Destination, options: RedriveOptions
    ) -> RedriveSummary: ...

    async def dlq_redrive(
        self,
        destination: Destination,
        options: RedriveOptions,
        *,
        progress: Callable[[RedriveSummary, int | None], None] | None = None,
        stop: asyncio.Event | None = None,
        shown: RedriveSummary | None = None,
        confirm: Callable[[RedriveSummary], Awaitable[None]] | None = None,
    ) -> RedriveSummary: ...


# With more queues than this, a refresh lists every queue's depth with the broker's cheap
# listing (no message stats), and right after it reads STATS_PAGES pages of the full listing
# in the background, going round the pages from one refresh to the next; the next refresh
# puts those rates, consumer counts and policies on its rows. The broker renders a page with
# stats in about a fifth of the time of all 5,000 queues with stats, and the page is read in
# the pause between refreshes, so every refresh costs one lean listing.
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


class Services:
    """The real :class:`TuiServices`: service calls bound to one context's Session."""

    def __init__(self, context: Context, *, timeout: float | None = None) -> None:
        self.context = context
        # Writes are audited by the services (command "mqctl tui" in the records).
        self.session = Session(context, timeout=timeout, invocation=TUI)
        self._many_queues = False  # the last listing had more than LEAN_QUEUES_ABOVE queues
        self._stats: dict[QueueKey, QueueSummary] = {}  # each queue's last row with stats
        self._next_page = 1  # the next page of the full listing to ask for
        self._pages: asyncio.Future[list[QueuePage]] | None = None  # read after a listing

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def backend_names(self) -> list[str]:
        return self.session.backend_names

    async def close(self) -> None:
        if self._pages is not None:
            self._pages.cancel()
        await self.session.close()

    def approve_writes(self) -> None:
        """The user typed the protected context's name: the session's writes go ahead."""
        self.session.approve_writes()

    async def call(self, service: Callable[[Session], Awaitable[T]]) -> T:
        return await service(self.session)

    # -- inventory -------------------------------------------------------------------------
    async def broker_status(self) -> list[BrokerStatus]:
        from mqctl.services import inventory

        return await inventory.broker_status(self.session)

    async def list_topics(self) -> list[TopicSummary]:
        from mqctl.services import inventory

        return await inventory.list_topics(self.session)

    async def list_queues(self) -> list[QueueSummary]:
        """Called by the app's refresh worker only, which never starts a queue listing while
        one is in flight: the bookkeeping below sees one listing at a time."""
        from mqctl.services import inventory

        if not self._many_queues or not inventory.has_queue_pages(self.session):
            queues = await inventory.list_queues(self.session, all_vhosts=True, stats=True)
            self._many_queues = len(queues) > LEAN_QUEUES_ABOVE
            self._stats = {_key(q): q for q in queues} if self._many_queues else {}
            return queues
        queues = await inventory.list_queues(self.session, all_vhosts=True, stats=False)
        self._many_queues = len(queues) > LEAN_QUEUES_ABOVE
        known, self._stats = self._stats, {}
        for page in self._pages_read():
            known.update((_key(q), q) for q in page.queues)
        rows = []
        for q in queues:
            key = _key(q)
            stats = known.get(key)
            if stats is None:
                rows.append(q)  # new since its page was read: no rates, 0 consumers yet
            else:
                self._stats[key] = stats  # (queues deleted since then drop out here)
                rows.append(_with_stats(q, stats))
        if self._pages is None:  # the next pages, read while the UI waits for the next tick
            self._pages = asyncio.ensure_future(self._stats_pages())
        return rows

    def _pages_read(self) -> list[QueuePage]:
        """The pages read since the last listing; none if they are still being read (they
        are then used by a later listing)."""
        task = self._pages
        if task is None or not task.done():
            return []
        self._pages = None
        if task.cancelled() or task.exception() is not None:
            return []
        return task.result()

    async def _stats_pages(self) -> list[QueuePage]:
        """The next STATS_PAGES pages of the full listing. A page that fails is skipped: its
        queues keep their older rates, and the depths (the lean listing) still show."""
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
        return pages

    async def describe_topic(self, name: str) -> TopicDetail:
        from mqctl.services import inventory

        return await inventory.describe_topic(self.session, f"{self._topic_backend()}:{name}")

    async def describe_queue(self, name: str, vhost: str | None) -> QueueDetail:
        from mqctl.services import inventory

        return await inventory.describe_queue(
            self.session, f"{self._queue_backend()}:{name}", vhost=vhost
        )

    def _topic_backend(self) -> str:
        from mqctl.backend import TopicCatalog

        return str(self.session.backends_with(TopicCatalog, "topics")[0][0].name)

    def _queue_backend(self) -> str:
        from mqctl.backend import QueueCatalog

        return str(self.session.backends_with(QueueCatalog, "queues")[0][0].name)

    # -- lag and consumer groups -------------------------------------------------------------
    async def lag(self) -> list[LagEntry]:
        """Consumer groups' lag. Queue depths, the "lag" of queue brokers, are in the queue
        listing the queues panel shows: asking for them here would list every queue twice."""
        from mqctl.services.lag import LagQuery, snapshot

        return await snapshot(self.session, LagQuery(), queue_brokers=False)

    async def describe_group(self, group: str) -> GroupDetail:
        from mqctl.services import groups

        return await groups.describe_group(self.session, group)

    async def offsets_plan(self, group: str, spec: ResetSpec) -> OffsetResetPlan:
        """The dry-run plan of an offsets reset (nothing is changed)."""
        from mqctl.services import groups

        return await groups.reset_offsets(self.session, group, spec, execute=False)

    async def offsets_apply(self, plan: OffsetResetPlan) -> OffsetResetPlan:
        from mqctl.services import groups

        return await groups.apply_reset(self.session, plan)

    # -- messages --------------------------------------------------------------------------
    def peek(
        self, destination: Destination, options: PeekOptions, filters: MessageFilter | None = None
    ) -> AsyncIterator[Message]:
        from mqctl.services import messages

        return messages.peek(self.session, destination, options, filters)

    def publish(
        self,
        destination: Destination,
        outgoing: Iterable[OutgoingMessage],
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[PublishResult]:
        from mqctl.services import messages

        return messages.publish(self.session, destination, outgoing, options, rate=rate)

    # -- doctor ------------------------------------------------------------------------------
    async def doctor(self) -> list[Finding]:
        """The checklist of ``mqctl doctor`` (thresholds and interval from the context's
        config); a broker that does not answer is a finding, not an exception."""
        from mqctl.doctor.runner import diagnose

        return await diagnose(self.session)

    def publish_tallies(
        self,
        destination: Destination,
        outgoing: Iterable[OutgoingMessage],
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[tuple[int, list[PublishResult]]]:
        from mqctl.services import messages

        return messages.publish_tallies(self.session, destination, outgoing, options, rate=rate)

    # -- dead letters -----------------------------------------------------------------------
    @staticmethod
    def _dlq_name(destination: Destination) -> str:
        return f"{destination.backend}:{destination.name}"

    async def dlq_inspect(
        self, destination: Destination, *, group_by: str = "reason"
    ) -> InspectReport:
        from mqctl.services import dlq

        return await dlq.inspect(self.session, self._dlq_name(destination), group_by=group_by)

    async def dlq_plan(self, destination: Destination, options: RedriveOptions) -> RedriveSummary:
        """The dry-run of a redrive (a safe peek; nothing moves)."""
        from mqctl.services import dlq

        return await dlq.plan(self.session, self._dlq_name(destination), options)

    async def dlq_redrive(
        self,
        destination: Destination,
        options: RedriveOptions,
        *,
        progress: Callable[[RedriveSummary, int | None], None] | None = None,
        stop: asyncio.Event | None = None,
        shown: RedriveSummary | None = None,
        confirm: Callable[[RedriveSummary], Awaitable[None]] | None = None,
    ) -> RedriveSummary:
        """``confirm``: asked with the plan before anything moves (a no is audited);
        ``shown``: a plan confirmed earlier. The result says when it differs from the plan."""
        from mqctl.services import dlq

        name = self._dlq_name(destination)
        return await dlq.redrive(
            self.session,
            name,
            options,
            progress=progress,
            stop=stop,
            shown=shown,
            confirm=confirm,
        )
