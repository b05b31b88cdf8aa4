"""Run the doctor's checklist on one context: pick the checks each backend supports, run
them concurrently (the growth checks sample twice, ``interval`` apart, all at once), and
return the findings ordered by severity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mqctl import registry
from mqctl.backend import (
    Backend,
    DeadLetterSupport,
    LagSource,
    QueueCatalog,
    TopicCatalog,
)
from mqctl.doctor import general, kafka, lag_checks, rabbitmq
from mqctl.doctor.capability import (
    ConnectionChurnSource,
    HealthChecks,
    NodeHealthSource,
    QuorumHealthSource,
    ReplicaHealthSource,
)
from mqctl.doctor.model import CheckSpec, Finding, Severity, ordered
from mqctl.doctor.probe import Probe
from mqctl.doctor.settings import DoctorSettings, parse_settings
from mqctl.errors import MqctlError, UsageError
from mqctl.session import Session

CheckFn = Callable[[Probe], Awaitable[list[Finding]]]


def _lag_topics(b: Backend) -> bool:
    return isinstance(b, LagSource) and isinstance(b, TopicCatalog)


def _lag_queues(b: Backend) -> bool:
    return isinstance(b, LagSource) and isinstance(b, QueueCatalog)


@dataclass(frozen=True, slots=True)
class CoreCheck:
    spec: CheckSpec
    applies: Callable[[Backend], bool]
    run: CheckFn


def _has(capability: type) -> Callable[[Backend], bool]:
    return lambda backend: isinstance(backend, capability)


CORE_CHECKS = [
    CoreCheck(kafka.SPECS["controller"], _has(ReplicaHealthSource), kafka.check_controller),
    CoreCheck(kafka.SPECS["offline-partitions"], _has(ReplicaHealthSource), kafka.check_offline),
    CoreCheck(
        kafka.SPECS["under-replicated"],
        _has(ReplicaHealthSource),
        kafka.check_under_replicated,
    ),
    CoreCheck(rabbitmq.SPECS["alarms"], _has(NodeHealthSource), rabbitmq.check_alarms),
    CoreCheck(rabbitmq.SPECS["nodes"], _has(NodeHealthSource), rabbitmq.check_nodes),
    CoreCheck(
        rabbitmq.SPECS["quorum-queues"], _has(QuorumHealthSource), rabbitmq.check_quorum_queues
    ),
    CoreCheck(
        rabbitmq.SPECS["connection-churn"], _has(ConnectionChurnSource), rabbitmq.check_churn
    ),
    CoreCheck(lag_checks.SPECS["groups"], _lag_topics, lag_checks.check_groups),
    CoreCheck(lag_checks.SPECS["records-lost"], _lag_topics, lag_checks.check_records_lost),
    CoreCheck(
        lag_checks.SPECS["queues-no-consumers"], _lag_queues, lag_checks.check_queues_no_consumers
    ),
    CoreCheck(lag_checks.SPECS["queue-growth"], _lag_queues, lag_checks.check_queue_growth),
    CoreCheck(lag_checks.SPECS["unacked"], _lag_queues, lag_checks.check_unacked),
    CoreCheck(general.SPECS["dlq"], _has(DeadLetterSupport), general.check_dlq),
    CoreCheck(general.SPECS["unconsumed-topics"], _lag_topics, general.check_unconsumed_topics),
]


def plugin_specs() -> list[CheckSpec]:
    """Checks declared by installed backends through :class:`HealthChecks`."""
    specs: list[CheckSpec] = []
    for cls in registry.backends().objects.values():
        # a class attribute read before any backend exists (thresholds and --check names
        # are validated first); running a check goes through isinstance(HealthChecks)
        specs.extend(getattr(cls, "health_checks", ()) or ())
    return specs


def all_specs() -> list[CheckSpec]:
    return [general.SPECS["reachable"], *(c.spec for c in CORE_CHECKS), *plugin_specs()]


def check_names(wanted: Iterable[str]) -> set[str] | None:
    """The ``--check`` names (comma lists allowed), validated; None means every check."""
    names = {n.strip() for raw in wanted for n in raw.split(",") if n.strip()}
    if not names:
        return None
    known = {s.name for s in all_specs()}
    unknown = sorted(names - known)
    if unknown:
        raise UsageError(
            f"unknown check {', '.join(repr(n) for n in unknown)}",
            hint=f"checks: {', '.join(sorted(known))} (docs/doctor.md)",
        )
    return names


def settings_for(session: Session, interval: float | None) -> DoctorSettings:
    context = session.context
    where = f"config {context.source}: contexts.{context.name}.doctor"
    settings = parse_settings(context.doctor, all_specs(), where)
    if interval is not None:
        settings = DoctorSettings(interval=interval, thresholds=settings.thresholds)
    return settings


def _backend_checks(backend: Backend, only: set[str] | None) -> list[tuple[str, CheckFn]]:
    checks: list[tuple[str, CheckFn]] = [
        (c.spec.name, c.run) for c in CORE_CHECKS if c.applies(backend)
    ]
    if isinstance(backend, HealthChecks):
        plugin: Any = backend
        for spec in backend.health_checks:

            def run(probe: Probe, name: str = spec.name) -> Awaitable[list[Finding]]:
                return plugin.run_health_check(name, probe)  # type: ignore[no-any-return]

            checks.append((spec.name, run))
    return [(n, fn) for n, fn in checks if only is None or n in only]


async def _guarded(name: str, probe: Probe, fn: CheckFn) -> list[Finding]:
    """A check that fails says so as UNKNOWN; it never takes the others down."""
    try:
        found = await fn(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, name)]
    return found or [probe.unknown(name, "the check reported nothing", name)]


async def _diagnose(
    session: Session,
    backend: Backend,
    settings: DoctorSettings,
    only: set[str] | None,
    shared: dict[Any, asyncio.Task[Any]],
) -> list[Finding]:
    probe = Probe(session, backend, settings, shared)
    reachable = await general.check_reachable(probe)
    checks = _backend_checks(backend, only)
    if reachable[0].severity is not Severity.OK:
        if checks:
            reachable.append(
                probe.finding(
                    "checks",
                    Severity.UNKNOWN,
                    f"{len(checks)} check(s) not run: the broker is unreachable",
                    [", ".join(n for n, _ in checks)],
                    "fix the connection first (see the reachable finding)",
                )
            )
        return reachable
    results = await asyncio.gather(*(_guarded(n, probe, fn) for n, fn in checks))
    found = [f for batch in results for f in batch]
    if only is None or "reachable" in only:
        found = reachable + found
    return found


async def diagnose(
    session: Session, *, checks: set[str] | None = None, interval: float | None = None
) -> list[Finding]:
    """The findings of the checklist on every broker of the session's context."""
    settings = settings_for(session, interval)
    shared: dict[Any, asyncio.Task[Any]] = {}
    backends = session.backends()
    try:
        batches = await asyncio.gather(
            *(_diagnose(session, b, settings, checks, shared) for b in backends)
        )
    finally:
        for task in shared.values():
            task.cancel()
    return ordered([f for batch in batches for f in batch])
