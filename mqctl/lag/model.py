"""Consumer groups and offset-reset plans: typed data the group commands return.

JSON field names are the dataclass field names (docs/lag.md); add fields, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mqctl.models.lag import PartitionLag


@dataclass(slots=True)
class GroupSummary:
    group: str
    state: str  # Stable, Empty, PreparingRebalance, Dead, ... ("Unknown" from old brokers)
    protocol_type: str  # "consumer" for Kafka consumers, "connect", "" for simple groups
    type: str  # classic | consumer (KIP-848) | share | streams
    members: int
    coordinator: int | None
    backend: str = "kafka"


@dataclass(slots=True)
class GroupMember:
    member_id: str
    client_id: str
    host: str
    instance_id: str | None = None
    assignment: dict[str, list[int]] = field(default_factory=dict)  # topic -> partitions


@dataclass(slots=True)
class GroupDetail:
    group: str
    state: str
    protocol_type: str
    type: str
    protocol: str  # partition assignor (range, cooperative-sticky, uniform, ...)
    coordinator: int | None
    members: list[GroupMember]
    offsets: list[PartitionLag]  # committed offsets with log range and lag
    backend: str = "kafka"


@dataclass(frozen=True, slots=True)
class ResetSpec:
    """What ``offsets reset`` should do. ``mode``: earliest | latest | offset | datetime |
    duration | shift | file. ``value`` is the offset, epoch ms (datetime; duration is turned
    into epoch ms by the caller) or shift; ``targets`` lists (topic, partitions or None = all);
    ``file_offsets`` holds a plan read back with ``--from-file``."""

    mode: str
    targets: tuple[tuple[str, tuple[int, ...] | None], ...] = ()
    value: int | None = None
    file_offsets: tuple[tuple[str, int, int], ...] = ()


@dataclass(slots=True)
class OffsetPlanRow:
    topic: str
    partition: int
    current_offset: int | None
    new_offset: int
    change: int | None  # new - current; None when nothing was committed
    log_start_offset: int
    end_offset: int
    clamped: bool = False


@dataclass(slots=True)
class OffsetResetPlan:
    group: str
    mode: str
    executed: bool
    rows: list[OffsetPlanRow]
    warnings: list[str] = field(default_factory=list)
    backend: str = "kafka"
    new_group: bool = False  # the group does not exist yet: applying the plan creates it
