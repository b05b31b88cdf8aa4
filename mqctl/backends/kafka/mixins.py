"""Feature mixins of the Kafka backend, one per area, so areas can grow independently.

Each mixin reaches the broker only through ``self.connection`` (a KafkaConnection) and
``self.settings``; the code doing the work lives in the area's own module.
"""

from __future__ import annotations

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.settings import KafkaSettings


class KafkaMixinBase:
    connection: KafkaConnection
    settings: KafkaSettings
    context: str
    timeout: float


class KafkaGroupsMixin(KafkaMixinBase):
    """Consumer groups, lag, offsets reset (issue: lag and offsets)."""


class KafkaMessagesMixin(KafkaMixinBase):
    """Peek, publish, topic create/alter/delete (issue: peek and publish)."""


class KafkaDeadLetterMixin(KafkaMixinBase):
    """DLQ discovery, inspection and redrive (issue: dead-letter queues)."""
