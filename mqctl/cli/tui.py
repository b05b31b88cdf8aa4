"""``mqctl tui``: opens the Textual dashboard (imported only when asked for)."""

from __future__ import annotations

import typer

from mqctl.cli.common import STATE


def register(app: typer.Typer) -> None:
    app.command("tui")(tui_cmd)


def tui_cmd() -> None:
    """Open the interactive dashboard on the selected context.

    Examples:  mqctl tui  |  mqctl -c prod tui
    """
    from mqctl.config import load_config, resolve_context

    context = resolve_context(load_config(), STATE.context)
    try:
        from mqctl_tui.app import run_app
    except ImportError as exc:
        from mqctl.errors import UsageError

        raise UsageError(f"the TUI is not installed ({exc})") from None
    run_app(context, timeout=STATE.timeout)
