"""Lag across every broker of the context: snapshots, windows of samples, watch loops.

Every backend that implements :class:`~mqctl.backend.LagSource` contributes (Kafka groups and
RabbitMQ queues in one list); statuses are then set by the broker-neutral rules in
:mod:`mqctl.lag.status`, so the same backlog reads the same whatever the broker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from mqctl.backend import Backend, LagSource, QueueCatalog
from mqctl.dlq.discovery import is_dlq_name
from mqctl.errors import BrokerTimeout, ConnectError, MqctlError, NotFoundError, UsageError
from mqctl.lag.estimate import OffsetHistory
from mqctl.lag.status import apply_snapshot_status, evaluate_window
from mqctl.models.lag import LagEntry, LagStatus
from mqctl.session import Session


def split_prefix(name: str) -> tuple[str | None, str]:
    """:func:`mqctl.services.inventory.split_prefix`, imported when first needed: that module
    brings the inventory models, which a lag run does not use (docs/benchmarks.md, "Start-up")."""
    from mqctl.services.inventory import split_prefix as split

    return split(name)


Sample = tuple[float, list[LagEntry]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LagQuery:
    groups: tuple[str, ...] | None = None  # None: every group and queue
    topic: str | None = None
    threshold: int = 0  # lag above this with consumers present is LAGGING
    include_dlq: bool = False  # the all-groups view leaves dead-letter queues/topics out


def is_dlq(backend: str, name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a queue or topic is a dead-letter destination by naming convention or by the
    context's ``dlq-patterns`` (the same test ``mqctl dlq list`` uses)."""
    return is_dlq_name(name, backend, patterns)


def without_dlq(
    entries: list[LagEntry], patterns: tuple[str, ...], keep: frozenset[str] = frozenset()
) -> list[LagEntry]:
    """Drop dead-letter queues, and the partitions of dead-letter topics from groups (a
    group left with none is dropped). DLQs have no consumers by design: in the lag view they
    would only read STOPPED. Names in ``keep`` were asked for and stay."""
    verdicts: dict[tuple[str, str], bool] = {}  # thousands of partitions, a few topics

    def dead(backend: str, name: str) -> bool:
        found = verdicts.get((backend, name))
        if found is None:
            found = name not in keep and is_dlq(backend, name, patterns)
            verdicts[(backend, name)] = found
        return found

    kept: list[LagEntry] = []
    for entry in entries:
        if entry.kind != "group":
            if not dead(entry.backend, entry.group):
                kept.append(entry)
            continue
        topics = {p.topic for p in entry.partitions}  # a few topics for thousands of rows
        if not any(dead(entry.backend, topic) for topic in topics):
            kept.append(entry)
            continue
        parts = [p for p in entry.partitions if not dead(entry.backend, p.topic)]
        if len(parts) == len(entry.partitions):
            kept.append(entry)
        elif parts:
            time_lags = [p.time_lag_seconds for p in parts if p.time_lag_seconds is not None]
            kept.append(
                dataclasses.replace(
                    entry,
                    partitions=parts,
                    total_lag=sum(p.lag for p in parts),
                    total_records_lost=sum(p.records_lost for p in parts),
                    max_time_lag_seconds=max(time_lags) if time_lags else None,
                    topics=sorted({p.topic for p in parts}),
                )
            )
    return kept


def _sources(session: Session) -> list[tuple[Backend, LagSource]]:
    return [(b, s) for b, s in session.backends_with(LagSource, "showing lag")]


def lag_backends(session: Session) -> list[str]:
    """The names of the brokers whose lag is sampled (each gets its own `up` metric)."""
    return [b.name for b, _ in _sources(session)]


UNREACHABLE_KIND = "backend"  # the kind of the row standing for a broker that was not sampled


def unreachable_entry(backend: str, error: ConnectError, name: str = "*") -> LagEntry:
    """The row of a broker (or of a name asked of it) that could not be sampled: UNKNOWN,
    with the reason. Its figures are not known, so nothing about it can read OK."""
    return LagEntry(
        backend=backend,
        kind=UNREACHABLE_KIND,
        group=name,
        status=LagStatus.UNKNOWN,
        total_lag=0,
        max_time_lag_seconds=None,
        state="unreachable",
        error=error.message,
    )


def unreachable(entries: list[LagEntry]) -> list[LagEntry]:
    """The rows of brokers that could not be sampled (see :func:`unreachable_entry`)."""
    return [e for e in entries if e.kind == UNREACHABLE_KIND]


# A backend's whole sample may take a few of its requests' timeouts; past this many, it is
# reported unreachable so that it can never hold back the other brokers' rows.
SAMPLE_DEADLINE_TIMEOUTS = 3


async def _bounded(name: str, call: Awaitable[_T], request_timeout: float) -> _T:
    deadline = max(5.0, request_timeout * SAMPLE_DEADLINE_TIMEOUTS)
    try:
        return await asyncio.wait_for(call, deadline)
    except TimeoutError:
        raise BrokerTimeout(f"{name} did not answer a lag sample within {deadline:g}s") from None


