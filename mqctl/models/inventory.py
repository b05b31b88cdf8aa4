"""What a broker holds: Kafka topics and RabbitMQ queues, vhosts, exchanges, bindings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Destination:
    """A named place messages live in, found on one of the context's brokers.

    ``kind`` is ``topic`` (Kafka-like) or ``queue``; ``vhost`` is set for RabbitMQ.
    """

    backend: str
    kind: str
    name: str
    vhost: str | None = None

    @property
    def qualified(self) -> str:
        """``backend:name`` (with the vhost for RabbitMQ) — the form that disambiguates."""
        if self.vhost is not None and self.vhost != "/":
            return f"{self.backend}:{self.vhost}/{self.name}"
        return f"{self.backend}:{self.name}"


@dataclass(frozen=True, slots=True)
class TopicSummary:
    name: str
    partitions: int
    replication_factor: int
    messages: int
    internal: bool = False
    backend: str = ""


@dataclass(frozen=True, slots=True)
class PartitionDetail:
    partition: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    log_start_offset: int
    end_offset: int

    @property
    def messages(self) -> int:
        return max(0, self.end_offset - self.log_start_offset)


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    name: str
    value: str | None
    is_default: bool
    source: str
    sensitive: bool = False
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class TopicDetail:
    name: str
    internal: bool
    replication_factor: int
    messages: int
    partitions: list[PartitionDetail]
    configs: list[ConfigEntry]


@dataclass(frozen=True, slots=True)
class QueueSummary:
    vhost: str
    name: str
    type: str  # classic | quorum | stream
    durable: bool
    state: str
    messages: int
    ready: int
    unacked: int
    # None = not known: a lean listing (depths only, ``stats=False``) has no consumer count.
    # Never read it as 0 (0 consumers is a finding: a starving queue).
    consumers: int | None
    publish_rate: float | None
    deliver_rate: float | None
    ack_rate: float | None
    policy: str | None
    dead_letter_exchange: str | None
    dead_letter_routing_key: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    backend: str = ""


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the full queue listing (with message stats), pages numbered from 1."""

    queues: list[QueueSummary]
    page: int
    page_count: int


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    consumer_tag: str
    channel: str
    connection: str | None
    client_host: str | None
    ack_required: bool
    prefetch_count: int
    active: bool


@dataclass(frozen=True, slots=True)
class BindingInfo:
    vhost: str
    source: str
    destination: str
    destination_type: str
    routing_key: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueDetail:
    queue: QueueSummary
    effective_policy: dict[str, Any]
    delivery_limit: int | None
    consumer_details: list[ConsumerInfo]
    bindings_in: list[BindingInfo]
    node: str | None = None
    head_message_age_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class VhostInfo:
    name: str
    description: str
    messages: int
    ready: int
    unacked: int
    tracing: bool = False


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    vhost: str
    name: str
    type: str
    durable: bool
    auto_delete: bool
    internal: bool
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExchangeDetail:
    """``exchanges describe``: the exchange, bindings in and out, and its rates."""

    exchange: ExchangeInfo
    policy: str | None
    bindings_in: list[BindingInfo]  # other exchanges -> this exchange
    bindings_out: list[BindingInfo]  # this exchange -> queues and exchanges
    publish_in_rate: float | None
    publish_out_rate: float | None


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """One client connection (``connections list``)."""

    name: str
    vhost: str
    user: str
    state: str
    protocol: str
    client: str  # product and version the client library reports
    connection_name: str | None  # what the application named its connection
    peer_host: str | None
    peer_port: int | None
    channels: int
    tls: bool
    connected_at: datetime | None
    recv_rate: float | None  # bytes/s
    send_rate: float | None  # bytes/s
    client_properties: dict[str, Any] = field(default_factory=dict)  # as the client reports


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """How one configured broker answered (``mqctl context show --check``, TUI header)."""

    backend: str
    address: str
    reachable: bool
    version: str | None = None
    error: str | None = None
