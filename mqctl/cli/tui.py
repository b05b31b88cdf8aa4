"""``mqctl tui``: opens the Textual dashboard (imported only when asked for)."""

from __future__ import annotations

from typing import Annotated

import typer

from mqctl.cli.common import invocation
from mqctl.config.schema import MIN_REFRESH


def register(app: typer.Typer) -> None:
    app.command("tui")(tui_cmd)


def tui_cmd(
    refresh: Annotated[
        float | None,
        typer.Option(
            "--refresh",
            min=MIN_REFRESH,
            help="Seconds between auto-refreshes (space pauses). Default: refresh in the "
            "config's [tui] table, else 5.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Open the interactive dashboard on the selected context.

    Examples:  mqctl tui  |  mqctl -c prod tui  |  mqctl tui --refresh 2
    """
    import sys

    from mqctl.config import load_config, resolve_context
    from mqctl.errors import UsageError

    if not interactive_terminal():
        # Without a terminal Textual would wait for input that never comes, or write escape
        # codes into a pipe or a log: refuse at once.
        raise UsageError(
            "mqctl tui needs an interactive terminal (stdin and stdout must be a TTY)",
            hint="use the CLI commands in scripts, e.g. mqctl lag -o json",
        )
    config = load_config()
    context = resolve_context(config, invocation().context)
    try:
        from mqctl_tui.app import run_app
    except ImportError as exc:
        raise UsageError(f"the TUI is not installed ({exc})") from None
    run_app(
        context,
        timeout=invocation().timeout,
        refresh=refresh or config.tui.refresh,
        config=config,
        debug=invocation().debug or "--debug" in sys.argv,
    )


def interactive_terminal() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()
