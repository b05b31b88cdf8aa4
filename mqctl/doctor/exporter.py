"""A Prometheus exporter for a fleet: lag of every context (``mqctl lag --serve`` metrics,
``cluster_name`` = the context), doctor findings as metrics and a per-backend ``up`` gauge.

Each context is sampled by its own task with its own Session, so a context that is down
only turns its own ``mqctl_up`` to 0. The families of all contexts are merged at scrape time
(one HELP/TYPE per metric name, as the text format requires).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from mqctl.config.schema import Context
from mqctl.doctor.model import Finding, Severity
from mqctl.errors import MqctlError
from mqctl.lag.exporter import LagCollector, MetricsServer
from mqctl.services.lag import LagQuery
from mqctl.session import Session

SEVERITY_VALUE = {Severity.OK: 0, Severity.WARN: 1, Severity.CRIT: 2, Severity.UNKNOWN: 3}


class DoctorCollector:
    """The latest doctor findings and broker reachability of every context."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._findings: dict[str, list[Finding]] = {}
        self._up: dict[tuple[str, str], bool] = {}

    def update(self, context: str, findings: list[Finding]) -> None:
        with self._lock:
            self._findings[context] = list(findings)

    def set_up(self, context: str, backend: str, up: bool) -> None:
        with self._lock:
            self._up[(context, backend)] = up

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        with self._lock:
            findings = {c: list(f) for c, f in self._findings.items()}
            up_states = dict(self._up)
        up = GaugeMetricFamily(
            "mqctl_up",
            "1 when the context's broker answered the last check, else 0",
            labels=["context", "backend"],
        )
        for (context, backend), answered in sorted(up_states.items()):
            up.add_metric([context, backend], 1 if answered else 0)
        labels = ["context", "backend", "check"]
        severity = GaugeMetricFamily(
            "mqctl_doctor_check_severity",
            "Worst finding of each doctor check: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN",
            labels=labels,
        )
        count = GaugeMetricFamily(
            "mqctl_doctor_findings",
            "Doctor findings by severity (docs/doctor.md)",
            labels=[*labels, "severity"],
        )
        for context, found in sorted(findings.items()):
            worst: dict[tuple[str, str], Severity] = {}
            tally: dict[tuple[str, str, str], int] = {}
            for f in found:
                key = (f.backend, f.check)
                if key not in worst or f.severity.rank < worst[key].rank:
                    worst[key] = f.severity
                tally[(f.backend, f.check, f.severity.value)] = (
                    tally.get((f.backend, f.check, f.severity.value), 0) + 1
                )
            for (backend, check), sev in sorted(worst.items()):
                severity.add_metric([context, backend, check], SEVERITY_VALUE[sev])
            for (backend, check, sev_name), n in sorted(tally.items()):
                count.add_metric([context, backend, check, sev_name], n)
        yield from (up, severity, count)


class MergedCollector:
    """Families of several collectors under one name each (samples concatenated)."""

    def __init__(self, collectors: Sequence[Any]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Any]:
        merged: dict[str, Any] = {}
        for collector in self.collectors:
            for family in collector.collect():
                known = merged.get(family.name)
                if known is None:
                    merged[family.name] = family
                else:
                    known.samples.extend(family.samples)
        yield from merged.values()


class FleetExporter(MetricsServer):
    """Serves the merged collectors of every context over HTTP."""

    def __init__(self, contexts: Sequence[Context], address: str) -> None:
        super().__init__(address)
        self.contexts = list(contexts)
        self.lag = {c.name: LagCollector(c.name) for c in contexts}
        self.doctor = DoctorCollector()

    def _collector(self) -> MergedCollector:
        return MergedCollector([*self.lag.values(), self.doctor])

    async def run(
        self,
        query: LagQuery,
        every: float,
        doctor_every: float,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (the brokers' timeout, per Session)
        count: int | None = None,
    ) -> None:
        """Sample every context until cancelled (or ``count`` lag samples each)."""
        await asyncio.gather(
            *(self._context(c, query, every, doctor_every, timeout, count) for c in self.contexts)
        )

    async def _context(
        self,
        context: Context,
        query: LagQuery,
        every: float,
        doctor_every: float,
        timeout: float | None,  # noqa: ASYNC109 (the brokers' timeout, per Session)
        count: int | None,
    ) -> None:
        from mqctl.services import lag as service

        collector = self.lag[context.name]
        async with Session(context, timeout=timeout) as session:
            first_run = asyncio.Event()
            doctor = asyncio.create_task(self._doctor_loop(session, doctor_every, first_run))
            try:
                try:
                    await service.watch(
                        session,
                        query,
                        every,
                        collector.update,
                        count=count,
                        on_error=lambda exc: collector.failed(str(exc)),
                    )
                except MqctlError as exc:  # e.g. no broker with lag: the doctor still reports
                    collector.failed(str(exc))
                    if count is None:
                        await doctor
                if count is not None and not doctor.done():
                    await first_run.wait()  # a bounded run still reports the doctor once
            finally:
                doctor.cancel()

    async def _doctor_loop(self, session: Session, every: float, first_run: asyncio.Event) -> None:
        from mqctl.doctor.runner import diagnose

        name = session.context.name
        while True:
            try:
                # growth checks sample over the configured interval, capped by the period
                findings = await diagnose(session, interval=None)
            except MqctlError as exc:
                findings = [
                    Finding("reachable", Severity.UNKNOWN, "-", "doctor failed", [exc.message])
                ]
            self.doctor.update(name, findings)
            for f in findings:
                if f.check == "reachable" and f.backend != "-":
                    self.doctor.set_up(name, f.backend, f.severity is Severity.OK)
            first_run.set()
            await asyncio.sleep(every)
