"""The cluster facts ``mqctl doctor`` judges (mqctl/doctor/capability.py): RabbitMQ nodes,
quorum queues and connection churn, Kafka partition replicas. A field the broker did not
report is None, so a check can say UNKNOWN instead of OK."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """One RabbitMQ node as the management API reports it."""

    name: str
    running: bool | None = None
    mem_alarm: bool | None = None
    disk_free_alarm: bool | None = None
    mem_used: float | None = None  # bytes
    mem_limit: float | None = None  # the memory high watermark, bytes
    disk_free: float | None = None
    disk_free_limit: float | None = None
    partitions: list[str] = field(default_factory=list)  # nodes this one cannot see


@dataclass(frozen=True, slots=True)
class QuorumQueueHealth:
    """One quorum queue's leader and members (node names)."""

    vhost: str | None
    name: str
    leader: str | None
    members: list[str]
    online: list[str]


@dataclass(frozen=True, slots=True)
class ConnectionChurn:
    """Connections opened and closed per second (the broker's recent average)."""

    opened_per_second: float
    closed_per_second: float


@dataclass(frozen=True, slots=True)
class PartitionReplicas:
    topic: str
    partition: int
    leader: int  # -1: no leader, the partition is offline
    replicas: list[int]
    isr: list[int]


@dataclass(frozen=True, slots=True)
class ReplicaReport:
    """One metadata answer: the brokers, the controller, every partition's replicas
    (internal topics included)."""

    brokers: list[int]
    controller: int | None  # None: no active controller
    partitions: list[PartitionReplicas]
