"""Dead-letter queues for both views: list, inspect (read-only) and redrive.

Reading goes through the shared safe peek (:func:`mqctl.services.messages.peek`), so
``inspect`` and ``--dry-run`` never consume, ack or commit. Redrive is done by the backend's
:class:`~mqctl.backend.DeadLetterSupport`, driven by the broker-neutral planner and control
from :mod:`mqctl.dlq`. Every redrive appends an audit record (:mod:`mqctl.audit`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from mqctl.backend import DeadLetterSupport, require
from mqctl.dlq.engine import ProgressCallback, RedriveControl
from mqctl.dlq.grouping import check_group_by, group, sample, top_reasons
from mqctl.dlq.metadata import parse
from mqctl.dlq.models import (
    Candidate,
    DeadLetterQueue,
    InspectedMessage,
    InspectReport,
    RedriveSummary,
)
from mqctl.dlq.plan import Filters, Planner, RedriveOptions
from mqctl.errors import MqctlError
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message, PeekOptions, StartPosition
from mqctl.session import Session

LIST_SAMPLE = 50
DRY_RUN_SAMPLES = 5
UNLIMITED = 2**31 - 1


async def _read(
    session: Session, destination: Destination, max_messages: int, *, allow_requeue: bool
) -> list[Message]:
    from mqctl.services.messages import peek

    options = PeekOptions(
        max_messages=max_messages,
        start=StartPosition("beginning"),
        allow_requeue=allow_requeue,
        idle_timeout=1.0,
    )
    found: list[Message] = []
    stream = peek(session, destination, options)
    try:
        async for message in stream:
            found.append(message)
            if len(found) >= max_messages:
                break
    finally:
        close = getattr(stream, "aclose", None)  # an async generator: let it clean up now
        if close is not None:
            await close()
    return found


async def _resolve(session: Session, name: str) -> tuple[Destination, Any]:
    from mqctl.services.inventory import resolve

    destination = await resolve(session, name)
    backend = session.backend(destination.backend)
    support = require(backend, DeadLetterSupport, "dead-letter queues")
    return destination, support


# --------------------------------------------------------------------------------------- list


async def list_dlqs(session: Session, *, sample_size: int = LIST_SAMPLE) -> list[DeadLetterQueue]:
    """Every DLQ on the context's brokers, with depth, sources, oldest age and top reasons."""
    found = session.backends_with(DeadLetterSupport, "listing dead-letter queues")
    patterns = tuple(session.context.dlq_patterns)
    batches = await asyncio.gather(*(s.discover_dead_letters(patterns) for _, s in found))
    candidates = [c for batch in batches for c in batch]
    limiter = asyncio.Semaphore(4)

    async def describe(candidate: Candidate) -> DeadLetterQueue:
        async with limiter:
            return await _describe(session, candidate, sample_size)

    return list(await asyncio.gather(*(describe(c) for c in candidates)))


async def _describe(session: Session, c: Candidate, sample_size: int) -> DeadLetterQueue:
    note = None
    messages = c.sample
    if messages is None:
        messages = []
        if c.queue_type == "quorum":
            # Returning a peeked message to a quorum queue counts as a delivery.
            note = "quorum queue: not sampled (use dlq inspect --allow-requeue)"
        else:  # sampled even at depth 0: the management API's counts lag by seconds
            destination = Destination(c.backend, c.kind, c.name, c.vhost)
            try:
                messages = await _read(session, destination, sample_size, allow_requeue=False)
            except MqctlError as exc:
                note = f"not sampled: {exc}"
    infos = [parse(m) for m in messages]
    sources = list(c.sources)
    for info in infos:
        name = info.source_name
        if name and name not in sources:
            sources.append(name)
    times = [
        t
        for t in ((i.first_failure or m.timestamp) for i, m in zip(infos, messages, strict=True))
        if t
    ]
    oldest = (datetime.now(UTC) - min(times)).total_seconds() if times else None
    return DeadLetterQueue(
        backend=c.backend,
        name=c.name,
        vhost=c.vhost,
        kind=c.kind,
        depth=c.depth,
        sources=sources,
        detected_by=list(c.detected_by),
        oldest_age_seconds=None if oldest is None else round(max(oldest, 0.0), 1),
        top_reasons=top_reasons(infos),
        sampled=len(messages),
        queue_type=c.queue_type,
        note=note,
    )


# ------------------------------------------------------------------------------------ inspect


