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
    from mqctl.config import load_config, resolve_context

    config = load_config()
    context = resolve_context(config, invocation().context)
    try:
        from mqctl_tui.app import run_app
    except ImportError as exc:
        from mqctl.errors import UsageError

        raise UsageError(f"the TUI is not installed ({exc})") from None
    refresh = refresh or config.tui.refresh
    run_app(context, timeout=invocation().timeout, refresh=refresh, config=config)
