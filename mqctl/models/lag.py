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
    STALL, STOP, REWIND, ERROR. In both: DATA_LOSS (the committed offset is below the log
    start: records the group never read are gone) and UNKNOWN (the figures needed to judge
    are missing: broker unreachable, statistics not yet rebuilt after a restart).
    """

    OK = "OK"
    LAGGING = "LAGGING"
    WARN = "WARN"
    STALL = "STALL"
    REWIND = "REWIND"
    STOPPED = "STOPPED"
    STOP = "STOP"
    ERROR = "ERROR"
    DATA_LOSS = "DATA_LOSS"
    UNKNOWN = "UNKNOWN"

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
    # Not knowing is as alarming as a stopped consumer (alerts at >= 3 fire): it is never OK.
    LagStatus.UNKNOWN: 3,
    LagStatus.DATA_LOSS: 4,
    LagStatus.ERROR: 4,
}
# Among equal severities the more specific status names the group: a known STOP beats
# UNKNOWN, ERROR beats DATA_LOSS.
_TIE_BREAK = {LagStatus.UNKNOWN: -1, LagStatus.DATA_LOSS: -1}


def worst(statuses: list[LagStatus]) -> LagStatus:
    # Each distinct status once, in first-seen order (the same winner as over the whole
    # list): a group's thousands of partitions share a handful of statuses.
    distinct = dict.fromkeys(statuses)
    return max(distinct, key=lambda s: (s.severity, _TIE_BREAK.get(s, 0)), default=LagStatus.OK)


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
    # Why the partition is ERROR, DATA_LOSS or UNKNOWN (e.g. committed offset beyond the end
    # offset), else None.
    error: str | None = None
    # Records between the committed offset and the log start: removed (retention,
    # delete-records) before the group read them. ``lag`` counts only records that still
    # exist; ``raw_lag`` is end offset - committed offset (None without a commit).
    records_lost: int = 0
    raw_lag: int | None = None


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
    total_records_lost: int = 0  # sum of the partitions' records_lost
    # Why the entry is UNKNOWN or ERROR (e.g. "cannot connect to RabbitMQ at ..."), else None.
    error: str | None = None
