"""The Kafka backend: aiokafka clients and protocol requests.

One class, one section per capability Protocol of :mod:`mqctl.backend` it implements; the work
is in the modules beside it, split by concern: ``topics`` (listing, describing), ``topic_admin``
(create/alter/delete), ``groups`` / ``group_admin`` / ``offsets_reset`` (consumer groups),
``lag``, ``peek`` / ``publish`` (messages), ``dlq`` (dead letters), ``cluster_admin``,
``configs_admin``, ``offsets_delete``, ``acls`` (administration), ``health`` (the doctor's
facts). They are imported inside the methods so that loading the backend registry stays cheap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.settings import KafkaSettings, parse_kafka_settings
from mqctl.errors import MqctlError

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate, RedriveStatus, RedriveSummary
    from mqctl.dlq.plan import Planner
    from mqctl.lag.model import GroupDetail, GroupSummary, OffsetResetPlan, ResetSpec
    from mqctl.models.admin import (
        AclBinding,
        AclChange,
        AclQuery,
        ClusterInfo,
        ConfigDiff,
        OffsetsDeleted,
    )
    from mqctl.models.health import ReplicaReport
    from mqctl.models.inventory import (
        BrokerStatus,
        ConfigEntry,
        Destination,
        TopicDetail,
        TopicSummary,
    )
    from mqctl.models.lag import LagEntry
    from mqctl.models.messages import (
        Message,
        OutgoingMessage,
        PeekOptions,
        PublishOptions,
        PublishResult,
    )


class KafkaBackend:
    """Backend, TopicCatalog, TopicAdmin, MessageReader, MessageWriter, LagSource, GroupAdmin
    and DeadLetterSupport for Kafka; ClusterMetadataSource, ConfigAdmin, OffsetDeleter and
    AclAdmin of :mod:`mqctl.admin_capabilities`; ReplicaHealthSource of
    :mod:`mqctl.doctor.capability`."""

    name: ClassVar[str] = "kafka"
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = "Apache Kafka (topics, consumer groups, lag, peek, publish)"

    def __init__(self, settings: KafkaSettings, *, context: str, timeout: float) -> None:
        self.settings = settings
        self.context = context
        self.timeout = timeout
        self.connection = KafkaConnection(settings, timeout, context)

    # --- Backend ----------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, context: str, timeout: float
    ) -> KafkaBackend:
        settings = parse_kafka_settings(section, f"contexts.{context}.kafka")
        return cls(settings, context=context, timeout=timeout)

    @property
    def address(self) -> str:
        return self.settings.address

    async def close(self) -> None:
        await self.connection.close()

    async def status(self) -> BrokerStatus:
        from mqctl.backends.kafka.topics import cluster_metadata
        from mqctl.models.inventory import BrokerStatus

        try:
            # A fresh metadata request: the status must say whether the cluster answers now.
            metadata = await cluster_metadata(self.connection)
        except MqctlError as exc:
            return BrokerStatus(self.name, self.address, False, error=str(exc))
        brokers = len(metadata.brokers())
        return BrokerStatus(self.name, self.address, True, version=f"{brokers} broker(s)")

    async def find_destinations(self, name: str, vhost: str | None = None) -> list[Destination]:
        import asyncio

        from mqctl.backends.kafka.topics import cluster_metadata, legal_topic_name
        from mqctl.models.inventory import Destination

        if not legal_topic_name(name):  # cannot exist: no request (a queue may have it)
            return []
        # Each metadata request goes to one broker, and a topic created a moment ago may not
        # have reached that broker's metadata yet: ask again briefly before saying "no".
        for attempt in range(3):
            metadata = await cluster_metadata(self.connection)
            if name in metadata.topics(exclude_internal_topics=False):
                return [Destination(self.name, "topic", name)]
            if attempt < 2:
                await asyncio.sleep(0.2)
        return []

    # --- TopicCatalog -----------------------------------------------------------------------

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicSummary]:
        from mqctl.backends.kafka.topics import list_topics

        return await list_topics(self.connection, include_internal=include_internal)

    async def describe_topic(self, name: str) -> TopicDetail:
        from mqctl.backends.kafka.topics import describe_topic

        return await describe_topic(self.connection, name)

    # --- TopicAdmin -------------------------------------------------------------------------

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

    # --- MessageReader, MessageWriter -------------------------------------------------------

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

    # --- LagSource --------------------------------------------------------------------------

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        from mqctl.backends.kafka.lag import snapshot

        return await snapshot(self.connection, groups, topic)

    # --- GroupAdmin -------------------------------------------------------------------------

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

    # --- DeadLetterSupport ------------------------------------------------------------------

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        from mqctl.backends.kafka.dlq import discover

        return await discover(self.connection, patterns)

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        from mqctl.backends.kafka.dlq_redrive import redrive

        await redrive(self.connection, dlq, planner, control)

    async def plan_redrive(
        self, dlq: Destination, planner: Planner, summary: RedriveSummary
    ) -> None:
        """The dry run, from the DLQ and the redrive ledger (mqctl.dlq.planning)."""
        from mqctl.backends.kafka.dlq_redrive import plan

        await plan(self.connection, dlq, planner, summary)

    async def redrive_status(self, dlq: Destination, summary: RedriveStatus) -> None:
        """``dlq status`` from the redrive ledger."""
        from mqctl.backends.kafka.dlq_redrive import status

        await status(self.connection, dlq, summary)

    # --- ReplicaHealthSource (mqctl.doctor.capability) -------------------------------------

    async def replica_health(self) -> ReplicaReport:
        from mqctl.backends.kafka.health import replica_health

        return await replica_health(self.connection)

    async def min_insync_replicas(self, topic: str) -> int | None:
        from mqctl.backends.kafka.health import min_insync_replicas

        return await min_insync_replicas(self.connection, topic)

    # --- ClusterMetadataSource, ConfigAdmin, OffsetDeleter (mqctl.admin_capabilities) -------

    async def describe_cluster(
        self,
        *,
        topics: list[str] | None = None,
        include_internal: bool = False,
        partitions: bool = True,
    ) -> ClusterInfo:
        from mqctl.backends.kafka.cluster_admin import describe_cluster

        return await describe_cluster(
            self.connection, topics=topics, include_internal=include_internal, partitions=partitions
        )

    async def describe_resource_configs(self, kind: str, name: str) -> list[ConfigEntry]:
        from mqctl.backends.kafka.configs_admin import describe_configs, resource_for

        return await describe_configs(self.connection, resource_for(kind, name))

    async def alter_resource_configs(
        self,
        kind: str,
        name: str,
        *,
        set_configs: Mapping[str, str],
        delete_configs: Sequence[str] = (),
        validate_only: bool = False,
    ) -> ConfigDiff:
        from mqctl.backends.kafka.configs_admin import alter_configs, resource_for

        return await alter_configs(
            self.connection,
            resource_for(kind, name),
            set_configs=set_configs,
            delete_configs=delete_configs,
            validate_only=validate_only,
        )

    async def delete_group_offsets(
        self, group: str, topic: str, partitions: list[int] | None = None, *, dry_run: bool
    ) -> OffsetsDeleted:
        from mqctl.backends.kafka.offsets_delete import delete_offsets

        return await delete_offsets(self.connection, group, topic, partitions, dry_run=dry_run)

    # --- AclAdmin (mqctl.admin_capabilities) ------------------------------------------------

    async def list_acls(self, acl_filter: AclQuery) -> list[AclBinding]:
        from mqctl.backends.kafka.acls import list_acls

        return await list_acls(self.connection, acl_filter)

    async def create_acl(self, binding: AclBinding, *, dry_run: bool) -> AclChange:
        from mqctl.backends.kafka.acls import create_acl

        return await create_acl(self.connection, binding, dry_run=dry_run)

    async def delete_acls(self, acl_filter: AclQuery, *, dry_run: bool) -> AclChange:
        from mqctl.backends.kafka.acls import delete_acls

        return await delete_acls(self.connection, acl_filter, dry_run=dry_run)
