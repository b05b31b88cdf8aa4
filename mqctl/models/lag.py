"""Lag: Kafka consumer groups and RabbitMQ queues in one model, so one table shows both.

A :class:`LagEntry` is one consumer of a backlog: a Kafka consumer group (``kind="group"``,
per-partition rows in ``partitions``) or a queue (``kind="queue"``, depth figures in
``queue``). The JSON field names are documented in docs/output.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LagStatus(enum.StrEnum):
    """Health vocabulary shared by every broker (docs/lag.md has the rules).

    Snapshot statuses: OK, LAGGING, STOPPED. Window statuses (Burrow's rules): OK, WARN,
    STALL, STOP, REWIND, ERROR.
    """

    OK = "OK"
    LAGGING = "LAGGING"
    WARN = "WARN"
    STALL = "STALL"
    REWIND = "REWIND"
    STOPPED = "STOPPED"
    STOP = "STOP"
    ERROR = "ERROR"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {
    LagStatus.OK: 0,
    LagStatus.LAGGING: 1,
    LagStatus.WARN: 1,
    LagStatus.REWIND: 2,
    LagStatus.STALL: 2,
    LagStatus.STOPPED: 3,
    LagStatus.STOP: 3,
    LagStatus.ERROR: 4,
}


def worst(statuses: list[LagStatus]) -> LagStatus:
    return max(statuses, key=lambda s: s.severity, default=LagStatus.OK)


@dataclass(slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed_offset: int | None
    log_start_offset: int
    end_offset: int
    lag: int
    time_lag_seconds: float | None
    owner: str | None  # member id / client id / host, None when unassigned
    status: LagStatus = LagStatus.OK
    # Interpolated from end offsets sampled over time (--watch/--window only; docs/lag.md).
    estimated_time_lag_seconds: float | None = None
    # Why the partition is ERROR (e.g. committed offset beyond the end offset), else None.
    error: str | None = None


@dataclass(slots=True)
class QueueDepth:
    """RabbitMQ's view of a backlog: depth and rates instead of offsets."""

    vhost: str
    queue_type: str
    ready: int
    unacked: int
    consumers: int
    publish_rate: float | None
    deliver_rate: float | None
    ack_rate: float | None
    drain_seconds: float | None  # None = never drains at the current rates
    head_age_seconds: float | None = None


@dataclass(slots=True)
class LagEntry:
    backend: str
    kind: str  # group | queue
    group: str  # consumer group id, or queue name for queues
    status: LagStatus
    total_lag: int
    max_time_lag_seconds: float | None
    topics: list[str] = field(default_factory=list)
    members: int = 0
    state: str | None = None  # group state (Stable, Empty, ...) or queue state
    partitions: list[PartitionLag] = field(default_factory=list)
    queue: QueueDepth | None = None
    max_estimated_time_lag_seconds: float | None = None  # --watch/--window only
