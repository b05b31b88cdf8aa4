"""``mqctl doctor``: a documented health checklist over every broker of a context
(docs/doctor.md). Core logic only; ``mqctl/cli/doctor.py`` presents the findings."""

from mqctl.doctor.capability import HealthChecks
from mqctl.doctor.model import CheckSpec, Finding, Severity

__all__ = ["CheckSpec", "Finding", "HealthChecks", "Severity"]
