"""Runbook checks: ``--fail-on``, ``--max-lag`` and ``--max-time-lag`` turn a view into a
pass/fail answer (exit 1 when violated, docs/lag.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mqctl.models.lag import LagEntry


class FailOn(enum.StrEnum):
    """The least severe status that fails the check (each level includes the worse ones)."""

    warn = "warn"  # WARN, LAGGING and everything worse
    stall = "stall"  # STALL, REWIND, STOP, STOPPED, ERROR
    stop = "stop"  # STOP, STOPPED, ERROR
    error = "error"  # ERROR only

    @property
    def severity(self) -> int:
        return {"warn": 1, "stall": 2, "stop": 3, "error": 4}[self.value]


@dataclass(frozen=True, slots=True)
class Thresholds:
    fail_on: FailOn | None = None
    max_lag: int | None = None
    max_time_lag: float | None = None  # seconds

    @property
    def active(self) -> bool:
        return (
            self.fail_on is not None or self.max_lag is not None or (self.max_time_lag is not None)
        )


def _name(entry: LagEntry) -> str:
    return f"{entry.backend}:{entry.group}"


def violations(entries: list[LagEntry], limits: Thresholds) -> list[str]:
    """One short sentence per violated threshold, in entry order; empty when all pass."""
    found: list[str] = []
    for entry in entries:
        if limits.fail_on is not None and entry.status.severity >= limits.fail_on.severity:
            found.append(f"{_name(entry)} is {entry.status.value}")
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