async def inspect(
    session: Session,
    name: str,
    *,
    group_by: str = "reason",
    max_messages: int = 500,
    filters: Filters | None = None,
    allow_requeue: bool = False,
    samples: int = 3,
) -> InspectReport:
    """Read up to ``max_messages`` (safe peek), parse their metadata and group them."""
    group_by = check_group_by(group_by)
    destination, _ = await _resolve(session, name)
    messages = await _read(session, destination, max_messages, allow_requeue=allow_requeue)
    items = [InspectedMessage(m, parse(m)) for m in messages]
    if filters is not None and not filters.empty:
        items = [i for i in items if filters.matches(i.message, i.info)]
    formats: dict[str, int] = {}
    for item in items:
        for fmt in item.info.formats or ["none"]:
            formats[fmt] = formats.get(fmt, 0) + 1
    return InspectReport(
        backend=destination.backend,
        dlq=destination.qualified,
        group_by=group_by,
        examined=len(items),
        formats=formats,
        groups=group(items, group_by, samples),
    )


# ------------------------------------------------------------------------------------ redrive


def _planner(session: Session, destination: Destination, options: RedriveOptions) -> Planner:
    return Planner(
        destination.backend, destination.name, options, tuple(session.context.dlq_patterns)
    )


async def plan(session: Session, name: str, options: RedriveOptions) -> RedriveSummary:
    """``--dry-run``: what a redrive would do, computed from a safe peek; changes nothing.

    On Kafka the plan covers the retained log from its beginning (a previous partial
    redrive's committed position is not taken into account)."""
    destination, _ = await _resolve(session, name)
    planner = _planner(session, destination, options)
    summary = RedriveSummary(destination.backend, destination.qualified, dry_run=True)
    control = RedriveControl(summary)
    for message in await _read(session, destination, UNLIMITED, allow_requeue=False):
        decision = planner.decide(message)
        if decision.action == "stop":
            control.stopped_early(f"--limit {options.limit} reached")
            break
        control.examined()
        if decision.action == "skip":
            control.skipped(decision.reason or "skipped")
        else:
            assert decision.target is not None
            control.moved(decision.target)
            if len(summary.samples) < DRY_RUN_SAMPLES:
                summary.samples.append(sample(InspectedMessage(message, decision.info)))
    return control.finish()


async def redrive(
    session: Session,
    name: str,
    options: RedriveOptions,
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    window: int = 1000,
    expected: int | None = None,
) -> RedriveSummary:
    """Move messages back (at least once); the summary says what moved, skipped, failed.

    ``expected``: how many messages a plan shown just before examined (a hint for queues
    whose ready count is briefly low while that plan's peek returns its messages)."""
    session.check_writable("dlq redrive")
    destination, support = await _resolve(session, name)
    planner = _planner(session, destination, options)
    summary = RedriveSummary(destination.backend, destination.qualified, dry_run=False)
    control = RedriveControl(
        summary, rate=options.rate, progress=progress, stop=stop, window=window, total=expected
    )
    try:
        await support.redrive_dead_letters(destination, planner, control)
    except BaseException as exc:
        control.finish()
        _audit(
            session, destination, options, summary, "failed", error=str(exc) or type(exc).__name__
        )
        raise
    control.finish()
    outcome = "interrupted" if summary.interrupted else "partial" if summary.failed else "ok"
    _audit(session, destination, options, summary, outcome)
    return summary


def _audit(
    session: Session,
    destination: Destination,
    options: RedriveOptions,
    summary: RedriveSummary,
    outcome: str,
    error: str | None = None,
) -> None:
    from mqctl import audit

    f = options.filters
    details: dict[str, Any] = {
        "to": options.to,
        "via_exchange": options.via_exchange,
        "limit": options.limit,
        "max_redrives": options.max_redrives,
        "rate": options.rate,
        "reset_headers": [n for n, _ in options.reset_headers],
        "filters": {
            "reason": f.reasons,
            "exception": f.exceptions,
            "source": f.sources,
            "header": [f"{n}={v}" for n, v in f.headers],
            "key": f.keys,
            "body": [p.pattern.decode("utf-8", "replace") for p in f.bodies],
            "since": f.since.isoformat() if f.since else None,
            "until": f.until.isoformat() if f.until else None,
        },
        "by_destination": summary.by_destination,
        "skipped": summary.skipped,
    }
    if error:
        details["error"] = error
    audit.log_action(
        session,
        action="dlq redrive",
        target=destination.qualified,
        counts={
            "examined": summary.examined,
            "moved": summary.moved,
            "skipped": sum(summary.skipped.values()),
            "failed": summary.failed,
        },
        outcome=outcome,
        details=details,
    )
