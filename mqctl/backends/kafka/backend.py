"""The Kafka backend: glue between the backend Protocols and the Kafka modules beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.backends.kafka.admin_methods import KafkaAdminMethods
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.mixins import (
    KafkaDeadLetterMixin,
    KafkaGroupsMixin,
    KafkaMessagesMixin,
)
from mqctl.backends.kafka.settings import KafkaSettings, parse_kafka_settings
from mqctl.errors import MqctlError
from mqctl.models.inventory import BrokerStatus, Destination, TopicDetail, TopicSummary


class KafkaBackend(KafkaGroupsMixin, KafkaMessagesMixin, KafkaDeadLetterMixin, KafkaAdminMethods):
    name: ClassVar[str] = "kafka"
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = "Apache Kafka (topics, consumer groups, lag, peek, publish)"

    def __init__(self, settings: KafkaSettings, *, context: str, timeout: float) -> None:
        self.settings = settings
        self.context = context
        self.timeout = timeout
        self.connection = KafkaConnection(settings, timeout, context)

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

        try:
            # A fresh metadata request: the status must say whether the cluster answers now.
            metadata = await cluster_metadata(self.connection)
        except MqctlError as exc:
            return BrokerStatus(self.name, self.address, False, error=str(exc))
        brokers = len(metadata.brokers())
        return BrokerStatus(self.name, self.address, True, version=f"{brokers} broker(s)")

    async def find_destinations(self, name: str, vhost: str | None = None) -> list[Destination]:
        import asyncio

        from mqctl.backends.kafka.topics import cluster_metadata

        # Each metadata request goes to one broker, and a topic created a moment ago may not
        # have reached that broker's metadata yet: ask again briefly before saying "no".
        for attempt in range(3):
            metadata = await cluster_metadata(self.connection)
            if name in metadata.topics(exclude_internal_topics=False):
                return [Destination(self.name, "topic", name)]
            if attempt < 2:
                await asyncio.sleep(0.2)
        return []

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicSummary]:
        from mqctl.backends.kafka.topics import list_topics

        return await list_topics(self.connection, include_internal=include_internal)

    async def describe_topic(self, name: str) -> TopicDetail:
        from mqctl.backends.kafka.topics import describe_topic

        return await describe_topic(self.connection, name)
