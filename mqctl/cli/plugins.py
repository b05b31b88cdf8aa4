"""``mqctl plugins``: what was found through entry points, and what failed to load."""

from __future__ import annotations

import typer

from mqctl.cli.common import OutputOpt
from mqctl.output.render import OutputFormat, field_column, render

plugins_app = typer.Typer(help="Installed plugins (backends, decoders).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app, name="plugins")


@plugins_app.command("list")
def list_cmd(output: OutputOpt = OutputFormat.table) -> None:
    """List backends and decoders found through entry points, with load errors.

    Examples:  mqctl plugins list  |  mqctl plugins list -o json
    """
    from mqctl import registry

    render(
        registry.all_plugins(),
        output,
        columns=[
            field_column("name", "NAME"),
            field_column("kind", "KIND"),
            field_column("distribution", "DISTRIBUTION"),
            field_column("version", "VERSION"),
            field_column("target", "TARGET"),
            field_column("error", "ERROR"),
        ],
    )
