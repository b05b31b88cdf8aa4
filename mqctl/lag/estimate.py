"""Interpolated time lag (kafka-lag-exporter's method) from end offsets sampled over time.

Every sample of ``--watch``/``--window`` adds a point (time, end offset) to a small table per
partition. The record at committed offset ``c`` was appended when the end offset passed ``c``
(reached ``c + 1``): that moment is interpolated linearly between the last point below
``c + 1`` and the first point at or above it. A committed offset older than the whole table is
extrapolated at the table's average production rate (oldest to newest point). The estimate
is the time of the latest sample minus that moment.

It needs no record reads (no Fetch), and it still works when retention already removed the
record at the committed offset; it is as good as the production rate is steady between
samples. docs/lag.md documents the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mqctl.models.lag import LagEntry, LagStatus

MAX_POINTS = 60  # per partition, like kafka-lag-exporter's default lookup table
FORGET_AFTER = 10  # samples without the partition before its table is dropped

Key = tuple[str, str, int]  # backend, topic, partition
Point = tuple[float, int]  # monotonic seconds, end offset


def produced_at(table: list[Point], committed: int) -> float | None:
    """When the record at ``committed`` was appended, estimated from the table (oldest
    first, end offsets non-decreasing); None when the table cannot tell."""
    if len(table) < 2:
        return None
    target = committed + 1  # the end offset right after that record was appended
    if target > table[-1][1]:
        return None  # not produced yet as of the latest sample: no lag
    hi = next(i for i, (_, end) in enumerate(table) if end >= target)
    if hi == 0:
        (t0, o0), (t1, o1) = table[0], table[-1]
        if o0 == target:
            return t0  # at or before the oldest point: the best bound the table has
        if o1 <= o0 or t1 <= t0:
            return None  # nothing was produced over the table: no rate to extrapolate with
        return t0 - (o0 - target) * (t1 - t0) / (o1 - o0)
    (t_lo, o_lo), (t_hi, o_hi) = table[hi - 1], table[hi]
    return t_lo + (target - o_lo) * (t_hi - t_lo) / (o_hi - o_lo)


@dataclass(slots=True)
class OffsetHistory:
    """End offsets per partition over the samples of one ``--watch``/``--window`` run."""

    tables: dict[Key, list[Point]] = field(default_factory=dict)
    _seen: dict[Key, int] = field(default_factory=dict)
    _samples: int = 0

    def record(self, at: float, entries: Iterable[LagEntry]) -> None:
        """Add one sample's end offsets (each partition once, whatever the groups)."""
        self._samples += 1
        for entry in entries:
            if entry.kind != "group":
                continue  # queues have depths, not offsets
            for p in entry.partitions:
                key = (entry.backend, p.topic, p.partition)
                if self._seen.get(key) == self._samples:
                    continue
                self._seen[key] = self._samples
                self._add(self.tables.setdefault(key, []), at, p.end_offset)
        stale = [k for k, n in self._seen.items() if self._samples - n >= FORGET_AFTER]
        for key in stale:
            del self._seen[key]
            self.tables.pop(key, None)

    @staticmethod
    def _add(table: list[Point], at: float, end: int) -> None:
        if table and end < table[-1][1]:
            table.clear()  # the log was truncated or the topic recreated: start over
        if len(table) >= 2 and table[-1][1] == end and table[-2][1] == end:
            table[-1] = (at, end)  # a flat run only needs its first and last point
        else:
            table.append((at, end))
        if len(table) > MAX_POINTS:
            del table[0]

    def fill(self, entries: Iterable[LagEntry]) -> None:
        """Set ``estimated_time_lag_seconds`` (partitions with lag) and the group maximum, in
        place, relative to the latest sample of each partition."""
        for entry in entries:
            if entry.kind != "group":
                continue
            found: list[float] = []
            for p in entry.partitions:
                p.estimated_time_lag_seconds = None
                if p.lag <= 0 or p.committed_offset is None or p.status is LagStatus.ERROR:
                    continue
                table = self.tables.get((entry.backend, p.topic, p.partition), [])
                at = produced_at(table, p.committed_offset)
                if at is not None:
                    p.estimated_time_lag_seconds = max(0.0, round(table[-1][0] - at, 3))
                    found.append(p.estimated_time_lag_seconds)
            entry.max_estimated_time_lag_seconds = max(found) if found else None
