"""``mqctl dlq status``: how much of a DLQ was already redriven, when and by whom — from the
Kafka redrive ledger (shared by every operator and machine) and this machine's audit log."""

from __future__ import annotations

from mqctl.audit import target_name
from mqctl.backend import QueueCatalog
from mqctl.dlq.models import AuditedRedrive, RedriveStatus
from mqctl.dlq.planning import KeepsRedriveLedger
from mqctl.services.dlq import _resolve
from mqctl.session import Session

AUDIT_SHOWN = 20


async def status(session: Session, name: str, *, vhost: str | None = None) -> RedriveStatus:
    """How much of a DLQ was already redriven, when, by whom: the Kafka ledger (any operator,
    any machine) and this machine's audit log (every broker)."""
    destination, support = await _resolve(session, name, vhost)
    summary = RedriveStatus(destination.backend, destination.qualified)
    if isinstance(support, KeepsRedriveLedger):
        await support.redrive_status(destination, summary)
    elif isinstance(support, QueueCatalog):  # a queue: moved messages left it
        detail = await support.describe_queue(destination.name, vhost=destination.vhost)
        summary.depth = detail.queue.messages
    targets = {  # the record's name for it, and the one of records before the audit API
        target_name(destination.backend, destination.kind, destination.name),
        destination.qualified,
    }
    summary.audit = _audited(targets)
    if summary.redriven is None and summary.audit:
        summary.redriven = sum(a.moved for a in summary.audit)
    if summary.last_redrive_at is None and summary.audit:
        last = summary.audit[0]
        summary.last_redrive_at, summary.last_redrive_by = last.time, f"{last.user}@{last.host}"
    return summary


def _audited(targets: set[str]) -> list[AuditedRedrive]:
    """This DLQ's redrives in the audit log, newest first (an unreadable log: none)."""
    import json

    from mqctl import audit

    found: list[AuditedRedrive] = []
    try:
        lines = audit.log_path().read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return found
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("target") not in targets:
            continue
        # "action" since the audit records name it; older records had it in "command"
        if entry.get("action", entry.get("command")) != "dlq redrive":
            continue
        counts = entry.get("counts") or {}
        details = entry.get("details") or {}
        found.append(
            AuditedRedrive(
                time=str(entry.get("time", "")),
                user=str(entry.get("user", "")),
                host=str(entry.get("host", "")),
                outcome=str(entry.get("outcome", "")),
                moved=int(counts.get("moved", 0) or 0),
                failed=int(counts.get("failed", 0) or 0),
                filters={k: v for k, v in (details.get("filters") or {}).items() if v},
            )
        )
        if len(found) >= AUDIT_SHOWN:
            break
    return found
