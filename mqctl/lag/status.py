"""Lag status rules: what one snapshot can tell, and Burrow's rules over a window of samples.

Both work on :class:`~mqctl.models.lag.LagEntry` values from any backend, so Kafka groups and
RabbitMQ queues are judged by the same code. docs/lag.md states the rules for users.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from dataclasses import dataclass

from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, worst


def partition_snapshot_status(lag: int, members: int, threshold: int = 0) -> LagStatus:
    """OK without lag; STOPPED when nobody consumes a backlog; LAGGING above the threshold."""
    if lag <= 0:
        return LagStatus.OK
    if members == 0:
        return LagStatus.STOPPED
    return LagStatus.LAGGING if lag > threshold else LagStatus.OK


# Set by a backend from what it read (or could not read); the rules here never override them.
JUDGED_BY_BACKEND = frozenset({LagStatus.ERROR, LagStatus.DATA_LOSS, LagStatus.UNKNOWN})


def queue_snapshot_status(entry: LagEntry, threshold: int = 0) -> LagStatus:
    depth = entry.queue
    if depth is None or entry.status in JUDGED_BY_BACKEND:
        return entry.status
    # The backend's total_lag is the backlog (a stream's ready count is history, not backlog).
    backlog = entry.total_lag
    if backlog <= 0:
        return LagStatus.OK
    if depth.consumers == 0:
        return LagStatus.STOPPED
    return LagStatus.LAGGING if backlog > threshold else LagStatus.OK


def apply_snapshot_status(entries: list[LagEntry], threshold: int = 0) -> list[LagEntry]:
    """Set every partition's and entry's snapshot status in place (the statuses a backend
    judged itself, ERROR, DATA_LOSS and UNKNOWN, are kept)."""
    for entry in entries:
        if entry.kind == "queue":
            entry.status = queue_snapshot_status(entry, threshold)
            continue
        if entry.kind != "group" or (entry.status in JUDGED_BY_BACKEND and not entry.partitions):
            continue  # e.g. the UNKNOWN row of a broker that could not be sampled
        # partition_snapshot_status inlined (tens of thousands of rows per snapshot): a row
        # with lag above ``cut`` is ``backlog``, any other OK
        backlog = partition_snapshot_status(1, entry.members)
        cut = 0 if entry.members == 0 else max(threshold, 0)
        ok, judged = LagStatus.OK, JUDGED_BY_BACKEND
        for p in entry.partitions:
            if p.status not in judged:
                p.status = backlog if p.lag > cut else ok
        entry.status = worst([p.status for p in entry.partitions])
    return entries


@dataclass(frozen=True, slots=True)
class Point:
    """One partition (or queue) in one sample."""

    at: float  # monotonic seconds
    committed: int | None
    lag: int
    members: int
    error: bool = False
    # ERROR, DATA_LOSS or UNKNOWN as the backend judged this sample, else None
    judged: LagStatus | None = None


def burrow_status(points: list[Point]) -> LagStatus:
    """Burrow's rules over one partition's samples, oldest first (docs/lag.md)."""
    if not points:
        return LagStatus.ERROR  # nothing to judge (callers always have a sample)
    if points[-1].judged is not None:
        return points[-1].judged  # the latest sample is ERROR, DATA_LOSS or UNKNOWN
    if points[-1].error:
        return LagStatus.ERROR  # the latest sample could not be judged
    # An earlier unjudgeable sample (e.g. an offset briefly beyond the end while a new
    # leader caught up, or figures missing while a broker restarted) says nothing about
    # progress: the rules use the other samples.
    points = [p for p in points if not p.error and p.judged is None]
    last = points[-1]
    # 1. OK if the lag is zero now or was zero at any time in the window.
    if last.lag <= 0 or any(p.lag <= 0 for p in points):
        return LagStatus.OK
    offsets = [p.committed for p in points if p.committed is not None]
    # 2. REWIND: a committed offset went backwards.
    if any(b < a for a, b in itertools.pairwise(offsets)):
        return LagStatus.REWIND
    if len(points) < 2:
        return LagStatus.OK
    unchanged = len(set(offsets)) <= 1
    if unchanged:
        # 3./4. No commit for the whole window: STOP when nobody is there to consume,
        # STALL when members are present but do not move the offset.
        return LagStatus.STALL if last.members > 0 else LagStatus.STOP
    # 5. WARN: offsets move but the lag never decreases between consecutive samples.
    lags = [p.lag for p in points]
    if all(b >= a for a, b in itertools.pairwise(lags)):
        return LagStatus.WARN
    return LagStatus.OK


def queue_window_status(entries: list[LagEntry]) -> LagStatus:
    """Queues have no offsets: judge the depth series by the same spirit. A sample whose
    figures were missing (UNKNOWN: statistics not rebuilt after a restart) is left out: a
    depth the broker did not report is not a depth of 0."""
    last = entries[-1]
    if last.status in JUDGED_BY_BACKEND:
        return last.status
    entries = [e for e in entries if e.status not in JUDGED_BY_BACKEND]
    depths = [e.total_lag for e in entries]
    if any(d <= 0 for d in depths):
        return LagStatus.OK
    consumers = last.queue.consumers if last.queue else last.members
    if consumers == 0:
        return LagStatus.STOP
    delivered = [
        (e.queue.deliver_rate or 0.0) + (e.queue.ack_rate or 0.0) for e in entries if e.queue
    ]
    if delivered and all(d == 0 for d in delivered):
        return LagStatus.STALL
    if (
        len(depths) > 1
        and all(b >= a for a, b in itertools.pairwise(depths))
        and (depths[-1] > depths[0])
    ):
        return LagStatus.WARN
    return LagStatus.OK


def _key(entry: LagEntry) -> tuple[str, str, str]:
    vhost = entry.queue.vhost if entry.queue else ""
    return (entry.backend, entry.kind, f"{vhost}/{entry.group}")


def evaluate_window(samples: list[tuple[float, list[LagEntry]]]) -> list[LagEntry]:
    """The latest sample's entries with statuses from Burrow's rules over all samples."""
    if not samples:
        return []
    history: dict[tuple[str, str, str], list[tuple[float, LagEntry]]] = defaultdict(list)
    for at, entries in samples:
        for entry in entries:
            history[_key(entry)].append((at, entry))
    result = []
    for entry in samples[-1][1]:
        series = history[_key(entry)]
        if entry.kind not in ("queue", "group"):
            result.append(entry)  # e.g. the UNKNOWN row of a broker that was not sampled
            continue
        if entry.kind == "queue":
            result.append(
                dataclasses.replace(entry, status=queue_window_status([e for _, e in series]))
            )
            continue
        points: dict[tuple[str, int], list[Point]] = defaultdict(list)
        for at, e in series:
            for p in e.partitions:
                judged = p.status if p.status in JUDGED_BY_BACKEND else None
                points[(p.topic, p.partition)].append(
                    Point(at, p.committed_offset, p.lag, e.members, judged=judged)
                )
        partitions: list[PartitionLag] = [
            dataclasses.replace(p, status=burrow_status(points[(p.topic, p.partition)]))
            for p in entry.partitions
        ]
        status = (
            entry.status
            if entry.status in JUDGED_BY_BACKEND and not entry.partitions
            else worst([p.status for p in partitions])
        )
        result.append(dataclasses.replace(entry, partitions=partitions, status=status))
    return result
