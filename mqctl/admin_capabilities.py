"""Capability Protocols of the admin verbs (issue 20): cluster metadata, configs, offsets
delete, and RabbitMQ administration (policies, topology, access, nodes, shovels,
federation status, definitions).

Small runtime-checkable Protocols in the style of :mod:`mqctl.backend`; the services find the
backend with ``Session.backend_for(Capability, what)``. A backend offers a capability by
having the methods (the Kafka and RabbitMQ backends forward them to their admin modules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from mqctl.models.admin import (
    AclBinding,
    AclChange,
    AclQuery,
    ClusterInfo,
    ConfigDiff,
    OffsetsDeleted,
)
from mqctl.models.inventory import ConfigEntry
from mqctl.models.rabbitmq_admin import (
    BindingSpec,
    ConnectionClose,
    DefinitionsImport,
    ExchangeSpec,
    FederationLink,
    FederationUpstream,
    NodeInfo,
    PermissionInfo,
    PluginListing,
    PolicyChange,
    PolicyInfo,
    PolicySpec,
    ShovelInfo,
    TopologyChange,
    UserInfo,
)


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
class AclAdmin(Protocol):
    """Kafka ACLs. Filters and bindings use kafka-acls' words (read, topic, prefixed ...);
    None / "any" parts of a filter match anything."""

    async def list_acls(self, acl_filter: AclQuery) -> list[AclBinding]: ...

    async def create_acl(self, binding: AclBinding, *, dry_run: bool) -> AclChange: ...

    async def delete_acls(self, acl_filter: AclQuery, *, dry_run: bool) -> AclChange:
        """The dry run lists what the filter matches, exactly what a delete removes."""
        ...


@runtime_checkable
class PolicyAdmin(Protocol):
    """RabbitMQ policies and operator policies (``operator`` picks which)."""

    async def list_policies(
        self, *, vhost: str | None, all_vhosts: bool, operator: bool | None
    ) -> list[PolicyInfo]:
        """``operator`` None lists both kinds."""
        ...

    async def set_policy(self, policy: PolicySpec, *, dry_run: bool) -> PolicyChange: ...

    async def delete_policy(
        self, name: str, *, vhost: str | None, operator: bool, dry_run: bool
    ) -> PolicyChange: ...


@runtime_checkable
class TopologyAdmin(Protocol):
    """RabbitMQ vhosts, exchanges and bindings: create and delete."""

    async def create_vhost(
        self, name: str, *, description: str | None, tags: list[str]
    ) -> TopologyChange: ...

    async def delete_vhost(self, name: str, *, dry_run: bool) -> TopologyChange: ...

    async def create_exchange(self, exchange: ExchangeSpec) -> TopologyChange: ...

    async def delete_exchange(
        self, name: str, *, vhost: str | None, if_unused: bool, dry_run: bool
    ) -> TopologyChange: ...

    async def create_binding(self, binding: BindingSpec) -> TopologyChange: ...

    async def delete_binding(self, binding: BindingSpec, *, dry_run: bool) -> TopologyChange: ...


@runtime_checkable
class AccessAdmin(Protocol):
    """Who may do what (users never with their hashes), and closing client connections."""

    async def list_users(self) -> list[UserInfo]: ...

    async def list_permissions(
        self, *, vhost: str | None, user: str | None
    ) -> list[PermissionInfo]: ...

    async def close_connection(
        self, name: str, *, reason: str, dry_run: bool
    ) -> ConnectionClose: ...


@runtime_checkable
class BrokerOperations(Protocol):
    """Nodes with alarms, shovel status, definitions export and import."""

    async def list_nodes(self) -> list[NodeInfo]: ...

    async def list_shovels(self, *, vhost: str | None, all_vhosts: bool) -> list[ShovelInfo]: ...

    async def export_definitions(
        self, *, vhost: str | None, include_secrets: bool
    ) -> dict[str, Any]: ...

    async def import_definitions(
        self, doc: dict[str, Any], *, source: str, vhost: str | None, dry_run: bool
    ) -> DefinitionsImport: ...


@runtime_checkable
class FederationStatus(Protocol):
    """Federation links and upstreams, read only. A broker without the federation plugin
    gives an empty listing with ``plugin_enabled`` False, not an error."""

    async def list_federation_links(
        self, *, vhost: str | None, all_vhosts: bool
    ) -> PluginListing[FederationLink]: ...

    async def list_federation_upstreams(
        self, *, vhost: str | None, all_vhosts: bool
    ) -> PluginListing[FederationUpstream]: ...
