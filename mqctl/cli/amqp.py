"""``mqctl vhosts|exchanges|bindings``: the rest of RabbitMQ's inventory."""

from __future__ import annotations

import typer

from mqctl.cli.common import AllVhostsOpt, OutputOpt, VhostOpt, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, render

vhosts_app = typer.Typer(help="RabbitMQ vhosts.", no_args_is_help=True)
exchanges_app = typer.Typer(help="RabbitMQ exchanges.", no_args_is_help=True)
bindings_app = typer.Typer(help="RabbitMQ bindings.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(vhosts_app, name="vhosts")
    app.add_typer(exchanges_app, name="exchanges")
    app.add_typer(bindings_app, name="bindings")


@vhosts_app.command("list")
def vhosts_list(output: OutputOpt = OutputFormat.table) -> None:
    """List vhosts with message totals.

    Examples:  mqctl vhosts list  |  mqctl vhosts list -o json
    """
    from mqctl.services import inventory

    vhosts = run_with_session(inventory.list_vhosts)
    render(
        vhosts,
        output,
        columns=[
            field_column("name", "VHOST"),
            field_column("messages", "MESSAGES", "right"),
            field_column("ready", "READY", "right"),
            field_column("unacked", "UNACKED", "right"),
            field_column("description"),
        ],
    )


@exchanges_app.command("list")
def exchanges_list(
    output: OutputOpt = OutputFormat.table, vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False
) -> None:
    """List exchanges (the default exchange is shown as "(default)").

    Examples:  mqctl exchanges list  |  mqctl exchanges list --all-vhosts -o yaml
    """
    from mqctl.services import inventory

    exchanges = run_with_session(
        lambda s: inventory.list_exchanges(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    render(
        exchanges,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            Column("EXCHANGE", lambda e: e.name or "(default)"),
            field_column("type", "TYPE"),
            field_column("durable", "DURABLE"),
            field_column("internal", "INTERNAL"),
            field_column("arguments", "ARGUMENTS"),
        ],
    )


@bindings_app.command("list")
def bindings_list(
    output: OutputOpt = OutputFormat.table, vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False
) -> None:
    """List bindings: exchange -> queue/exchange with routing key.

    Examples:  mqctl bindings list  |  mqctl bindings list --vhost / -o json
    """
    from mqctl.services import inventory

    bindings = run_with_session(
        lambda s: inventory.list_bindings(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    render(
        bindings,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            field_column("source", "SOURCE"),
            field_column("destination_type", "TYPE"),
            field_column("destination", "DESTINATION"),
            field_column("routing_key", "ROUTING KEY"),
        ],
    )
