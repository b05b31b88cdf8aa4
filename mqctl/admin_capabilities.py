"""Capability Protocols of the admin verbs (issue 20): cluster metadata, configs, offsets
delete, and RabbitMQ administration through its management API.

Small runtime-checkable Protocols in the style of :mod:`mqctl.backend`; the services find the
backend with ``Session.backend_for(Capability, what)``. A backend offers a capability by
having the methods (the Kafka and RabbitMQ backends forward them to their admin modules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from mqctl.models.admin import ClusterInfo, ConfigDiff, OffsetsDeleted
from mqctl.models.inventory import ConfigEntry


@runtime_checkable
class ClusterMetadataSource(Protocol):
    """``cluster describe``: brokers, controller, per-topic leaders/ISR and health."""

    async def describe_cluster(
        self,
        *,
        topics: list[str] | None = None,
        include_internal: bool = False,
        partitions: bool = True,
    ) -> ClusterInfo: ...


@runtime_checkable
class ConfigAdmin(Protocol):
    """Topic and broker configs. ``kind``: ``topic`` or ``broker``; a broker ``name`` is its
    id, "" the cluster-wide broker default."""

    async def describe_resource_configs(self, kind: str, name: str) -> list[ConfigEntry]: ...

    async def alter_resource_configs(
        self,
        kind: str,
        name: str,
        *,
        set_configs: Mapping[str, str],
        delete_configs: Sequence[str] = (),
        validate_only: bool = False,
    ) -> ConfigDiff:
        """Change only the named keys; ``validate_only`` is the broker's dry run."""
        ...


@runtime_checkable
class OffsetDeleter(Protocol):
    """Remove a group's committed offsets for one topic (refused while it consumes it)."""

    async def delete_group_offsets(
        self, group: str, topic: str, partitions: list[int] | None = None, *, dry_run: bool
    ) -> OffsetsDeleted: ...


@runtime_checkable
class ManagementApi(Protocol):
    """RabbitMQ's management HTTP API, for the administration verbs (policies, users,
    vhosts, definitions, shovels, nodes, connections): ``management_request`` sends one
    call and returns the decoded JSON (None for an empty answer), errors already mapped
    to :class:`mqctl.errors.MqctlError` (404 -> not found, 400 -> bad input, ...)."""

    async def management_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        what: str = "",
    ) -> Any: ...

    async def management_list(self, path: str) -> list[Any]:
        """Every item of a (possibly paginated) listing."""
        ...
