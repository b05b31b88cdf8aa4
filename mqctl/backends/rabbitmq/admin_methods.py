"""The RabbitMQ backend's admin verbs (issue 20), forwarded to their modules: policies.py,
topology.py (vhosts, exchanges, bindings), operations.py (users, permissions, nodes,
shovels, connections), definitions.py. Implements the Protocols of
:mod:`mqctl.admin_capabilities`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.models.rabbitmq_admin import (
    DefinitionsImport,
    NodeInfo,
    PermissionInfo,
    PolicyChange,
    PolicyInfo,
    ShovelInfo,
    TopologyChange,
    UserInfo,
)


class RabbitAdminMethods:
    api: ManagementClient

    # --- policies ---------------------------------------------------------------------

    async def list_policies(
        self, *, vhost: str | None, all_vhosts: bool, operator: bool | None
    ) -> list[PolicyInfo]:
        from mqctl.backends.rabbitmq import policies

        return await policies.list_policies(
            self.api, vhost=vhost, all_vhosts=all_vhosts, operator=operator
        )

    async def set_policy(
        self,
        name: str,
        *,
        vhost: str | None,
        pattern: str,
        definition: dict[str, Any],
        priority: int,
        apply_to: str,
        operator: bool,
        dry_run: bool,
    ) -> PolicyChange:
        from mqctl.backends.rabbitmq import policies

        return await policies.set_policy(
            self.api,
            name,
            vhost=vhost,
            pattern=pattern,
            definition=definition,
            priority=priority,
            apply_to=apply_to,
            operator=operator,
            dry_run=dry_run,
        )

    async def delete_policy(
        self, name: str, *, vhost: str | None, operator: bool, dry_run: bool
    ) -> PolicyChange:
        from mqctl.backends.rabbitmq import policies

        return await policies.delete_policy(
            self.api, name, vhost=vhost, operator=operator, dry_run=dry_run
        )

    # --- topology ---------------------------------------------------------------------

    async def create_vhost(
        self, name: str, *, description: str | None, tags: list[str]
    ) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.create_vhost(self.api, name, description=description, tags=tags)

    async def delete_vhost(self, name: str, *, dry_run: bool) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.delete_vhost(self.api, name, dry_run=dry_run)

    async def create_exchange(
        self,
        name: str,
        *,
        vhost: str | None,
        exchange_type: str,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: Mapping[str, Any],
    ) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.create_exchange(
            self.api,
            name,
            vhost=vhost,
            exchange_type=exchange_type,
            durable=durable,
            auto_delete=auto_delete,
            internal=internal,
            arguments=arguments,
        )

    async def delete_exchange(
        self, name: str, *, vhost: str | None, if_unused: bool, dry_run: bool
    ) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.delete_exchange(
            self.api, name, vhost=vhost, if_unused=if_unused, dry_run=dry_run
        )

    async def create_binding(
        self,
        source: str,
        destination: str,
        *,
        vhost: str | None,
        destination_type: str,
        routing_key: str,
        arguments: Mapping[str, Any],
    ) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.create_binding(
            self.api,
            source,
            destination,
            vhost=vhost,
            destination_type=destination_type,
            routing_key=routing_key,
            arguments=arguments,
        )

    async def delete_binding(
        self,
        source: str,
        destination: str,
        *,
        vhost: str | None,
        destination_type: str,
        routing_key: str,
        arguments: Mapping[str, Any],
        dry_run: bool,
    ) -> TopologyChange:
        from mqctl.backends.rabbitmq import topology_admin as topology

        return await topology.delete_binding(
            self.api,
            source,
            destination,
            vhost=vhost,
            destination_type=destination_type,
            routing_key=routing_key,
            arguments=arguments,
            dry_run=dry_run,
        )

    # --- access, nodes, shovels, connections, definitions -----------------------------

    async def list_users(self) -> list[UserInfo]:
        from mqctl.backends.rabbitmq import operations

        return await operations.list_users(self.api)

    async def list_permissions(
        self, *, vhost: str | None, user: str | None
    ) -> list[PermissionInfo]:
        from mqctl.backends.rabbitmq import operations

        return await operations.list_permissions(self.api, vhost=vhost, user=user)

    async def close_connection(self, name: str, *, reason: str, dry_run: bool) -> dict[str, Any]:
        from mqctl.backends.rabbitmq import operations

        return await operations.close_connection(self.api, name, reason=reason, dry_run=dry_run)

    async def list_nodes(self) -> list[NodeInfo]:
        from mqctl.backends.rabbitmq import operations

        return await operations.list_nodes(self.api)

    async def list_shovels(self, *, vhost: str | None, all_vhosts: bool) -> list[ShovelInfo]:
        from mqctl.backends.rabbitmq import operations

        return await operations.list_shovels(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def export_definitions(
        self, *, vhost: str | None, include_secrets: bool
    ) -> dict[str, Any]:
        from mqctl.backends.rabbitmq import definitions

        return await definitions.export(self.api, vhost=vhost, include_secrets=include_secrets)

    async def import_definitions(
        self, doc: dict[str, Any], *, source: str, vhost: str | None, dry_run: bool
    ) -> DefinitionsImport:
        from mqctl.backends.rabbitmq import definitions

        return await definitions.import_definitions(
            self.api, doc, source=source, vhost=vhost, dry_run=dry_run
        )