async def _each_backend(
    calls: list[tuple[str, Awaitable[_T]]], request_timeout: float, *, lenient: bool = False
) -> list[tuple[str, _T | ConnectError]]:
    """Await every backend's call concurrently, each within its own deadline; a broker that
    cannot be reached gives its ConnectError instead of a result, so the others' rows still
    come (partial outages). ``lenient`` (a watch that has sampled before): any broker error
    but bad input counts as "could not be sampled" — a node going down answers 404 for its
    vhost or 5xx for a while, which must not end the watch. When every broker failed, the
    first failure is raised: nothing could be sampled."""
    results = await asyncio.gather(
        *(_bounded(name, call, request_timeout) for name, call in calls),
        return_exceptions=True,
    )
    out: list[tuple[str, _T | ConnectError]] = []
    for (name, _), result in zip(calls, results, strict=True):
        if isinstance(result, ConnectError):
            out.append((name, result))
        elif lenient and isinstance(result, MqctlError) and not isinstance(result, UsageError):
            out.append((name, ConnectError(result.message, hint=result.hint)))
        elif isinstance(result, BaseException):
            raise result
        else:
            out.append((name, result))
    failed = {name: r for name, r in out if isinstance(r, ConnectError)}
    if out and len(failed) == len(out):
        raise NothingAnswered(failed)
    return out


class NothingAnswered(ConnectError):
    """No broker of the context could be sampled: the first one's error (exit 3), with
    every broker's own reason in ``failures``."""

    def __init__(self, failures: dict[str, ConnectError]) -> None:
        first = next(iter(failures.values()))
        super().__init__(first.message, hint=first.hint)
        self.exit_code = first.exit_code
        self.failures = failures


async def _names_on(
    source: LagSource, names: list[str], topic: str | None
) -> tuple[list[LagEntry], set[str], list[NotFoundError]]:
    """Entries for the names this backend knows, which names it knows (a backend may raise
    NotFoundError or just return nothing for a name it does not have), and its errors."""
    errors: list[NotFoundError] = []
    try:
        entries = await source.lag(names, topic)
    except NotFoundError as exc:
        errors.append(exc)
        if len(names) == 1:
            return [], set(), errors
        # Some names are not on this broker: ask one by one to keep the ones that are.
        results = await asyncio.gather(
            *(source.lag([n], topic) for n in names), return_exceptions=True
        )
        entries = []
        for result in results:
            if isinstance(result, NotFoundError):
                errors.append(result)
                continue
            if isinstance(result, BaseException):
                raise result from None
            entries.extend(result)
    return entries, {e.group for e in entries}, errors


async def snapshot(
    session: Session,
    query: LagQuery,
    *,
    queue_brokers: bool = True,
    lenient: bool = False,
) -> list[LagEntry]:
    """One sample of every requested group/queue with snapshot statuses.

    ``lenient`` (watches after their first sample): a broker error or a named group/queue
    that is not found gives an UNKNOWN row with the reason instead of ending the command.

    ``queue_brokers=False`` leaves out the brokers that hold queues (QueueCatalog): their
    lag is each queue's depth, which a view listing the queues already shows (the TUI's
    queues panel); at thousands of queues this saves a listing and its processing."""
    sources = [
        (owner, source)
        for owner, source in _sources(session)
        if queue_brokers or not isinstance(owner, QueueCatalog)
    ]
    if query.groups is None:
        batches = await _each_backend(
            [(b.name, s.lag(None, query.topic)) for b, s in sources],
            session.timeout,
            lenient=lenient,
        )
        found: list[LagEntry] = []
        for name, batch in batches:
            found += [unreachable_entry(name, batch)] if isinstance(batch, ConnectError) else batch
        if not query.include_dlq:
            keep = frozenset([query.topic] if query.topic else [])
            found = without_dlq(found, tuple(session.context.dlq_patterns), keep)
        return apply_snapshot_status(found, query.threshold)
    wanted: dict[str, list[str]] = {b.name: [] for b, _ in sources}
    for raw in query.groups:
        backend, bare = split_prefix(raw)
        if not bare:
            raise UsageError("empty group name")
        if backend is not None and backend not in wanted:
            raise UsageError(f"lag: the {backend} backend of this context does not support it")
        for name in [backend] if backend else list(wanted):
            wanted[name].append(bare)
    asks = [(b, s, wanted[b.name]) for b, s in sources if wanted[b.name]]
    answers = await _each_backend(
        [(b.name, _names_on(s, n, query.topic)) for b, s, n in asks],
        session.timeout,
        lenient=lenient,
    )
    results: list[tuple[list[LagEntry], set[str], list[NotFoundError]]] = []
    down: dict[str, ConnectError] = {}
    for (_, _, names), (name, answer) in zip(asks, answers, strict=True):
        if isinstance(answer, ConnectError):
            down[name] = answer
            results.append(([unreachable_entry(name, answer, n) for n in names], set(), []))
        else:
            results.append(answer)
    entries = [e for batch, _, _ in results for e in batch]
    known = {f"{b.name}:{n}" for (b, _, _), (_, k, _) in zip(asks, results, strict=True) for n in k}
    errors = [err for _, _, errs in results for err in errs]
    missing = []
    for raw in query.groups:
        backend, bare = split_prefix(raw)
        names = [backend] if backend else list(wanted)
        if any(name in down for name in names):
            continue  # maybe on the broker that did not answer: UNKNOWN, not "not found"
        if not any(f"{name}:{bare}" in known for name in names):
            missing.append(raw)
    if missing and lenient:
        # gone mid-watch (deleted, or a restarting node's 404s): UNKNOWN, the watch goes on
        reason = errors[0] if errors else NotFoundError("not found")
        for raw in missing:
            backend, bare = split_prefix(raw)
            entries.append(unreachable_entry(backend or "*", ConnectError(reason.message), bare))
        missing = []
    if missing and len(errors) == 1:
        raise errors[0]  # the broker's own message says what is missing (group or topic)
    if missing:
        where = " or ".join(b.name for b, _, _ in asks)
        raise NotFoundError(
            f"no consumer group or queue named {', '.join(repr(m) for m in missing)} on {where}",
            hint="list them with `mqctl groups list` or `mqctl lag`",
        )
    return apply_snapshot_status(entries, query.threshold)


