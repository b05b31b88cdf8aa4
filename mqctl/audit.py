"""Append-only audit log of every write mqctl makes, recorded by the service that makes it.

THE AUDIT RULE (docs/architecture.md): a service function that changes a broker wraps the
change in :func:`audited`; the record is written once, when the outcome is known, whatever
the view (CLI, TUI). Refusals and declined confirmations are recorded too, so nothing is
recorded as done that did not happen and nothing attempted goes unrecorded.

One JSON object per line in ``$MQCTL_AUDIT_LOG`` or ``<user state dir>/mqctl/audit.jsonl``:
``time`` (UTC ISO 8601), ``user`` (OS user), ``host``, ``pid``, ``context``, ``command`` (the
command line, message values left out), ``action`` (e.g. ``queue purge``), ``target`` (e.g.
``kafka:topic/orders``), ``counts``, ``outcome`` (:class:`Outcome`) and optional ``details``.
Secrets never go in: every string is passed through :func:`mqctl.config.secrets.scrub`. A
failure to write the log is reported as a warning and never fails the operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import getpass
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mqctl.errors import DeclinedError, MqctlError, PartialFailure, WriteRefused

if TYPE_CHECKING:
    from mqctl.session import Session

ENV = "MQCTL_AUDIT_LOG"

PlanT = TypeVar("PlanT")

# A view's confirmation, handed to a service that makes a destructive change: called with
# what is about to change (the plan) after the checks and before the change; returns to go
# ahead, raises DeclinedError (the user said no) or WriteRefused (nobody can answer). The
# service's audit records that outcome.
Confirm = Callable[[PlanT], Awaitable[None]]


class Outcome(enum.StrEnum):
    ok = "ok"  # done, every part of it
    partial = "partial"  # some of it done (e.g. 3 of 5 messages published)
    failed = "failed"  # an error stopped it (it may have changed nothing)
    refused = "refused"  # not attempted: read-only, protected not confirmed, nobody to ask
    declined = "declined"  # not attempted: the user answered no
    interrupted = "interrupted"  # stopped by the user (Ctrl-C) or the caller part way


def outcome_of(error: BaseException) -> Outcome:
    """The outcome an exception that ended a write stands for."""
    if isinstance(error, WriteRefused):
        return Outcome.refused
    if isinstance(error, DeclinedError):
        return Outcome.declined
    if isinstance(error, PartialFailure):
        return Outcome.partial
    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError | GeneratorExit):
        return Outcome.interrupted
    return Outcome.failed


def target_name(backend: str, kind: str, name: str) -> str:
    """How a record names what was written to: ``kafka:topic/orders``."""
    return f"{backend}:{kind}/{name}"


class Action:
    """One write being audited: fill in ``counts``/``details`` (and ``target`` once the name
    is resolved) while it runs; :func:`audited` records it once at the end. Set ``outcome``
    when the write ended without an exception but not fully (e.g. ``partial``)."""

    def __init__(
        self, session: Session, action: str, target: str, details: dict[str, Any] | None
    ) -> None:
        self.session = session
        self.action = action
        self.target = target
        self.counts: dict[str, int] = {}
        self.details: dict[str, Any] = dict(details or {})
        self.outcome: Outcome | None = None
        self.recorded = False

    def finish(self, outcome: Outcome, error: BaseException | None = None) -> None:
        """Write the record (only the first call does)."""
        if self.recorded:
            return
        self.recorded = True
        if error is not None:
            self.details["error"] = _error_text(error)
        log_action(
            self.session,
            action=self.action,
            target=self.target,
            counts=self.counts,
            outcome=outcome,
            details=self.details,
        )


@contextlib.contextmanager
def audited(session: Session, action: str, target: str, **details: Any) -> Iterator[Action]:
    """Audit the write done inside the block: one record when the block ends, ``ok`` (or
    the ``outcome`` set on the action), else the outcome of the exception (re-raised)."""
    act = Action(session, action, target, details)
    try:
        yield act
    except BaseException as exc:
        act.finish(outcome_of(exc), exc)
        raise
    act.finish(act.outcome or Outcome.ok)


@contextlib.contextmanager
def audited_on_error(session: Session, action: str, target: str) -> Iterator[None]:
    """Record the block only if it ends in an exception: the preparation of a write that is
    audited later, once it runs (e.g. the publish target's refusal or "not found")."""
    act = Action(session, action, target, None)
    try:
        yield
    except BaseException as exc:
        act.finish(outcome_of(exc), exc)
        raise


def _error_text(error: BaseException) -> str:
    if isinstance(error, MqctlError):
        return error.message
    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError | GeneratorExit):
        return "interrupted"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def log_action(
    session: Session,
    *,
    action: str,
    target: str,
    counts: dict[str, Any],
    outcome: Outcome | str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record one finished write of ``session`` (its context and command line). Prefer
    :func:`audited`; this is for services that track the outcome themselves."""
    return record(
        context=session.context.name,
        command=session.invocation.command_line,
        action=action,
        target=target,
        counts=counts,
        outcome=str(outcome),
        details=details,
    )


def log_path() -> Path:
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_state_path

    return user_state_path("mqctl") / "audit.jsonl"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _clean(value: Any) -> Any:
    from mqctl.config.secrets import scrub

    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def record(
    *,
    context: str,
    command: str,
    action: str,
    target: str,
    counts: dict[str, Any],
    outcome: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one record and return it (the low level of :func:`log_action`)."""
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "user": _user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "context": context,
        "command": command,
        "action": action,
        "target": target,
        "counts": counts,
        "outcome": outcome,
    }
    if details:
        entry["details"] = details
    entry = _clean(entry)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))
        # O_APPEND writes of one line are atomic enough for concurrent mqctl processes.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # argv may hold bytes that are not UTF-8 (surrogate escapes): keep them visible.
            os.write(fd, (line + "\n").encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
    except OSError as exc:
        sys.stderr.write(f"warning: could not write the audit log {path}: {exc.strerror}\n")
    return entry


def read(path: Path | None = None) -> list[dict[str, Any]]:
    """All records, oldest first (``mqctl audit`` and tests). Lines that are not JSON (a
    write cut short by a full disk) are skipped."""
    target = path or log_path()
    if not target.exists():
        return []
    records = []
    with target.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                with contextlib.suppress(ValueError):
                    records.append(json.loads(line))
    return records
