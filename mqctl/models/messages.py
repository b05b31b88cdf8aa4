"""One message model for every broker, used by peek, publish and the DLQ tools.

Values stay as ``bytes`` here; decoding for display is done by ``mqctl.messages.decode``
(so binary data is never lost or mangled before the user picks a view).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HeaderValue = bytes | str | int | float | bool | None | list[Any] | dict[str, Any] | datetime


@dataclass(slots=True)
class Message:
    """A message read from a broker.

    Kafka fills ``partition``/``offset``/``timestamp_type``; RabbitMQ fills ``exchange``,
    ``routing_key``, ``redelivered`` and ``properties`` (content_type, message_id, ...).
    Headers keep their order and may repeat (Kafka allows duplicate keys).
    """

    backend: str
    source: str
    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, HeaderValue]] = field(default_factory=list)
    partition: int | None = None
    offset: int | None = None
    timestamp: datetime | None = None
    timestamp_type: str | None = None  # CreateTime | LogAppendTime | None
    exchange: str | None = None
    routing_key: str | None = None
    redelivered: bool | None = None
    vhost: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.value or b"") + len(self.key or b"")

    def header(self, name: str) -> HeaderValue:
        """The last value of a header (case-sensitive), or ``None``."""
        found: HeaderValue = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


@dataclass(slots=True)
class OutgoingMessage:
    """A message to publish. ``partition`` only applies to Kafka; ``properties`` to AMQP."""

    value: bytes
    key: bytes | None = None
    headers: list[tuple[str, HeaderValue]] = field(default_factory=list)
    partition: int | None = None
    routing_key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What the broker confirmed for one message."""

    index: int
    ok: bool
    partition: int | None = None
    offset: int | None = None
    error: str | None = None
