"""One planning pass for ``--dry-run`` and for the run itself (docs/dlq.md, "The plan").

Backends feed the messages of a DLQ in the order a run takes them, each with whether the
redrive ledger records it as already redriven; :class:`PlanBuilder` decides each with the
:class:`~mqctl.dlq.plan.Planner`, counts per reason/source, applies ``--limit`` in the run's
order, and fails messages whose destination does not exist, exactly as the run would. The
result is the summary a dry run prints and the selection a Kafka run moves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mqctl.dlq.engine import MAX_ERRORS_KEPT
from mqctl.dlq.grouping import UNKNOWN, sample
from mqctl.dlq.models import (
    InspectedMessage,
    MessageSample,
    PlanRow,
    RedriveStatus,
    RedriveSummary,
)
from mqctl.dlq.plan import SKIP_FILTERED, SKIP_LOOP_GUARD, Planner, Target
from mqctl.models.messages import Message

if TYPE_CHECKING:
    from mqctl.models.inventory import Destination

SKIP_ALREADY = "already-redriven"
SKIP_LIMIT = "limit"
SAMPLES = 5


@dataclass(slots=True)
class _Move:
    order: Any
    ident: Hashable
    row: PlanRow
    target: Target
    sample: MessageSample | None


def target_key(target: Target) -> tuple[str, str]:
    return (target.kind, target.name)


class PlanBuilder:
    """Feed :meth:`add` every message, then :meth:`finish` with the destinations that are
    missing (checked by the backend for :meth:`targets`)."""

    def __init__(self, planner: Planner, summary: RedriveSummary, samples: int = SAMPLES) -> None:
        self.planner = planner
        self.summary = summary
        self.samples = samples
        self.moves: list[_Move] = []
        self.rows: dict[tuple[str, str], PlanRow] = {}
        summary.unwrap = planner.options.unwrap

    def _row(self, reason: str | None, source: str | None) -> PlanRow:
        key = (reason or UNKNOWN, source or UNKNOWN)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = PlanRow(*key)
        return row

    def _skip(self, reason: str) -> None:
        self.summary.skipped[reason] = self.summary.skipped.get(reason, 0) + 1

    def add(self, message: Message, ident: Hashable, order: Any, already: bool = False) -> None:
        decision = self.planner.decide(message, apply_limit=False, explain=True)
        self.summary.examined += 1
        if decision.reason == SKIP_FILTERED:
            self._skip(SKIP_FILTERED)
            return
        info = decision.info  # per topic/queue, not per partition: rows stay few
        row = self._row(info.reason, info.source_name or info.source)
        row.matched += 1
        if already:
            row.already_redriven += 1
            self.summary.already_redriven += 1
            self._skip(SKIP_ALREADY)
        elif decision.action == "skip":
            if decision.reason == SKIP_LOOP_GUARD:
                row.loop_guard += 1
            else:
                row.left += 1
            self._skip(decision.reason or "skipped")
        else:
            assert decision.target is not None and decision.outgoing is not None
            shown = None
            if len(self.moves) < self.samples:
                copy = dataclasses.replace(message, value=decision.outgoing.value)
                shown = sample(InspectedMessage(copy, decision.info))
            self.moves.append(_Move(order, ident, row, decision.target, shown))

    def targets(self) -> list[Target]:
        """The distinct destinations of the messages to move (to check before finishing)."""
        found: dict[tuple[str, str], Target] = {}
        for move in self.moves:
            found.setdefault(target_key(move.target), move.target)
        return list(found.values())

    def finish(self, missing: dict[tuple[str, str], str | None] | None = None) -> set[Hashable]:
        """Apply ``--limit`` in the run's order and the missing destinations; returns the
        identities of the messages to move."""
        summary, limit = self.summary, self.planner.options.limit
        missing = missing or {}
        selection: set[Hashable] = set()
        self.moves.sort(key=lambda m: m.order)
        for index, move in enumerate(self.moves):
            if limit is not None and index >= limit:
                move.row.left += 1
                self._skip(SKIP_LIMIT)
                summary.stopped_early = summary.stopped_early or f"--limit {limit} reached"
                continue
            error = missing.get(target_key(move.target))
            if error is not None:
                move.row.left += 1
                summary.failed += 1
                if len(summary.errors) < MAX_ERRORS_KEPT and error not in summary.errors:
                    summary.errors.append(error)
                continue
            move.row.to_move += 1
            summary.moved += 1
            label = move.target.label
            summary.by_destination[label] = summary.by_destination.get(label, 0) + 1
            selection.add(move.ident)
        summary.samples = [m.sample for m in self.moves if m.sample and m.ident in selection]
        summary.rows = sorted(self.rows.values(), key=lambda r: (-r.matched, r.reason, r.source))
        self.moves = []
        return selection


def plan_messages(
    planner: Planner,
    summary: RedriveSummary,
    messages: Iterable[Message],
    missing: dict[tuple[str, str], str | None] | None = None,
) -> set[Hashable]:
    """A plan over messages in queue order (RabbitMQ and plugins: nothing is ledgered)."""
    builder = PlanBuilder(planner, summary)
    for position, message in enumerate(messages):
        builder.add(message, position, position)
    return builder.finish(missing)


def carry_plan(plan: RedriveSummary, run: RedriveSummary) -> None:
    """A run's summary starts from its plan: what was examined, skipped, ledgered, failed
    for a missing destination; the run then adds what it moved and what failed."""
    run.examined = plan.examined
    run.skipped = dict(plan.skipped)
    run.already_redriven = plan.already_redriven
    run.rows = plan.rows
    run.failed = plan.failed
    run.errors = list(plan.errors)
    run.stopped_early = plan.stopped_early
    run.planned = plan.moved
    run.unwrap = plan.unwrap


@runtime_checkable
class PlansRedrive(Protocol):
    """A backend that plans from more than a peek (Kafka: the DLQ log and its ledger)."""

    async def plan_redrive(
        self, dlq: Destination, planner: Planner, summary: RedriveSummary
    ) -> None: ...


@runtime_checkable
class ChecksRedrive(Protocol):
    """A backend that checks a DLQ and destinations before a plan or a run: a DLQ that
    cannot be redriven is a UsageError; returns why each target cannot take messages
    (``None``: it can)."""

    async def check_redrive(
        self, dlq: Destination, targets: list[Target]
    ) -> dict[tuple[str, str], str | None]: ...


@runtime_checkable
class KeepsRedriveLedger(Protocol):
    """A backend that records redriven messages (Kafka): ``dlq status`` asks it."""

    async def redrive_status(self, dlq: Destination, summary: RedriveStatus) -> None: ...
