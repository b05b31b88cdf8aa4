"""Consumer group administration: list, describe, delete, offsets reset (plan, execute)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mqctl.backend import GroupAdmin
from mqctl.errors import UsageError
from mqctl.lag.model import GroupDetail, GroupSummary, OffsetResetPlan, ResetSpec
from mqctl.lag.parsing import read_plan_csv, write_plan_csv
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


def _admin(session: Session, name: str | None, what: str) -> tuple[GroupAdmin, str]:
    backend_name, bare = split_prefix(name) if name is not None else (None, "")
    found = session.backends_with(GroupAdmin, what)
    for backend, admin in found:
        if backend_name is None or backend.name == backend_name:
            return admin, bare
    raise UsageError(f"{what}: the {backend_name} backend of this context does not support it")


async def list_groups(session: Session) -> list[GroupSummary]:
    found = session.backends_with(GroupAdmin, "listing consumer groups")
    batches = await asyncio.gather(*(admin.list_groups() for _, admin in found))
    return [g for batch in batches for g in batch]


async def describe_group(session: Session, group: str) -> GroupDetail:
    admin, bare = _admin(session, group, "describing consumer groups")
    return await admin.describe_group(bare)


async def delete_group(session: Session, group: str) -> None:
    session.check_writable(f"deleting consumer group {group!r}")
    admin, bare = _admin(session, group, "deleting consumer groups")
    await admin.delete_group(bare)


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
    allow_new_group: bool = False,
) -> OffsetResetPlan:
    """Compute the plan; apply it only with ``execute`` (after the caller confirmed)."""
    if execute:
        session.check_writable(f"resetting offsets of group {group!r}")
    admin, bare = _admin(session, group, "resetting consumer group offsets")
    plan = await admin.plan_offsets_reset(bare, spec)
    if execute:
        refuse_new_group(plan, allow_new_group)
        await admin.apply_offsets_reset(plan)
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
    """Apply a plan shown earlier (the backend re-checks that the group is inactive)."""
    session.check_writable(f"resetting offsets of group {plan.group!r}")
    refuse_new_group(plan, allow_new_group)
    admin, _ = _admin(session, f"{plan.backend}:{plan.group}", "resetting offsets")
    await admin.apply_offsets_reset(plan)
    return plan
