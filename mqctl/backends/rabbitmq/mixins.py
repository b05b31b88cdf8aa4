"""Feature mixins of the RabbitMQ backend, one per area, so areas can grow independently.

Each mixin reaches the broker through ``self.api`` (management HTTP API) and, for messages,
an AMQP connection it opens lazily from ``self.settings``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.settings import RabbitSettings


class RabbitMixinBase:
    api: ManagementClient
    settings: RabbitSettings
    context: str
    timeout: float


if TYPE_CHECKING:  # message types for annotations only
    from collections.abc import AsyncIterator, Mapping
    from typing import Any

    from mqctl.backends.rabbitmq.amqp import AmqpConnections
    from mqctl.models.inventory import Destination as _Destination
    from mqctl.models.inventory import QueueSummary
    from mqctl.models.lag import LagEntry
    from mqctl.models.messages import (
        Message,
        OutgoingMessage,
        PeekOptions,
        PublishOptions,
        PublishResult,
    )


class RabbitMessagesMixin(RabbitMixinBase):
    """Peek, publish, queue create/delete/purge, queue lag (issue: RabbitMQ).

    AMQP connections (one per vhost) live in ``self.amqp``, opened on first use.
    """

    amqp: AmqpConnections

    def peek(self, destination: _Destination, options: PeekOptions) -> AsyncIterator[Message]:
        from mqctl.backends.rabbitmq.peek import peek

        return peek(self.api, self.amqp, destination, options)

    def publish(
        self,
        destination: _Destination,
        messages: AsyncIterator[OutgoingMessage],
        options: PublishOptions,
    ) -> AsyncIterator[PublishResult]:
        from mqctl.backends.rabbitmq.publish import publish

        return publish(self.amqp, self.settings.vhost, destination, messages, options)

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        from mqctl.backends.rabbitmq.lag import queue_lag

        return await queue_lag(self.api, groups, topic, self.amqp)

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
            name,
            vhost=vhost,
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
            self.api, name, vhost=vhost, if_empty=if_empty, if_unused=if_unused
        )

    async def purge_queue(self, name: str, *, vhost: str | None = None) -> int:
        from mqctl.backends.rabbitmq.admin import purge_queue

        return await purge_queue(self.api, name, vhost=vhost)


if TYPE_CHECKING:  # DLQ types for annotations only
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate
    from mqctl.dlq.plan import Planner
    from mqctl.models.inventory import Destination


class RabbitDeadLetterMixin(RabbitMixinBase):
    """DLQ discovery, inspection and redrive (issue: dead-letter queues)."""

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        from mqctl.backends.rabbitmq.dlq import discover

        return await discover(self.api, self.settings.vhost, patterns)

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        from mqctl.backends.rabbitmq.dlq_redrive import redrive

        await redrive(self.settings, self.api, self.timeout, self.context, dlq, planner, control)
