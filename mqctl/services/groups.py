"""Consumer group administration: list, describe, delete, offsets reset (plan, execute).

Deleting a group and applying an offsets reset are writes: audited here (one record each,
with the real outcome), after the view's ``confirm`` callback (:data:`mqctl.audit.Confirm`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mqctl.audit import Action, Confirm, audited, target_name
from mqctl.backend import GroupAdmin
from mqctl.errors import UsageError
from mqctl.lag.model import GroupDetail, GroupSummary, OffsetResetPlan, ResetSpec
from mqctl.lag.parsing import read_plan_csv, write_plan_csv
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


def _admin(session: Session, name: str, what: str) -> tuple[str, GroupAdmin, str]:
    """The broker's name, its group admin and the bare group name."""
    backend_name, bare = split_prefix(name)
    backend, admin = session.backend_for(GroupAdmin, what, backend=backend_name)
    return backend.name, admin, bare


async def list_groups(session: Session) -> list[GroupSummary]:
    found = session.backends_with(GroupAdmin, "listing consumer groups")
    batches = await asyncio.gather(*(admin.list_groups() for _, admin in found))
    return [g for batch in batches for g in batch]


async def describe_group(session: Session, group: str) -> GroupDetail:
    _, admin, bare = _admin(session, group, "describing consumer groups")
    return await admin.describe_group(bare)


async def delete_group(
    session: Session, group: str, *, confirm: Confirm[str] | None = None
) -> None:
    """Delete a group and its committed offsets, after ``confirm(bare group name)``."""
    with audited(session, "group delete", group) as act:
        session.check_writable(f"deleting consumer group {group!r}")
        broker, admin, bare = _admin(session, group, "deleting consumer groups")
        act.target = target_name(broker, "group", bare)
        if confirm is not None:
            await confirm(bare)
        await admin.delete_group(bare)
        act.counts["groups"] = 1


def duration_spec_value(seconds: float) -> int:
    """``--by-duration``: the epoch ms that lies ``seconds`` in the past."""
    from mqctl.lag.parsing import checked_epoch_ms

    when = int((time.time() - seconds) * 1000)
    return checked_epoch_ms(when, f"--by-duration of {seconds / 86400:,.0f} days")


def read_plan_file(path: str) -> tuple[tuple[str, int, int], ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"plan file {path}: not UTF-8 text (byte {exc.start})") from None
    return read_plan_csv(text, path)


def export_plan(plan: OffsetResetPlan, path: str) -> None:
    rows = [(r.topic, r.partition, r.new_offset) for r in plan.rows]
    try:
        Path(path).write_text(write_plan_csv(rows), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write plan file {path}: {exc.strerror or exc}") from None


async def reset_offsets(
    session: Session,
    group: str,
    spec: ResetSpec,
    *,
    execute: bool,
    confirm: Confirm[OffsetResetPlan] | None = None,
    allow_new_group: bool = False,
) -> OffsetResetPlan:
    """Compute the plan; with ``execute``, apply it after ``confirm(plan)`` (audited). The
    plan alone changes nothing and is not audited. A group that does not exist is only
    created with ``allow_new_group`` (:func:`refuse_new_group`)."""
    if not execute:
        _, admin, bare = _admin(session, group, "resetting consumer group offsets")
        return await admin.plan_offsets_reset(bare, spec)
    with audited(session, "offsets reset", group) as act:
        session.check_writable(f"resetting offsets of group {group!r}")
        broker, admin, bare = _admin(session, group, "resetting consumer group offsets")
        act.target = target_name(broker, "group", bare)
        plan = await admin.plan_offsets_reset(bare, spec)
        _describe(act, plan)
        refuse_new_group(plan, allow_new_group)
        if confirm is not None:
            await confirm(plan)
        await admin.apply_offsets_reset(plan)
        act.counts["partitions"] = len(plan.rows)
        return plan


def refuse_new_group(plan: OffsetResetPlan, allow_new_group: bool) -> None:
    """A reset for a group that does not exist is most often a typo: refused (exit 2)
    unless the caller says it means to create the group."""
    if plan.new_group and not allow_new_group:
        raise UsageError(
            f"group {plan.group!r} does not exist (no committed offsets, no members): "
            "refusing to create it with a reset",
            hint="check the name with `mqctl groups list`; add --allow-new-group to create it",
        )


async def apply_reset(
    session: Session, plan: OffsetResetPlan, *, allow_new_group: bool = False
) -> OffsetResetPlan:
    """Apply a plan shown (and confirmed) earlier; the backend re-checks that the group is
    inactive. Audited."""
    with audited(session, "offsets reset", target_name(plan.backend, "group", plan.group)) as act:
        _describe(act, plan)
        session.check_writable(f"resetting offsets of group {plan.group!r}")
        refuse_new_group(plan, allow_new_group)
        _, admin = session.backend_for(GroupAdmin, "resetting offsets", backend=plan.backend)
        await admin.apply_offsets_reset(plan)
        act.counts["partitions"] = len(plan.rows)
        return plan


def _describe(act: Action, plan: OffsetResetPlan) -> None:
    act.details.update(
        mode=plan.mode, topics=sorted({row.topic for row in plan.rows}), planned=len(plan.rows)
    )
