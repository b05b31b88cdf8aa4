"""Doctor findings: what a check saw, how bad it is, the evidence and what to do.

The JSON field names are documented in docs/doctor.md: add fields, never rename them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    CRIT = "CRIT"
    WARN = "WARN"
    OK = "OK"
    UNKNOWN = "UNKNOWN"  # the data was partial or missing: never reported as OK

    @property
    def rank(self) -> int:
        """Display order: problems first, then what could not be judged, then the healthy.
        UNKNOWN sits above OK on purpose: an unanswered question is not good news."""
        return _RANK[self]


_RANK = {Severity.CRIT: 0, Severity.WARN: 1, Severity.UNKNOWN: 2, Severity.OK: 3}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A check of the documented checklist (docs/doctor.md).

    ``thresholds``: the config keys it reads, with their defaults (``[doctor]`` table).
    """

    name: str
    title: str
    thresholds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Finding:
    check: str
    severity: Severity
    backend: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    action: str = ""
    context: str = ""


def ordered(findings: list[Finding]) -> list[Finding]:
    """By severity (CRIT, WARN, UNKNOWN, OK), then context, backend and check: stable."""
    return sorted(findings, key=lambda f: (f.severity.rank, f.context, f.backend, f.check))


def failed(findings: list[Finding], fail_on: str | None) -> bool:
    """``--fail-on crit``: any CRIT; ``--fail-on warn``: any CRIT, WARN or UNKNOWN (a check
    that could not tell is not a pass)."""
    if fail_on is None:
        return False
    bad = {Severity.CRIT} if fail_on == "crit" else {Severity.CRIT, Severity.WARN, Severity.UNKNOWN}
    return any(f.severity in bad for f in findings)


def limited(names: list[str], most: int = 10) -> str:
    """``a, b, c (+12 more)``: evidence stays one readable line at any scale."""
    shown = ", ".join(names[:most])
    return f"{shown} (+{len(names) - most} more)" if len(names) > most else shown


def where(vhost: str | None, name: str) -> str:
    """A queue's name for evidence: ``name`` on the default vhost, else ``vhost/name``."""
    return name if vhost in (None, "", "/") else f"{vhost}/{name}"
