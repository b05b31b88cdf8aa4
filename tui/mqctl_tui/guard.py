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
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from textual.actions import ActionParseResult
from textual.app import App
from textual.dom import DOMNode
from textual.worker import WorkerFailed

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


class ErrorGuard(App[None]):
    """The app's part of the rule above: errors of key, click and palette actions and of
    background workers are reported (:meth:`report_error`), not fatal; what still stops the
    app is logged for the exit-70 line of ``mqctl tui``."""

    def __init__(self, *, debug: bool = False) -> None:
        super().__init__()
        self.debug_log = debug  # tracebacks of the errors shown go to the TUI log
        self.crashed: BaseException | None = None  # what stopped the app, if anything did
        self.crash_log: Path | None = None
        self.errors_reported = 0

    # -- errors: shown, logged, never fatal -----------------------------------------------
    def report_error(self, error: BaseException, where: str) -> None:
        """An unexpected error in ``where``: a notification, and with --debug the traceback
        in the TUI log. Never raises (it is what the guards call)."""
        self.errors_reported += 1
        try:
            logged = write_log(error, where) if self.debug_log else None
            hint = f" (traceback in {logged})" if logged else " (--debug logs the traceback)"
            self.notify(
                f"{describe(error)}{hint}", title=f"error in {where}", severity="error", timeout=8
            )
        except Exception:  # reporting must not become the next crash
            pass

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key binding, click action and palette action comes through here: an error in
        one is reported and the app keeps running."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as exc:
            name = action if isinstance(action, str) else action[1]
            self.report_error(exc, f"action {name}")
            return True

    def _handle_exception(self, error: Exception) -> None:
        """Textual's last resort (Textual API seam, textual 8.x): a worker's error is
        reported and the app lives on; anything else stops the app, so it is logged and
        ``mqctl tui`` exits 70 with one line instead of Textual's traceback on the terminal."""
        if isinstance(error, WorkerFailed):
            self.report_error(error.error, "background task")
            return
        self.crashed = error
        self.crash_log = write_log(error, "the app stopped")
        super()._handle_exception(error)
        self._exit_renderables.clear()  # the one-line error replaces the traceback
