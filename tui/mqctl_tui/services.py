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
    QueueSummary,
    TopicDetail,
    TopicSummary,
)
from mqctl.models.lag import LagEntry
from mqctl.models.messages import Message, OutgoingMessage, PeekOptions, PublishOptions
from mqctl.models.messages import PublishResult as PublishResult
from mqctl.session import Session
from mqctl_tui.queue_listing import QueueListing


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

    async def list_queues(self) -> list[QueueSummary]:
        """Every queue's row; a row whose stats are not read yet has ``consumers`` None (not
        known) and no rates."""

    def queue_stats(self) -> Awaitable[list[QueueSummary] | None] | None:
        """Called right after :meth:`list_queues`: when its rows lack stats being read in
        the background (the first listing is lean), an awaitable of the newest listing's
        rows with them (None if a newer listing superseded them; raises if they could not
        be read); None when there is nothing to wait for. Await it at once."""

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


class Services:
    """The real :class:`TuiServices`: service calls bound to one context's Session."""

    def __init__(self, context: Context, *, timeout: float | None = None) -> None:
        self.context = context
        # Writes are audited by the services (command "mqctl tui" in the records).
        self.session = Session(context, timeout=timeout, invocation=TUI)
        self._queues = QueueListing(self.session)

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def backend_names(self) -> list[str]:
        return self.session.backend_names

    async def close(self) -> None:
        self._queues.close()
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
        one is in flight (see :class:`~mqctl_tui.queue_listing.QueueListing`)."""
        return await self._queues.list_queues()

    def queue_stats(self) -> Awaitable[list[QueueSummary] | None] | None:
        return self._queues.stats_pending()

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

        return await dlq.inspect(
            self.session, self._dlq_name(destination), group_by=group_by, vhost=destination.vhost
        )

    async def dlq_plan(self, destination: Destination, options: RedriveOptions) -> RedriveSummary:
        """The dry-run of a redrive (a safe peek; nothing moves)."""
        from mqctl.services import dlq

        return await dlq.plan(
            self.session, self._dlq_name(destination), options, vhost=destination.vhost
        )

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
            vhost=destination.vhost,  # a queue of another vhost, chosen in the queues panel
        )
