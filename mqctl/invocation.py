"""What one run of mqctl was asked to do: the view's global options and its command line.

The CLI builds one :class:`Invocation` per run (root callback, ``ctx.obj``) and hands it to
the :class:`~mqctl.session.Session` it opens; the TUI builds one for its session. Nothing
reads a module global for the context, the timeout or ``--yes``, and the audit log takes the
command line from here, with message values already left out.
"""

from __future__ import annotations

from dataclasses import dataclass

REDACTED = "<value>"
MAX_COMMAND = 300


@dataclass(frozen=True, slots=True)
class Invocation:
    """``context``/``timeout``/``debug``: the global options as given (``None`` = not given).
    ``argv``: the arguments after the program name. ``redact``: positions in ``argv`` that hold
    message data (values, keys, headers), set by the view that parsed them. ``yes``: the
    command carried an explicit ``--yes`` (protected contexts also need ``--context``)."""

    context: str | None = None
    timeout: float | None = None
    debug: bool = False
    argv: tuple[str, ...] = ()
    redact: frozenset[int] = frozenset()
    yes: bool = False
    program: str = "mqctl"

    @property
    def command_line(self) -> str:
        """The command as typed, for the audit log, without message data (values may be
        large or sensitive): redacted words read ``<value>``. Secrets are scrubbed later by
        the audit log itself."""
        words = [REDACTED if i in self.redact else word for i, word in enumerate(self.argv)]
        text = " ".join([self.program, *words])
        return text if len(text) <= MAX_COMMAND else text[: MAX_COMMAND - 3] + "..."

    def named_context(self, name: str) -> bool:
        """Whether the user named context ``name`` explicitly with ``--context``."""
        return self.context == name


TUI = Invocation(argv=("tui",))
