"""The backend capability plugins implement to add checks to ``mqctl doctor``.

A backend (built-in or plugin) declares its checks in ``health_checks`` and runs one at a
time in ``run_health_check``; the doctor runs them concurrently with the core's checks and
orders the findings. Thresholds come from the context's ``[doctor]`` table (validated against
every declared check's defaults), so a plugin's keys are configured like the core's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mqctl.doctor.model import CheckSpec, Finding
    from mqctl.doctor.probe import Probe


@runtime_checkable
class HealthChecks(Protocol):
    """Optional: checks of the ``mqctl doctor`` checklist for this backend."""

    health_checks: ClassVar[tuple[CheckSpec, ...]]

    async def run_health_check(self, check: str, probe: Probe) -> list[Finding]:
        """Findings of check ``check`` (one of ``health_checks``): at least one, OK when
        all is well, UNKNOWN (never OK) when the data was partial. ``probe`` gives the
        thresholds, the sampling interval and helpers to build findings."""
        ...
