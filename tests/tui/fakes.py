"""A deterministic fake of the TUI's service adapter, ONLY for the snapshot tests and the
"never crashes" stress test (data no real broker gives on demand: missing figures, huge
numbers, 255-character names, statuses this TUI does not know).

It has the same methods as :class:`mqctl_tui.services.Services` and returns fixed data, so
screenshots do not depend on what the shared brokers hold. Broker behaviour is tested by
the Pilot tests against the real brokers, never with this fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from mqctl_tui.app import ServicesFactory
from mqctl_tui.services import TuiServices

from mqctl.config.schema import Context
from mqctl.dlq.models import DeadLetterGroup, InspectReport, MessageSample, RedriveSummary
from mqctl.dlq.plan import RedriveOptions
from mqctl.doctor.model import Finding, Severity
from mqctl.errors import NotSupportedError
from mqctl.lag.model import GroupDetail, GroupMember, OffsetPlanRow, OffsetResetPlan, ResetSpec
from mqctl.models.inventory import (
    BindingInfo,
    BrokerStatus,
    ConfigEntry,
    ConsumerInfo,
    Destination,
    PartitionDetail,
    QueueDetail,
    QueueSummary,
    TopicDetail,
    TopicSummary,
)
from mqctl.models.lag import LagEntry, LagStatus
from mqctl.models.messages import (
    Message,
    PublishOptions,
    PublishResult,
)
from mqctl.session import Session
from tests.tui.fake_data import (
    FINDINGS,
    LAG,
    LONG,
    MESSAGES,
    QUEUES,
    T0,
    TOPICS,
    lag_partitions,
    queue_summary,
)

T = TypeVar("T")


class FakeServices:
    """Same surface as mqctl_tui.services.Services; fixed, deterministic data."""

    def __init__(self, context: Context, timeout: float | None = None) -> None:
        self.context = context

    @property
    def read_only(self) -> bool:
        return self.context.read_only

    @property
    def backend_names(self) -> list[str]:
        return list(self.context.backends)

    async def close(self) -> None:
        return None

    async def broker_status(self) -> list[BrokerStatus]:
        return [
            BrokerStatus("kafka", "kafka-1.staging:9092", True, "4.1"),
            BrokerStatus("rabbitmq", "http://rabbit.staging:15672", True, "4.1.4"),
        ]

    async def list_topics(self) -> list[TopicSummary]:
        return list(TOPICS)

    async def list_queues(self) -> list[QueueSummary]:
        return list(QUEUES)

    def queue_stats(self) -> Awaitable[list[QueueSummary] | None] | None:
        return None  # the fake's rows carry their stats at once

    async def lag(self) -> list[LagEntry]:
        return list(LAG)

    async def describe_topic(self, name: str) -> TopicDetail:
        partitions = [
            PartitionDetail(i, 1, [1, 2, 3], [1, 2] if i == 2 else [1, 2, 3], 0, 500)
            for i in range(6)
        ]
        configs = [
            ConfigEntry("retention.ms", "604800000", True, "DEFAULT_CONFIG"),
            ConfigEntry("cleanup.policy", "delete", True, "DEFAULT_CONFIG"),
            ConfigEntry("min.insync.replicas", "2", False, "DYNAMIC_TOPIC_CONFIG"),
        ]
        return TopicDetail(name, False, 3, 3000, partitions, configs)

    async def describe_queue(self, name: str, vhost: str | None) -> QueueDetail:
        queue = next(q for q in QUEUES if q.name == name)
        consumers = [
            ConsumerInfo("amq.ctag-1", "ch-1", "conn-1", "10.0.0.5", True, 20, True),
        ]
        bindings = [BindingInfo("/", "orders", name, "queue", "order.#")]
        return QueueDetail(queue, {}, None, consumers, bindings, "rabbit@node-1", 12.0)

    async def describe_group(self, group: str) -> GroupDetail:
        bare = group.split(":", 1)[-1]
        entry = next(e for e in LAG if e.group == bare)
        members = [
            GroupMember(
                f"{bare}-m{i}",
                f"{bare}-{i}",
                f"/10.0.0.{i + 10}",
                assignment={"order.created": [i * 3, i * 3 + 1, i * 3 + 2]},
            )
            for i in range(entry.members)
        ]
        return GroupDetail(
            bare, entry.state or "", "consumer", "classic", "range", 1, members, entry.partitions
        )

    def peek(
        self, destination: Destination, options: Any, filters: Any = None
    ) -> AsyncIterator[Message]:
        async def gen() -> AsyncIterator[Message]:
            for message in MESSAGES:
                yield message

        return gen()

    async def dlq_inspect(
        self, destination: Destination, *, group_by: str = "reason"
    ) -> InspectReport:
        sample = MessageSample(
            "0:1",
            "ord-7",
            "java.lang.IllegalStateException: bad amount",
            "order.created",
            T0,
            1,
            '{"order_id": "ord-7"}',
        )
        groups = [
            DeadLetterGroup("java.lang.IllegalStateException: bad amount", 42, T0, T0, [sample]),
            DeadLetterGroup("rejected", 18, T0, T0, []),
        ]
        return InspectReport("kafka", destination.qualified, group_by, 60, {"spring": 60}, groups)

    async def offsets_plan(self, group: str, spec: ResetSpec) -> OffsetResetPlan:
        rows = [
            OffsetPlanRow(
                "order.created", i, None if i == 0 else 400, 500, None if i == 0 else 100, 0, 500
            )
            for i in range(3)
        ]
        return OffsetResetPlan(group, spec.mode, False, rows)

    async def offsets_apply(self, plan: OffsetResetPlan) -> OffsetResetPlan:
        return OffsetResetPlan(plan.group, plan.mode, True, plan.rows)

    def publish(
        self,
        destination: Destination,
        outgoing: Any,
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[PublishResult]:
        async def gen() -> AsyncIterator[PublishResult]:
            for index, _message in enumerate(outgoing):
                self.published += 1
                yield PublishResult(index, True, 0, index)
                if index % 1000 == 0:
                    await asyncio.sleep(0)

        return gen()

    published = 0

    def publish_tallies(
        self,
        destination: Destination,
        outgoing: Any,
        options: PublishOptions,
        rate: float | None = None,
    ) -> AsyncIterator[tuple[int, list[PublishResult]]]:
        async def gen() -> AsyncIterator[tuple[int, list[PublishResult]]]:
            async for _result in self.publish(destination, outgoing, options, rate):
                yield 1, []

        return gen()

    def approve_writes(self) -> None:
        return None

    async def call(self, service: Callable[[Session], Awaitable[T]]) -> T:
        raise NotSupportedError("the admin views are not part of the snapshots")

    async def doctor(self) -> list[Finding]:
        return list(FINDINGS)

    async def dlq_plan(self, destination: Destination, options: RedriveOptions) -> RedriveSummary:
        return RedriveSummary(
            "kafka", destination.name, True, examined=60, by_destination={"order.created": 60}
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
        return RedriveSummary("kafka", destination.name, False, examined=60, moved=60)


class NastyServices(FakeServices):
    """Rows a dashboard must survive: missing figures ("-"), zeros, huge numbers, a
    255-character name, a status string this TUI does not know, NaN and infinite rates."""

    async def list_topics(self) -> list[TopicSummary]:
        return [*TOPICS, TopicSummary(LONG[:-4] + "_dlq", 1, 1, 10**15, backend="kafka")]

    async def list_queues(self) -> list[QueueSummary]:
        return [
            *QUEUES,
            queue_summary(LONG[:-1] + "!", 10**12, 0, None, None),
            queue_summary("zero", 0, 0, 0.0, 0.0),
            queue_summary("nan", 5, 1, float("nan"), float("inf")),
            queue_summary("orders_dlq", 3, 0, None, 0.0),
        ]

    async def lag(self) -> list[LagEntry]:
        odd = LagEntry(
            "kafka", "group", LONG[:-1] + "!", LagStatus.OK, 10**15, None, [LONG], 0, None,
            lag_partitions(LONG, [0, 10**15], None),
        )  # fmt: skip
        unknown = LagEntry(
            "kafka", "group", "unknown-status", LagStatus.OK, 0, float("nan"), [], 0, "Dead", []
        )
        unknown.status = "UNREACHABLE"  # type: ignore[assignment]  # a status added later
        return [*LAG, odd, unknown]

    async def describe_group(self, group: str) -> GroupDetail:
        bare = group.split(":", 1)[-1]
        entry = next((e for e in await self.lag() if e.group == bare), LAG[0])
        return GroupDetail(bare, "", "consumer", "classic", "range", 1, [], entry.partitions)

    async def describe_queue(self, name: str, vhost: str | None) -> QueueDetail:
        queue = next(q for q in await self.list_queues() if q.name == name)
        return QueueDetail(queue, {}, None, [], [], "rabbit@node-1", None)

    async def doctor(self) -> list[Finding]:
        later = Finding("future-check", Severity.OK, LONG, "a severity added later")
        later.severity = "DEGRADED"  # type: ignore[assignment]  # a severity added later
        return [
            *FINDINGS,
            later,
            Finding("x" * 255, Severity.CRIT, "kafka", LONG, [LONG] * 200, LONG),
            Finding("evil", Severity.WARN, "\x1b[31mkafka", "red\x1b[2J", ["\x07bell"], ""),
            Finding("groups", Severity.CRIT, "kafka", "the same check twice", [], ""),
            Finding("empty", Severity.UNKNOWN, "", "", [], ""),
        ]


def _implements_the_protocol(fake: FakeServices) -> TuiServices:
    """mypy checks here that the fake has the real services' surface (and the factory
    signature below): tests/tui/test_services_protocol.py runs it."""
    return fake


_FACTORY: ServicesFactory = FakeServices


class LeanFirstServices(FakeServices):
    """The queues as the first (lean) listing gives them: depths, consumers and rates not
    known; their stats are still being read (they never land in the snapshot)."""

    async def list_queues(self) -> list[QueueSummary]:
        return [
            dataclasses.replace(q, consumers=None, publish_rate=None, deliver_rate=None,
                                ack_rate=None)
            for q in QUEUES
        ]  # fmt: skip

    def queue_stats(self) -> Awaitable[list[QueueSummary] | None] | None:
        return self._never()

    async def _never(self) -> list[QueueSummary] | None:
        await asyncio.Event().wait()  # (never set)
        return None