async def window(
    session: Session,
    query: LagQuery,
    seconds: float,
    interval: float,
    on_sample: Callable[[list[LagEntry]], Awaitable[None] | None] | None = None,
) -> list[LagEntry]:
    """Sample for ``seconds`` every ``interval`` and judge with Burrow's rules; the result
    also carries the interpolated time lag estimate (:mod:`mqctl.lag.estimate`)."""
    samples: list[Sample] = []
    history = OffsetHistory()
    started = time.monotonic()
    while True:
        if samples:
            entries = await _sample_or_unreachable(session, query)
        else:
            entries = await snapshot(session, query)  # nothing answers at all: exit 3
        at = time.monotonic()
        samples.append((at, entries))
        history.record(at, entries)
        if on_sample is not None:
            maybe = on_sample(entries)
            if maybe is not None:
                await maybe
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            break
        await asyncio.sleep(min(interval, max(0.0, seconds - elapsed)))
    result = evaluate_window(samples)
    history.fill(result)
    return result


async def watch(
    session: Session,
    query: LagQuery,
    interval: float,
    on_result: Callable[[list[LagEntry]], Awaitable[None] | None],
    *,
    span: float | None = None,
    count: int | None = None,
    on_error: Callable[[ConnectError], None] | None = None,
) -> None:
    """Sample forever (or ``count`` times); each result is judged over the samples of the
    last ``span`` seconds (default: 10 intervals) once two samples exist.

    Each broker is sampled on its own: one that cannot be reached gives an UNKNOWN row with
    the reason (:func:`unreachable_entry`) while the others' rows keep coming. When none
    answers, ``on_error`` is told (it may raise to end the watch, e.g. on the first sample)
    and, if it returns, the sample is the brokers' UNKNOWN rows; without ``on_error`` that
    failure is raised."""
    keep = span if span is not None else interval * 10
    samples: list[Sample] = []
    history = OffsetHistory()  # kept beyond the span: older commits can still be placed
    taken = 0
    while count is None or taken < count:
        try:
            entries = await snapshot(session, query, lenient=bool(samples))
        except ConnectError as exc:
            if on_error is None:
                raise
            on_error(exc)
            entries = _all_unreachable(session, query, exc)
        now = time.monotonic()
        samples.append((now, entries))
        history.record(now, entries)
        samples = [s for s in samples if now - s[0] <= keep + interval / 2] or samples[-1:]
        result = evaluate_window(samples) if len(samples) > 1 else entries
        history.fill(result)
        maybe = on_result(result)
        if maybe is not None:
            await maybe
        taken += 1
        if count is None or taken < count:
            await asyncio.sleep(interval)


def _all_unreachable(session: Session, query: LagQuery, exc: ConnectError) -> list[LagEntry]:
    """The sample when no broker answered: one UNKNOWN row per broker (or per asked name)."""
    rows = []
    for backend, _source in _sources(session):
        names: list[str] = []
        for raw in query.groups or ():
            prefix, bare = split_prefix(raw)
            if prefix in (None, backend.name):
                names.append(bare)
        reason = exc.failures.get(backend.name, exc) if isinstance(exc, NothingAnswered) else exc
        rows += [unreachable_entry(backend.name, reason, n) for n in names or ["*"]]
    return rows


async def _sample_or_unreachable(session: Session, query: LagQuery) -> list[LagEntry]:
    try:
        return await snapshot(session, query, lenient=True)
    except ConnectError as exc:
        return _all_unreachable(session, query, exc)
