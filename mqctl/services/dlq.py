"""Dead-letter queues for both views: list, inspect (read-only) and redrive.

Reading goes through the shared safe peek (:func:`mqctl.services.messages.peek`), so
``inspect`` and ``--dry-run`` never consume, ack or commit. Redrive is done by the backend's
:class:`~mqctl.backend.DeadLetterSupport`, driven by the broker-neutral planner and control
from :mod:`mqctl.dlq`. Every redrive appends an audit record (:mod:`mqctl.audit`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from mqctl.audit import Action, Confirm, Outcome, audited, target_name
from mqctl.backend import DeadLetterSupport, require
from mqctl.dlq.engine import ProgressCallback, RedriveControl
from mqctl.dlq.grouping import check_group_by, group, top_reasons
from mqctl.dlq.metadata import parse
from mqctl.dlq.models import (
    Candidate,
    DeadLetterQueue,
    InspectedMessage,
    InspectReport,
    RedriveSummary,
)
from mqctl.dlq.plan import (
    SKIP_FILTERED,
    SKIP_LOOP_GUARD,
    SKIP_NO_DESTINATION,
    SKIP_NO_ENVELOPE,
    SKIP_SELF,
    Filters,
    Planner,
    RedriveOptions,
    Target,
)
from mqctl.dlq.planning import (
    SKIP_ALREADY,
    SKIP_LIMIT,
    ChecksRedrive,
    PlanBuilder,
    PlansRedrive,
    target_key,
)
from mqctl.errors import MqctlError, NotFoundError, UsageError
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


async def _resolve(
    session: Session, name: str, vhost: str | None = None
) -> tuple[Destination, Any]:
    """``vhost``: RabbitMQ's vhost to look in (default: the context's)."""
    from mqctl.services.inventory import resolve

    destination = await resolve(session, name, vhost=vhost)
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
    vhost: str | None = None,
) -> InspectReport:
    """Read up to ``max_messages`` (safe peek), parse their metadata and group them."""
    group_by = check_group_by(group_by)
    destination, _ = await _resolve(session, name, vhost)
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


def planner_for(session: Session, destination: Destination, options: RedriveOptions) -> Planner:
    return Planner(
        destination.backend, destination.name, options, tuple(session.context.dlq_patterns)
    )


def _to_target(destination: Destination, options: RedriveOptions) -> Target | None:
    to = options.to
    if not to or destination.backend == "kafka":
        return None  # Kafka checks --to from the metadata its plan reads anyway
    if to.startswith("exchange:"):
        return Target("exchange", to[len("exchange:") :])
    return Target("queue", to, routing_key=to)


async def _check(support: Any, destination: Destination, options: RedriveOptions) -> None:
    """What a plan and a run refuse alike: a DLQ that cannot be redriven (a stream, exit 2)
    and a ``--to`` destination that does not exist (exit 4)."""
    if not isinstance(support, ChecksRedrive):
        return
    to = _to_target(destination, options)
    missing = await support.check_redrive(destination, [to] if to else [])
    error = missing.get(target_key(to)) if to else None
    if error is not None:
        raise NotFoundError(f"--to: {error}; nothing moved", hint="create it first")


async def plan(
    session: Session,
    name: str,
    options: RedriveOptions,
    *,
    engine: str = "client",
    vhost: str | None = None,
) -> RedriveSummary:
    """``--dry-run``: exactly what a redrive started now would do (the same planning code as
    the run, the same checks and refusals); changes nothing."""
    session.check_writable("dlq redrive")
    destination, support = await _resolve(session, name, vhost)
    planner = planner_for(session, destination, options)
    summary = RedriveSummary(destination.backend, destination.qualified, dry_run=True)
    started = time.monotonic()
    await _check(support, destination, options)
    if engine == "shovel":
        server, target = await _server_side(session, destination, support, options)
        await server.plan_server_side(destination, target, options.limit, summary)
    elif isinstance(support, PlansRedrive):
        await support.plan_redrive(destination, planner, summary)
    else:
        builder = PlanBuilder(planner, summary)
        messages = await _read(session, destination, UNLIMITED, allow_requeue=False)
        for position, message in enumerate(messages):
            builder.add(message, position, position)
        missing = {}
        if isinstance(support, ChecksRedrive):
            missing = await support.check_redrive(destination, builder.targets())
        builder.finish(missing)
    summary.duration_seconds = round(time.monotonic() - started, 3)
    return summary


async def redrive(
    session: Session,
    name: str,
    options: RedriveOptions,
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    window: int = 1000,
    expected: int | None = None,
    shown: RedriveSummary | None = None,
    confirm: Confirm[RedriveSummary] | None = None,
    engine: str = "client",
    vhost: str | None = None,
) -> RedriveSummary:
    """Move messages back (at least once); the summary says what moved, skipped, failed,
    and (``plan_differs``) why the result differs from the plan. Audited, whatever happens
    (refused, declined, failed, partial, interrupted, ok).

    ``confirm``: the view's question, asked with the plan (the dry run) before anything
    moves; the run is then compared with that plan. ``shown``: a plan the user confirmed
    earlier (the TUI). ``expected``: how many messages that plan examined (a hint for queues
    whose ready count is briefly low while that plan's peek returns its messages)."""
    with audited(session, "dlq redrive", name) as act:
        session.check_writable("dlq redrive")
        destination, support = await _resolve(session, name, vhost)
        act.target = target_name(destination.backend, destination.kind, destination.name)
        act.details.update(_options_details(options))
        act.details["engine"] = engine
        if destination.vhost is not None:
            act.details["vhost"] = destination.vhost
        await _check(support, destination, options)
        if confirm is not None:
            shown = await plan(session, name, options, engine=engine, vhost=vhost)
            await confirm(shown)
        summary = RedriveSummary(destination.backend, destination.qualified, dry_run=False)
        summary.unwrap = options.unwrap
        if expected is None and shown is not None:
            expected = shown.examined
        control = RedriveControl(
            summary, rate=options.rate, progress=progress, stop=stop, window=window, total=expected
        )
        try:
            if engine == "shovel":
                server, target = await _server_side(session, destination, support, options)
                mark = options.max_redrives > 0
                await server.redrive_server_side(
                    destination, target, options.limit, control, mark_copies=mark
                )
            else:
                await support.redrive_dead_letters(
                    destination, planner_for(session, destination, options), control
                )
        finally:
            control.finish()
            _record(act, summary)
        compare_with_plan(summary, shown)
        _record(act, summary)
        if summary.interrupted:
            act.outcome = Outcome.interrupted
        elif summary.failed or summary.plan_differs or summary.errors:
            act.outcome = Outcome.partial
        return summary


async def _server_side(
    session: Session, destination: Destination, support: Any, options: RedriveOptions
) -> tuple[Any, Target]:
    """The backend's in-broker engine and the one destination of a plain move; refuses
    what it cannot honour (mqctl.dlq.server_side), the loop guard checked on a sample."""
    from mqctl.dlq import server_side

    if not isinstance(support, server_side.RedrivesServerSide):
        raise UsageError(
            f"--engine shovel: {destination.backend} has no in-broker engine (RabbitMQ only)"
        )
    target = server_side.plain_move_target(options)
    if options.max_redrives:
        try:
            sample = await _read(
                session, destination, server_side.LOOP_GUARD_SAMPLE, allow_requeue=False
            )
        except MqctlError as exc:
            raise UsageError(
                f"--engine shovel: cannot check the loop guard on {destination.name!r} "
                f"({exc.message})",
                hint="--max-redrives 0 moves without that check; or drop --engine shovel",
            ) from None
        refusal = server_side.loop_guard_refusal(sample, options.max_redrives)
        if refusal is not None:
            raise refusal
    return support, target


def compare_with_plan(summary: RedriveSummary, shown: RedriveSummary | None) -> None:
    """Set ``plan_differs`` when the run did not do what its plan (or the plan shown to the
    user) said; an interrupted run says so on its own."""
    reasons = []
    if summary.planned is None and shown is not None:
        summary.planned = shown.moved
    elif shown is not None and summary.planned != shown.moved:
        reasons.append(
            f"the DLQ changed after the plan was shown ({shown.moved} to move then, "
            f"{summary.planned} when the run started)"
        )
    if summary.planned is not None and summary.moved != summary.planned and not summary.interrupted:
        why = [f"the plan said {summary.planned} to move, {summary.moved} moved"]
        if summary.failed:
            why.append(f"{summary.failed} failed")
        for reason, n in summary.skipped.items():
            if reason not in _PLANNED_SKIPS:
                why.append(f"{n} {reason}")
        if summary.stopped_early:
            why.append(summary.stopped_early)
        reasons.append(": ".join([why[0], ", ".join(why[1:])]) if len(why) > 1 else why[0])
    summary.plan_differs = "; ".join(reasons) or None


_PLANNED_SKIPS = {SKIP_FILTERED, SKIP_LOOP_GUARD, SKIP_NO_DESTINATION, SKIP_SELF, SKIP_LIMIT}
_PLANNED_SKIPS |= {SKIP_ALREADY, SKIP_NO_ENVELOPE}


def _options_details(options: RedriveOptions) -> dict[str, Any]:
    f = options.filters
    return {
        "to": options.to,
        "via_exchange": options.via_exchange,
        "limit": options.limit,
        "max_redrives": options.max_redrives,
        "rate": options.rate,
        "unwrap": options.unwrap,
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
    }


def _record(act: Action, summary: RedriveSummary) -> None:
    """The run's real counts and outcome details on the audit record."""
    act.counts.update(
        examined=summary.examined,
        moved=summary.moved,
        skipped=sum(summary.skipped.values()),
        failed=summary.failed,
    )
    act.details.update(
        planned=summary.planned,
        plan_differs=summary.plan_differs,
        already_redriven=summary.already_redriven,
        by_destination=summary.by_destination,
        skipped=summary.skipped,
    )
