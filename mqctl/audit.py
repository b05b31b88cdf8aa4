"""Append-only audit log of every write mqctl makes (redrive, and later publish, resets...).

One JSON object per line in ``$MQCTL_AUDIT_LOG`` or ``<user state dir>/mqctl/audit.jsonl``:
``time`` (UTC ISO 8601), ``user`` (OS user), ``host``, ``pid``, ``context``, ``command``,
``target``, ``counts``, ``outcome`` and optional ``details``. Secrets never go in: every
string is passed through :func:`mqctl.config.secrets.scrub`. A failure to write the log is
reported as a warning and never fails the operation that already happened.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENV = "MQCTL_AUDIT_LOG"


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
    target: str,
    counts: dict[str, Any],
    outcome: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one record and return it. ``outcome``: ok | partial | failed | interrupted."""
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "user": _user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "context": context,
        "command": command,
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
    """All records (for tests and a future ``mqctl audit`` command)."""
    target = path or log_path()
    if not target.exists():
        return []
    with target.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
