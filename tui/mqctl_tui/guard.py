"""What an unexpected error in the TUI turns into: a notification, a log entry, never a dead app.

Users keep the dashboard open during incidents: a bug in one panel must not take the whole
view away. The app catches errors at the three doors they come through (key actions, message
handlers of the data widgets, background workers) and reports them with :func:`describe` as
a notification. With ``--debug`` their tracebacks go to the log file (:func:`log_path`).
If Textual still has to stop the app, the traceback is always logged and ``mqctl tui``
exits 70 with one line naming the log (:class:`TuiCrashed`).
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from mqctl.errors import ExitCode, MqctlError

ENV = "MQCTL_TUI_LOG"


class TuiCrashed(MqctlError):
    """The TUI stopped on an error it could not keep out of its loop (a bug: exit 70)."""

    exit_code = ExitCode.INTERNAL


def log_path() -> Path:
    """``$MQCTL_TUI_LOG``, else ``tui.log`` in the user's state directory (next to the audit
    log)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_state_path

    return user_state_path("mqctl") / "tui.log"


def describe(error: BaseException) -> str:
    """One line for a notification: the error's words (secrets scrubbed, no control codes)."""
    from mqctl.config.secrets import scrub
    from mqctl.output.sanitize import safe_text

    text = str(error) if isinstance(error, MqctlError) else f"{type(error).__name__}: {error}"
    line = safe_text(scrub(" ".join(text.split())))
    return line if len(line) <= 300 else line[:297] + "..."


def write_log(error: BaseException, where: str) -> Path | None:
    """Append ``error``'s traceback (secrets scrubbed) to the log; the path, or None when the
    log cannot be written (the notification still tells the user what happened)."""
    from mqctl.config.secrets import scrub

    path = log_path()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} {where}\n{scrub(''.join(lines))}\n")
    except OSError:
        return None
    return path
