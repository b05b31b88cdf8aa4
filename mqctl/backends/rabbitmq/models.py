"""RabbitMQ-only detail that has no place in the broker-neutral models.

They extend the core dataclasses (so anything that renders a ``QueueDetail`` still works) and
add fields; JSON output shows the extra fields too (docs/rabbitmq.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mqctl.models.inventory import BindingInfo, ConsumerInfo, QueueDetail


@dataclass(frozen=True, slots=True)
class RabbitConsumerInfo(ConsumerInfo):
    """A consumer plus the channel it sits on (who and where)."""

    channel_number: int | None = None
    user: str | None = None
    peer_port: int | None = None
    exclusive: bool = False
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RabbitQueueDetail(QueueDetail):
    """``queues describe``: bindings in (exchange -> queue) and out (where dead letters go)."""

    dead_letter_bindings: list[BindingInfo] = field(default_factory=list)
    message_rates: dict[str, float] = field(default_factory=dict)
    head_message_timestamp: datetime | None = None
    exclusive: bool = False
    auto_delete: bool = False
    memory_bytes: int | None = None
