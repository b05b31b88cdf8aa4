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
    Headers keep their order and may repeat (Kafka allows duplicate keys). ``value`` ``None``
    is no value at all (a Kafka tombstone), never the same as ``b""`` (an empty value).
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
    """A message to publish. ``partition`` and ``timestamp`` only apply to Kafka;
    ``properties`` to AMQP.

    ``value`` ``None`` is a null value (a Kafka tombstone), never the same as ``b""``; AMQP has
    no null body, so RabbitMQ sends it as an empty body. A header value ``None`` is a null
    header value (Kafka keeps it; AMQP sends a void field). ``timestamp`` ``None``: the
    producer's current time (Kafka CreateTime); a datetime is sent as the record's CreateTime
    (``publish --keep-timestamps``).
    """

    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, HeaderValue]] = field(default_factory=list)
    partition: int | None = None
    routing_key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What the broker confirmed for one message."""

    index: int
    ok: bool
    partition: int | None = None
    offset: int | None = None
    error: str | None = None
    id: str | None = None  # the broker's own id when it gives one (a Redis Streams entry id)


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where a peek starts.

    kinds: ``beginning`` (Kafka earliest / stream ``first``), ``end`` (only new messages,
    stream ``next``), ``offset`` (``value`` = offset), ``last`` (``value`` = N last per
    partition; stream ``last`` with N=1), ``timestamp`` (``value`` = epoch ms). Queues that
    are not streams ignore it (a queue is read from its head).
    """

    kind: str = "beginning"
    value: int | None = None


@dataclass(frozen=True, slots=True)
class PeekOptions:
    """What a backend needs to read messages without side effects.

    Filters (key, grep, header) and decoding are applied by the core, not the backend; a
    backend may use ``max_messages`` as a hint but the core stops reading at the limit.
    """

    max_messages: int = 10
    start: StartPosition = field(default_factory=StartPosition)
    partitions: tuple[int, ...] | None = None
    follow: bool = False
    allow_requeue: bool = False  # RabbitMQ quorum queues: returning increments delivery count
    idle_timeout: float = 2.0  # stop when no message arrived for this long (not following)
    # ``peek --key``: Kafka reads only the partition the key hashes to (unless ``partitions``
    # says otherwise) and, with a ``last`` start, searches backwards for the last N records
    # with this key. The core still applies the key filter; other backends ignore it.
    key: bytes | None = None
    # Kafka: ``read_committed`` hides records of aborted transactions (and stops at the last
    # stable offset); ``read_uncommitted`` shows them. Control records are never messages.
    isolation: str = "read_committed"


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """Broker-specific knobs of a publish; the core handles count, rate and templates."""

    partition: int | None = None
    exchange: str | None = None  # RabbitMQ: publish to this exchange ("" = default exchange)
    routing_key: str | None = None
    mandatory: bool = False  # RabbitMQ: report unroutable messages as failures
    persistent: bool = True
    compression: str | None = None  # Kafka: gzip | snappy | lz4 | zstd
