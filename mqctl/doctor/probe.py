"""What a running check gets: its backend, the thresholds, the interval between samples, and
data shared between the checks of one run (one lag window serves several checks)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from mqctl.backend import Backend
from mqctl.doctor.model import Finding, Severity
from mqctl.doctor.settings import DoctorSettings
from mqctl.errors import MqctlError
from mqctl.session import Session

T = TypeVar("T")
Tier = tuple[Severity, Sequence[str], str, str]  # severity, evidence, summary, action


class Probe:
    def __init__(
        self,
        session: Session,
        backend: Backend,
        settings: DoctorSettings,
        shared: dict[Any, asyncio.Task[Any]],
    ) -> None:
        self.session = session
        self.backend = backend
        self.settings = settings
        self._shared = shared

    def backend_as(self, capability: type[T]) -> T:
        """The backend as the capability a check needs (the runner picked the check for a
        backend that has it)."""
        backend = self.backend
        assert isinstance(backend, capability)
        return backend

    @property
    def interval(self) -> float:
        return self.settings.interval

    def threshold(self, key: str) -> float:
        return self.settings.threshold(key)

    def finding(
        self,
        check: str,
        severity: Severity,
        summary: str,
        evidence: Sequence[str] = (),
        action: str = "",
    ) -> Finding:
        return Finding(
            check=check,
            severity=severity,
            backend=self.backend.name,
            summary=summary,
            evidence=list(evidence),
            action=action,
            context=self.session.context.name,
        )

    def tiers(
        self, check: str, *tiers: Tier, ok: str | None = None, most: int = 20
    ) -> list[Finding]:
        """A finding per tier that has evidence, e.g. a CRIT one for queues that stopped and
        a WARN one for those falling behind (the evidence shows its first ``most`` lines);
        with none, an OK finding saying ``ok`` (None: nothing, e.g. when some entries could
        not be judged)."""
        found = [
            self.finding(check, severity, summary, lines[:most], action)
            for severity, lines, summary, action in tiers
            if lines
        ]
        if not found and ok is not None:
            found.append(self.finding(check, Severity.OK, ok))
        return found

    def unknown(self, check: str, error: MqctlError | str, what: str) -> Finding:
        """The check could not get its data: say why; never OK."""
        reason = error.message if isinstance(error, MqctlError) else error
        return self.finding(
            check,
            Severity.UNKNOWN,
            f"could not check {what}",
            [reason],
            "fix access to the broker (see the evidence) and run the doctor again",
        )

    async def shared(self, key: Any, factory: Callable[[], Awaitable[T]]) -> T:
        """``factory()`` once per run and backend, whichever check asks first."""
        full = (self.backend.name, key)
        task = self._shared.get(full)
        if task is None:

            async def run() -> T:
                return await factory()

            task = asyncio.ensure_future(run())
            self._shared[full] = task
        result: T = await asyncio.shield(task)
        return result

    async def two_samples(self, factory: Callable[[], Awaitable[T]]) -> tuple[T, T | None]:
        """A sample now and one ``interval`` later (None when the interval is 0)."""
        first = await factory()
        if self.interval <= 0:
            return first, None
        await asyncio.sleep(self.interval)
        return first, await factory()
