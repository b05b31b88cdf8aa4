"""The TUI's only door to the brokers: every method calls one ``mqctl.services`` function.

Screens and widgets never touch a backend or a broker client. They hold a :class:`Services`
(one per selected context, wrapping a :class:`mqctl.session.Session`) and await its methods
from background workers. Services that other areas deliver later are reached through the
:func:`_service` helper: it imports a service module lazily and raises
:class:`ServiceNotReady` when it is not there, which the UI shows as a panel status.

Snapshot tests substitute a fake with the same methods (see ``tests/tui/fakes.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from mqctl.config.schema import Context
from mqctl.dlq.models import InspectReport, RedriveSummary
from mqctl.dlq.plan import RedriveOptions
from mqctl.errors import NotSupportedError
from mqctl.lag.model import GroupDetail, OffsetResetPlan, ResetSpec
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


class ServiceNotReady(NotSupportedError):
    """A service module the TUI adapts to is not available (not landed / not installed)."""


def _service(module: str, *names: str) -> Callable[..., Any]:
    """The first of ``names`` found in ``mqctl.services.<module>``."""
    try:
        mod = importlib.import_module(f"mqctl.services.{module}")
    except ImportError:
        raise ServiceNotReady(f"the {module} service is not available in this mqctl") from None
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    raise ServiceNotReady(f"mqctl.services.{module} has no {' / '.join(names)}")


# With more queues than this, most refreshes list queues without message stats (the broker's
# cheap listing: depths only) and every FULL_STATS_EVERY-th refresh lists them with stats;
# in between, each queue shows the rates, consumer count and policy of the last full listing
# (the lean listing has none of them).
LEAN_QUEUES_ABOVE = 1000
FULL_STATS_EVERY = 6
CARRIED = (
    "publish_rate", "deliver_rate", "ack_rate", "consumers", "policy",
    "dead_letter_exchange", "dead_letter_routing_key",
)  # fmt: skip


def _retrieve(task: asyncio.Future[list[QueueSummary]]) -> None:
    """Mark a shared listing's failure as seen (its awaiting callers report it)."""
    if not task.cancelled():
        task.exception()


class Services:
    """Service calls bound to one context's Session."""

    def __init__(self, context: Context, *, timeout: float | None = None) -> None:
        self.context = context
        self.session = Session(context, timeout=timeout)
        self._queues_task: asyncio.Future[list[QueueSummary]] | None = None
        self._listings = 0  # queue listings started (one per refresh)
        self._many_queues = False  # the last listing had more than LEAN_QUEUES_ABOVE queues
        self._carried: dict[tuple[str, str, str], dict[str, Any]] = {}  # last full listing

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def backend_names(self) -> list[str]:
        return self.session.backend_names

    async def close(self) -> None:
        await self.session.close()

    def approve_writes(self) -> None:
        """The user typed the protected context's name: the session's writes go ahead."""
        self.session.approve_writes()

    # -- inventory -------------------------------------------------------------------------
    async def broker_status(self) -> list[BrokerStatus]:
        from mqctl.services import inventory

        return await inventory.broker_status(self.session)

    async def list_topics(self) -> list[TopicSummary]:
        from mqctl.services import inventory

        return await inventory.list_topics(self.session)

    async def list_queues(self) -> list[QueueSummary]:
        return await self._queue_listing()

    def _queue_listing(self) -> asyncio.Future[list[QueueSummary]]:
        """One queue listing per refresh, shared by the queues panel and the lag view: a
        caller joins the listing in flight, or starts a new one (listing thousands of queues
        is the slowest call of a refresh; the broker renders every page for each request)."""
        task = self._queues_task
        if task is None or task.done():
            stats = not self._many_queues or self._listings % FULL_STATS_EVERY == 0
            self._listings += 1
            task = asyncio.ensure_future(self._list_queues(stats))
            task.add_done_callback(_retrieve)
            self._queues_task = task
        return asyncio.shield(task)

    async def _list_queues(self, stats: bool) -> list[QueueSummary]:
        """A full listing or, with many queues, a lean one (depths only) whose rows carry
        the CARRIED fields of the last full listing (a queue new since then has no rates and
        0 consumers until the next full listing)."""
        from mqctl.services import inventory

        queues = await inventory.list_queues(self.session, all_vhosts=True, stats=stats)
        self._many_queues = len(queues) > LEAN_QUEUES_ABOVE
        if stats:
            self._carried = (
                {(q.backend, q.vhost, q.name): {k: getattr(q, k) for k in CARRIED} for q in queues}
                if self._many_queues
                else {}
            )
            return queues
        rows = []
        for q in queues:
            carried = self._carried.get((q.backend, q.vhost, q.name))
            rows.append(dataclasses.replace(q, **carried) if carried else q)
        return rows

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
        from mqctl.backend import QueueCatalog
        from mqctl.services.lag import LagQuery, snapshot

        if not any(isinstance(b, QueueCatalog) for b in self.session.backends()):
            return await snapshot(self.session, LagQuery())
        return await snapshot(self.session, LagQuery(), queues=self._queue_listing())

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
        self,
        destination: Destination,
        options: PeekOptions,
        filters: Any = None,
    ) -> AsyncIterator[Message]:
        from mqctl.services import messages

        return messages.peek(self.session, destination, options, filters)

    def publish(
        self,
        destination: Destination,
        outgoing: list[OutgoingMessage],
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[PublishResult]:
        from mqctl.services import messages

        return messages.publish(self.session, destination, outgoing, options, rate=rate)

    # -- dead letters -----------------------------------------------------------------------
    @staticmethod
    def _dlq_name(destination: Destination) -> str:
        return f"{destination.backend}:{destination.name}"

    async def dlq_inspect(self, destination: Destination) -> InspectReport:
        from mqctl.services import dlq

        return await dlq.inspect(self.session, self._dlq_name(destination))

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
    ) -> RedriveSummary:
        from mqctl.services import dlq

        return await dlq.redrive(
            self.session, self._dlq_name(destination), options, progress=progress, stop=stop
        )
