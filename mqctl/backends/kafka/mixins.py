"""Feature mixins of the Kafka backend, one per area, so areas can grow independently.

Each mixin reaches the broker only through ``self.connection`` (a KafkaConnection) and
``self.settings``; the code doing the work lives in the area's own module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.settings import KafkaSettings
from mqctl.lag.model import GroupDetail, GroupSummary, OffsetResetPlan, ResetSpec
from mqctl.models.inventory import Destination
from mqctl.models.lag import LagEntry
from mqctl.models.messages import (
    Message,
    OutgoingMessage,
    PeekOptions,
    PublishOptions,
    PublishResult,
)


class KafkaMixinBase:
    connection: KafkaConnection
    settings: KafkaSettings
    context: str
    timeout: float


class KafkaGroupsMixin(KafkaMixinBase):
    """Consumer groups, lag, offsets reset (issue: lag and offsets)."""

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        from mqctl.backends.kafka.lag import snapshot

        return await snapshot(self.connection, groups, topic)

    async def list_groups(self) -> list[GroupSummary]:
        from mqctl.backends.kafka.group_admin import list_groups

        return await list_groups(self.connection)

    async def describe_group(self, group: str) -> GroupDetail:
        from mqctl.backends.kafka.group_admin import describe_group

        return await describe_group(self.connection, group)

    async def delete_group(self, group: str) -> None:
        from mqctl.backends.kafka.group_admin import delete_group

        await delete_group(self.connection, group)

    async def plan_offsets_reset(self, group: str, spec: ResetSpec) -> OffsetResetPlan:
        from mqctl.backends.kafka.offsets_reset import plan

        return await plan(self.connection, group, spec)

    async def apply_offsets_reset(self, plan: OffsetResetPlan) -> None:
        from mqctl.backends.kafka.offsets_reset import apply

        await apply(self.connection, plan)


class KafkaMessagesMixin(KafkaMixinBase):
    """Peek, publish, topic create/alter/delete (issue: peek and publish)."""

    def peek(self, destination: Destination, options: PeekOptions) -> AsyncIterator[Message]:
        from mqctl.backends.kafka.peek import peek

        return peek(self.connection, destination, options)

    def publish(
        self,
        destination: Destination,
        messages: AsyncIterator[OutgoingMessage],
        options: PublishOptions,
    ) -> AsyncIterator[PublishResult]:
        from mqctl.backends.kafka.publish import publish

        return publish(self.connection, destination, messages, options)

    async def create_topic(
        self,
        name: str,
        *,
        partitions: int | None = None,
        replication_factor: int | None = None,
        configs: Mapping[str, str] | None = None,
        validate_only: bool = False,
    ) -> None:
        from mqctl.backends.kafka.topic_admin import create_topic

        await create_topic(
            self.connection,
            name,
            partitions=partitions,
            replication_factor=replication_factor,
            configs=configs or {},
            validate_only=validate_only,
        )

    async def delete_topics(self, names: Sequence[str]) -> None:
        from mqctl.backends.kafka.topic_admin import delete_topics

        await delete_topics(self.connection, names)

    async def alter_topic_configs(
        self,
        name: str,
        *,
        set_configs: Mapping[str, str] | None = None,
        delete_configs: Sequence[str] = (),
        validate_only: bool = False,
    ) -> None:
        from mqctl.backends.kafka.topic_admin import alter_configs

        await alter_configs(
            self.connection,
            name,
            set_configs=set_configs or {},
            delete_configs=delete_configs,
            validate_only=validate_only,
        )

    async def add_partitions(
        self, name: str, *, count: int, validate_only: bool = False
    ) -> tuple[int, int]:
        from mqctl.backends.kafka.topic_admin import add_partitions

        return await add_partitions(self.connection, name, count=count, validate_only=validate_only)


if TYPE_CHECKING:  # DLQ types for annotations only
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate
    from mqctl.dlq.plan import Planner


class KafkaDeadLetterMixin(KafkaMixinBase):
    """DLQ discovery, inspection and redrive (issue: dead-letter queues)."""

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        from mqctl.backends.kafka.dlq import discover

        return await discover(self.connection, patterns)

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        from mqctl.backends.kafka.dlq_redrive import redrive

        await redrive(self.connection, dlq, planner, control)

    async def plan_redrive(self, dlq: Destination, planner: Planner, summary: Any) -> None:
        """The dry run, from the DLQ and the redrive ledger (mqctl.dlq.planning)."""
        from mqctl.backends.kafka.dlq_redrive import plan

        await plan(self.connection, dlq, planner, summary)

    async def redrive_status(self, dlq: Destination, summary: Any) -> None:
        """``dlq status`` from the redrive ledger."""
        from mqctl.backends.kafka.dlq_redrive import status

        await status(self.connection, dlq, summary)
