"""The audit rule for the admin verbs (services/topics.py, cluster.py, acls.py,
rabbit_admin.py): a real change is wrapped in :func:`mqctl.audit.audited` (refusals and
declined confirmations are recorded too); a dry run reads only and is never recorded. A
destructive change runs its own dry run first, so the view's ``confirm`` sees exactly what
is about to change."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mqctl.audit import Action, Confirm, audited
from mqctl.session import Session

T = TypeVar("T")


def audited_unless_dry_run(
    session: Session, action: str, target: str, dry_run: bool
) -> contextlib.AbstractContextManager[Action]:
    """:func:`mqctl.audit.audited`, or for a dry run an action that is never recorded."""
    if dry_run:
        return contextlib.nullcontext(Action(session, action, target, None))
    return audited(session, action, target)


async def confirmed(
    run: Callable[[bool], Awaitable[T]], *, dry_run: bool, confirm: Confirm[T] | None
) -> T:
    """``run(dry_run)``; for a real change with a ``confirm``, first ``run(True)`` (the plan),
    then ``confirm(plan)`` (raises to stop), then the change."""
    if dry_run or confirm is None:
        return await run(dry_run)
    await confirm(await run(True))
    return await run(False)
