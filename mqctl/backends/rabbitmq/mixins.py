"""Feature mixins of the RabbitMQ backend, one per area, so areas can grow independently.

Each mixin reaches the broker through ``self.api`` (management HTTP API) and, for messages,
an AMQP connection it opens lazily from ``self.settings``.
"""

from __future__ import annotations

from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.settings import RabbitSettings


class RabbitMixinBase:
    api: ManagementClient
    settings: RabbitSettings
    context: str
    timeout: float


class RabbitMessagesMixin(RabbitMixinBase):
    """Peek, publish, queue create/delete/purge, queue lag (issue: RabbitMQ)."""


class RabbitDeadLetterMixin(RabbitMixinBase):
    """DLQ discovery, inspection and redrive (issue: dead-letter queues)."""
