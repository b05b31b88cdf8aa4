"""Runbook checks: ``--fail-on``, ``--max-lag`` and ``--max-time-lag`` turn a view into a
pass/fail answer (exit 1 when violated, docs/lag.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mqctl.models.lag import LagEntry, LagStatus, worst


class FailOn(enum.StrEnum):
    """The least severe status that fails the check (each level includes the worse ones).

    Every level also fails on UNKNOWN (a status that could not be judged is never a pass)
    unless the check says ``ignore_unknown``; ``unknown`` fails on UNKNOWN only."""

    warn = "warn"  # WARN, LAGGING and everything worse
    stall = "stall"  # STALL, REWIND, STOP, STOPPED, DATA_LOSS, ERROR
    stop = "stop"  # STOP, STOPPED, DATA_LOSS, ERROR
    error = "error"  # DATA_LOSS, ERROR
    unknown = "unknown"  # UNKNOWN only

    @property
    def severity(self) -> int:
        return {"warn": 1, "stall": 2, "stop": 3, "error": 4, "unknown": 99}[self.value]


@dataclass(frozen=True, slots=True)
class Thresholds:
    fail_on: FailOn | None = None
    max_lag: int | None = None
    max_time_lag: float | None = None  # seconds
    ignore_unknown: bool = False  # --fail-on levels pass UNKNOWN (not with --fail-on unknown)

    @property
    def active(self) -> bool:
        return (
            self.fail_on is not None or self.max_lag is not None or (self.max_time_lag is not None)
        )

    def fails(self, status: LagStatus) -> bool:
        if self.fail_on is None:
            return False
        if status is LagStatus.UNKNOWN:
            return self.fail_on is FailOn.unknown or not self.ignore_unknown
        return status.severity >= self.fail_on.severity


def _statuses(entry: LagEntry) -> list[LagStatus]:
    return [entry.status, *(p.status for p in entry.partitions)]


def _name(entry: LagEntry) -> str:
    return f"{entry.backend}:{entry.group}"


def violations(entries: list[LagEntry], limits: Thresholds) -> list[str]:
    """One short sentence per violated threshold, in entry order; empty when all pass."""
    found: list[str] = []
    for entry in entries:
        # A group is judged by its worst partition, but UNKNOWN ranks below STOP: look at
        # every partition too, so `--fail-on unknown` sees an UNKNOWN partition of a STOP group
        failing = [s for s in _statuses(entry) if limits.fails(s)]
        if failing:
            status = worst(failing)
            why = f" ({entry.error})" if entry.error and status is entry.status else ""
            found.append(f"{_name(entry)} is {status.value}{why}")
        if limits.max_lag is not None and entry.total_lag > limits.max_lag:
            found.append(f"{_name(entry)} lag {entry.total_lag} > {limits.max_lag}")
        if (
            limits.max_time_lag is not None
            and entry.max_time_lag_seconds is not None
            and entry.max_time_lag_seconds > limits.max_time_lag
        ):
            found.append(
                f"{_name(entry)} time lag {entry.max_time_lag_seconds:.0f}s > "
                f"{limits.max_time_lag:g}s"
            )
    return found


def summary(found: list[str], limit: int = 3) -> str:
    """One line for the error message: the first few violations and how many more."""
    head = "; ".join(found[:limit])
    more = f" (+{len(found) - limit} more)" if len(found) > limit else ""
    return f"lag check failed: {head}{more}"
