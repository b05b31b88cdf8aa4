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
