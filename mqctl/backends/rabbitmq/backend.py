"""The RabbitMQ backend: management HTTP API for inventory, AMQP (aio-pika) for messages.

One class, one section per capability Protocol it implements (:mod:`mqctl.backend`,
:mod:`mqctl.admin_capabilities`, :mod:`mqctl.doctor.capability`); the work is in the modules
beside it, split by concern: ``inventory`` (queues), ``topology`` (vhosts, exchanges, bindings,
connections), ``admin`` (queue create/delete/purge), ``peek`` / ``publish`` (messages),
``lag``, ``dlq`` / ``dlq_redrive`` / ``shovel`` (dead letters), ``policies``,
``topology_admin``, ``operations``, ``federation``, ``definitions`` (administration),
``health`` (the doctor's facts). Those that load a client library are imported inside the
methods so that loading the backend registry stays cheap; the management-API-only admin
modules are imported above.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.backends.rabbitmq import (
    definitions,
    federation,
    health,
    operations,
    policies,
    topology_admin,
)
from mqctl.backends.rabbitmq.amqp import AmqpConnections
from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.names import check_name
from mqctl.backends.rabbitmq.settings import RabbitSettings, parse_rabbit_settings
from mqctl.errors import AuthError, ConnectError, MqctlError
from mqctl.models.health import ConnectionChurn, NodeHealth, QuorumQueueHealth
from mqctl.models.inventory import (
    BindingInfo,
    BrokerStatus,
    ConnectionInfo,
    Destination,
    ExchangeDetail,
    ExchangeInfo,
    QueueDetail,
    QueuePage,
    QueueSummary,
    VhostInfo,
)
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

log = logging.getLogger("mqctl.rabbitmq")

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate, RedriveSummary
    from mqctl.dlq.plan import Planner, Target
    from mqctl.models.lag import LagEntry
    from mqctl.models.messages import (
        Message,
        OutgoingMessage,
        PeekOptions,
        PublishOptions,
        PublishResult,
    )


class RabbitMQBackend:
    """Backend, QueueCatalog, QueueStatsPages, ExchangeDetails, ConnectionLister, QueueAdmin,
    MessageReader, MessageWriter, LagSource and DeadLetterSupport for RabbitMQ; PolicyAdmin,
    TopologyAdmin, AccessAdmin and BrokerOperations of :mod:`mqctl.admin_capabilities`;
    NodeHealthSource, QuorumHealthSource and ConnectionChurnSource of
    :mod:`mqctl.doctor.capability`."""

    name: ClassVar[str] = "rabbitmq"
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = "RabbitMQ (queues, exchanges, bindings, peek, publish, DLX)"

    def __init__(self, settings: RabbitSettings, *, context: str, timeout: float) -> None:
        self.settings = settings
        self.context = context
        self.timeout = timeout
        self.api = ManagementClient(settings, timeout, context)
        # AMQP connections (one per vhost), opened on first use.
        self.amqp = AmqpConnections(settings, timeout, context, self.api)
        self._noted_amqp_lookup = False  # the management API note is printed once

    def _vhost(self, vhost: str | None) -> str | None:
        return check_name("vhost", vhost) if vhost is not None else None

    # --- Backend ----------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, context: str, timeout: float
    ) -> RabbitMQBackend:
        settings = parse_rabbit_settings(section, f"contexts.{context}.rabbitmq")
        return cls(settings, context=context, timeout=timeout)

    @property
    def address(self) -> str:
        return self.settings.address

    async def close(self) -> None:
        try:
            await self.amqp.close()
        finally:
            await self.api.close()

    async def status(self) -> BrokerStatus:
        try:
            overview = await self.api.overview()
        except MqctlError as exc:
            return BrokerStatus(self.name, self.settings.management_url, False, error=str(exc))
        version = overview.get("rabbitmq_version") if isinstance(overview, dict) else None
        return BrokerStatus(self.name, self.settings.management_url, True, version=version)

    async def find_destinations(self, name: str, vhost: str | None = None) -> list[Destination]:
        from mqctl.backends.rabbitmq.inventory import find_queue

        target = check_name("vhost", vhost or self.settings.vhost)
        try:
            found = await find_queue(self.api, check_name("queue", name), target)
        except ConnectError as exc:
            if isinstance(exc, AuthError):
                raise
            # publish and peek need only AMQP: look the queue up there (docs/rabbitmq.md)
            found = await self.amqp.queue_exists(target, name)
            if not self._noted_amqp_lookup:
                self._noted_amqp_lookup = True
                log.warning(
                    "note: %s; queue %r looked up over AMQP instead",
                    exc.message.rstrip("."),
                    name,
                )
        if found:
            return [Destination(self.name, "queue", name, target)]
        return []

    # --- QueueCatalog -----------------------------------------------------------------------

    async def list_queues(
        self, *, vhost: str | None = None, all_vhosts: bool = False, stats: bool = True
    ) -> list[QueueSummary]:
        from mqctl.backends.rabbitmq.inventory import list_queues

        vhost = self._vhost(vhost)
        return await list_queues(self.api, vhost=vhost, all_vhosts=all_vhosts, stats=stats)

    async def describe_queue(self, name: str, *, vhost: str | None = None) -> QueueDetail:
        from mqctl.backends.rabbitmq.inventory import describe_queue

        return await describe_queue(self.api, check_name("queue", name), self._vhost(vhost))

    async def list_vhosts(self) -> list[VhostInfo]:
        from mqctl.backends.rabbitmq.topology import list_vhosts

        return await list_vhosts(self.api)

    async def list_exchanges(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ExchangeInfo]:
        from mqctl.backends.rabbitmq.topology import list_exchanges

        vhost = self._vhost(vhost)
        return await list_exchanges(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def list_bindings(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[BindingInfo]:
        from mqctl.backends.rabbitmq.topology import list_bindings

        vhost = self._vhost(vhost)
        return await list_bindings(self.api, vhost=vhost, all_vhosts=all_vhosts)

    # --- QueueStatsPages --------------------------------------------------------------------

    async def list_queue_page(
        self, page: int, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> QueuePage:
        from mqctl.backends.rabbitmq.inventory import queue_page

        vhost = self._vhost(vhost)
        return await queue_page(self.api, page, vhost=vhost, all_vhosts=all_vhosts)

    # --- ExchangeDetails --------------------------------------------------------------------

    async def describe_exchange(self, name: str, *, vhost: str | None = None) -> ExchangeDetail:
        from mqctl.backends.rabbitmq.topology import describe_exchange

        return await describe_exchange(self.api, check_name("exchange", name), self._vhost(vhost))

    # --- ConnectionLister -------------------------------------------------------------------

    async def list_connections(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ConnectionInfo]:
        from mqctl.backends.rabbitmq.topology import list_connections

        vhost = self._vhost(vhost)
        return await list_connections(self.api, vhost=vhost, all_vhosts=all_vhosts)

    # --- QueueAdmin -------------------------------------------------------------------------

    async def create_queue(
        self,
        name: str,
        *,
        vhost: str | None = None,
        queue_type: str = "classic",
        durable: bool = True,
        arguments: Mapping[str, Any] | None = None,
    ) -> tuple[QueueSummary, bool]:
        from mqctl.backends.rabbitmq.admin import create_queue

        return await create_queue(
            self.api,
            check_name("queue", name),
            vhost=self._vhost(vhost),
            queue_type=queue_type,
            durable=durable,
            arguments=arguments,
        )

    async def delete_queue(
        self,
        name: str,
        *,
        vhost: str | None = None,
        if_empty: bool = False,
        if_unused: bool = False,
    ) -> int:
        from mqctl.backends.rabbitmq.admin import delete_queue

        return await delete_queue(
            self.api,
            check_name("queue", name),
            vhost=self._vhost(vhost),
            if_empty=if_empty,
            if_unused=if_unused,
        )

    async def purge_queue(self, name: str, *, vhost: str | None = None) -> int:
        from mqctl.backends.rabbitmq.admin import purge_queue

        return await purge_queue(self.api, check_name("queue", name), vhost=self._vhost(vhost))

    # --- MessageReader, MessageWriter -------------------------------------------------------

    def peek(self, destination: Destination, options: PeekOptions) -> AsyncIterator[Message]:
        from mqctl.backends.rabbitmq.peek import peek

        return peek(self.api, self.amqp, destination, options)

    def publish(
        self,
        destination: Destination,
        messages: AsyncIterator[OutgoingMessage],
        options: PublishOptions,
    ) -> AsyncIterator[PublishResult]:
        from mqctl.backends.rabbitmq.publish import publish

        return publish(self.amqp, self.settings.vhost, destination, messages, options)

    # --- LagSource --------------------------------------------------------------------------

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        from mqctl.backends.rabbitmq.lag import queue_lag

        return await queue_lag(self.api, groups, topic, self.amqp)

    # --- DeadLetterSupport ------------------------------------------------------------------

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        from mqctl.backends.rabbitmq.dlq import discover

        return await discover(self.api, self.settings.vhost, patterns)

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        from mqctl.backends.rabbitmq.dlq_redrive import redrive

        await redrive(self.settings, self.api, self.timeout, self.context, dlq, planner, control)

    async def plan_server_side(
        self, dlq: Destination, target: Target, limit: int | None, summary: RedriveSummary
    ) -> None:
        """``--engine shovel --dry-run``: what the shovel would move (mqctl.dlq.server_side)."""
        from mqctl.backends.rabbitmq.shovel import plan

        await plan(self.settings, self.api, self.timeout, self.context, dlq, target, limit, summary)

    async def redrive_server_side(
        self,
        dlq: Destination,
        target: Target,
        limit: int | None,
        control: RedriveControl,
        *,
        mark_copies: bool,
    ) -> None:
        """``--engine shovel``: a supervised dynamic shovel moves the DLQ inside the broker."""
        from mqctl.backends.rabbitmq.shovel import redrive

        await redrive(
            self.settings, self.api, self.timeout, self.context, dlq, target, limit, control,
            mark_copies=mark_copies,
        )  # fmt: skip

    async def check_redrive(
        self, dlq: Destination, targets: list[Target]
    ) -> dict[tuple[str, str], str | None]:
        """A stream DLQ is refused; says which destinations do not exist (plan and run)."""
        from mqctl.backends.rabbitmq.dlq import check_redrive

        return await check_redrive(self.api, self.settings.vhost, dlq, targets)

    # --- NodeHealthSource, QuorumHealthSource, ConnectionChurnSource (mqctl.doctor) ---------

    async def node_health(self) -> list[NodeHealth]:
        return await health.node_health(self.api)

    async def quorum_queue_health(self) -> list[QuorumQueueHealth]:
        return await health.quorum_queue_health(self.api)

    async def connection_churn(self) -> ConnectionChurn | None:
        return await health.connection_churn(self.api)

    # --- PolicyAdmin (mqctl.admin_capabilities) --------------------------------------------

    async def list_policies(
        self, *, vhost: str | None, all_vhosts: bool, operator: bool | None
    ) -> list[PolicyInfo]:
        return await policies.list_policies(
            self.api, vhost=vhost, all_vhosts=all_vhosts, operator=operator
        )

    async def set_policy(self, policy: PolicySpec, *, dry_run: bool) -> PolicyChange:
        return await policies.set_policy(self.api, policy, dry_run=dry_run)

    async def delete_policy(
        self, name: str, *, vhost: str | None, operator: bool, dry_run: bool
    ) -> PolicyChange:
        return await policies.delete_policy(
            self.api, name, vhost=vhost, operator=operator, dry_run=dry_run
        )

    # --- TopologyAdmin (mqctl.admin_capabilities) ------------------------------------------

    async def create_vhost(
        self, name: str, *, description: str | None, tags: list[str]
    ) -> TopologyChange:
        return await topology_admin.create_vhost(self.api, name, description=description, tags=tags)

    async def delete_vhost(self, name: str, *, dry_run: bool) -> TopologyChange:
        return await topology_admin.delete_vhost(self.api, name, dry_run=dry_run)

    async def create_exchange(self, exchange: ExchangeSpec) -> TopologyChange:
        return await topology_admin.create_exchange(self.api, exchange)

    async def delete_exchange(
        self, name: str, *, vhost: str | None, if_unused: bool, dry_run: bool
    ) -> TopologyChange:
        return await topology_admin.delete_exchange(
            self.api, name, vhost=vhost, if_unused=if_unused, dry_run=dry_run
        )

    async def create_binding(self, binding: BindingSpec) -> TopologyChange:
        return await topology_admin.create_binding(self.api, binding)

    async def delete_binding(self, binding: BindingSpec, *, dry_run: bool) -> TopologyChange:
        return await topology_admin.delete_binding(self.api, binding, dry_run=dry_run)

    # --- AccessAdmin (mqctl.admin_capabilities) --------------------------------------------

    async def list_users(self) -> list[UserInfo]:
        return await operations.list_users(self.api)

    async def list_permissions(
        self, *, vhost: str | None, user: str | None
    ) -> list[PermissionInfo]:
        return await operations.list_permissions(self.api, vhost=vhost, user=user)

    async def close_connection(self, name: str, *, reason: str, dry_run: bool) -> ConnectionClose:
        return await operations.close_connection(self.api, name, reason=reason, dry_run=dry_run)

    # --- BrokerOperations (mqctl.admin_capabilities) ---------------------------------------

    async def list_nodes(self) -> list[NodeInfo]:
        return await operations.list_nodes(self.api)

    async def list_shovels(self, *, vhost: str | None, all_vhosts: bool) -> list[ShovelInfo]:
        return await operations.list_shovels(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def export_definitions(
        self, *, vhost: str | None, include_secrets: bool
    ) -> dict[str, Any]:
        return await definitions.export(self.api, vhost=vhost, include_secrets=include_secrets)

    async def import_definitions(
        self, doc: dict[str, Any], *, source: str, vhost: str | None, dry_run: bool
    ) -> DefinitionsImport:
        return await definitions.import_definitions(
            self.api, doc, source=source, vhost=vhost, dry_run=dry_run
        )

    # --- FederationStatus (mqctl.admin_capabilities) ---------------------------------------

    async def list_federation_links(
        self, *, vhost: str | None, all_vhosts: bool
    ) -> PluginListing[FederationLink]:
        return await federation.list_links(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def list_federation_upstreams(
        self, *, vhost: str | None, all_vhosts: bool
    ) -> PluginListing[FederationUpstream]:
        return await federation.list_upstreams(self.api, vhost=vhost, all_vhosts=all_vhosts)
