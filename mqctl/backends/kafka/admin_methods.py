"""The Kafka backend's admin verbs (issue 20), forwarded to their modules: cluster metadata
(cluster_admin.py), topic and broker configs (configs_admin.py), offsets delete
(offsets_delete.py). Implements the Protocols of :mod:`mqctl.admin_capabilities`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.errors import UsageError
from mqctl.models.admin import ClusterInfo, ConfigDiff, OffsetsDeleted
from mqctl.models.inventory import ConfigEntry

if TYPE_CHECKING:
    from mqctl.backends.kafka.configs_admin import Resource

CONFIG_KINDS = ("topic", "broker")


class KafkaAdminMethods:
    connection: KafkaConnection

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
        from mqctl.backends.kafka.configs_admin import describe_configs

        return await describe_configs(self.connection, _resource(kind, name))

    async def alter_resource_configs(
        self,
        kind: str,
        name: str,
        *,
        set_configs: Mapping[str, str],
        delete_configs: Sequence[str] = (),
        validate_only: bool = False,
    ) -> ConfigDiff:
        from mqctl.backends.kafka.configs_admin import alter_configs

        return await alter_configs(
            self.connection,
            _resource(kind, name),
            set_configs=set_configs,
            delete_configs=delete_configs,
            validate_only=validate_only,
        )

    async def delete_group_offsets(
        self, group: str, topic: str, partitions: list[int] | None = None, *, dry_run: bool
    ) -> OffsetsDeleted:
        from mqctl.backends.kafka.offsets_delete import delete_offsets

        return await delete_offsets(self.connection, group, topic, partitions, dry_run=dry_run)


def _resource(kind: str, name: str) -> Resource:
    from mqctl.backends.kafka.configs_admin import BROKER, TOPIC, Resource

    if kind not in CONFIG_KINDS:
        raise UsageError(f"unknown config resource {kind!r} (choose from topic, broker)")
    return Resource(TOPIC if kind == "topic" else BROKER, name)
