"""The RabbitMQ backend: management HTTP API for inventory, AMQP (aio-pika) for messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mqctl.backend import API_VERSION
from mqctl.backends.rabbitmq.admin_methods import RabbitAdminMethods
from mqctl.backends.rabbitmq.amqp import AmqpConnections
from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.mixins import RabbitDeadLetterMixin, RabbitMessagesMixin
from mqctl.backends.rabbitmq.models import ConnectionInfo, ExchangeDetail
from mqctl.backends.rabbitmq.settings import RabbitSettings, parse_rabbit_settings
from mqctl.errors import MqctlError
from mqctl.models.inventory import (
    BindingInfo,
    BrokerStatus,
    Destination,
    ExchangeInfo,
    QueueDetail,
    QueuePage,
    QueueSummary,
    VhostInfo,
)


class RabbitMQBackend(RabbitMessagesMixin, RabbitDeadLetterMixin, RabbitAdminMethods):
    name: ClassVar[str] = "rabbitmq"
    api_version: ClassVar[int] = API_VERSION
    description: ClassVar[str] = "RabbitMQ (queues, exchanges, bindings, peek, publish, DLX)"

    def __init__(self, settings: RabbitSettings, *, context: str, timeout: float) -> None:
        self.settings = settings
        self.context = context
        self.timeout = timeout
        self.api = ManagementClient(settings, timeout, context)
        self.amqp = AmqpConnections(settings, timeout, context, self.api)

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

        target = vhost or self.settings.vhost
        if await find_queue(self.api, name, target):
            return [Destination(self.name, "queue", name, target)]
        return []

    async def list_queues(
        self, *, vhost: str | None = None, all_vhosts: bool = False, stats: bool = True
    ) -> list[QueueSummary]:
        from mqctl.backends.rabbitmq.inventory import list_queues

        return await list_queues(self.api, vhost=vhost, all_vhosts=all_vhosts, stats=stats)

    async def list_queue_page(
        self, page: int, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> QueuePage:
        from mqctl.backends.rabbitmq.inventory import queue_page

        return await queue_page(self.api, page, vhost=vhost, all_vhosts=all_vhosts)

    async def describe_queue(self, name: str, *, vhost: str | None = None) -> QueueDetail:
        from mqctl.backends.rabbitmq.inventory import describe_queue

        return await describe_queue(self.api, name, vhost)

    async def describe_exchange(self, name: str, *, vhost: str | None = None) -> ExchangeDetail:
        from mqctl.backends.rabbitmq.inventory import describe_exchange

        return await describe_exchange(self.api, name, vhost)

    async def list_connections(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ConnectionInfo]:
        from mqctl.backends.rabbitmq.inventory import list_connections

        return await list_connections(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def list_vhosts(self) -> list[VhostInfo]:
        from mqctl.backends.rabbitmq.inventory import list_vhosts

        return await list_vhosts(self.api)

    async def list_exchanges(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ExchangeInfo]:
        from mqctl.backends.rabbitmq.inventory import list_exchanges

        return await list_exchanges(self.api, vhost=vhost, all_vhosts=all_vhosts)

    async def list_bindings(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[BindingInfo]:
        from mqctl.backends.rabbitmq.inventory import list_bindings

        return await list_bindings(self.api, vhost=vhost, all_vhosts=all_vhosts)
