"""``mqctl vhosts|exchanges|bindings|connections``: the rest of RabbitMQ's inventory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import AllVhostsOpt, OutputOpt, VhostOpt, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.inventory import ExchangeDetail

vhosts_app = typer.Typer(help="RabbitMQ vhosts.", no_args_is_help=True)
exchanges_app = typer.Typer(help="RabbitMQ exchanges.", no_args_is_help=True)
bindings_app = typer.Typer(help="RabbitMQ bindings.", no_args_is_help=True)
connections_app = typer.Typer(help="RabbitMQ client connections.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(vhosts_app, name="vhosts")
    app.add_typer(exchanges_app, name="exchanges")
    app.add_typer(bindings_app, name="bindings")
    app.add_typer(connections_app, name="connections")


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


def _exchange_table(detail: ExchangeDetail, console: Console) -> None:
    from mqctl.output.render import format_cell, render_table

    e = detail.exchange
    rows = [
        ("vhost", e.vhost),
        ("exchange", e.name or "(default)"),
        ("type", e.type),
        ("durable", e.durable),
        ("auto delete", e.auto_delete),
        ("internal", e.internal),
        ("arguments", e.arguments),
        ("policy", detail.policy),
        (
            "rates in / out",
            f"{format_cell(detail.publish_in_rate)} / {format_cell(detail.publish_out_rate)}",
        ),
    ]
    render_table(rows, [Column("FIELD", lambda r: r[0]), Column("VALUE", lambda r: r[1])], console)
    binding_columns = [
        Column("SOURCE", lambda b: b.source or "(default)"),
        field_column("destination_type", "TYPE"),
        field_column("destination", "DESTINATION"),
        field_column("routing_key", "ROUTING KEY"),
        field_column("arguments", "ARGUMENTS"),
    ]
    console.print(f"Bindings out ({len(detail.bindings_out)}):")
    render_table(detail.bindings_out, binding_columns, console)
    console.print(f"Bindings in, from other exchanges ({len(detail.bindings_in)}):")
    render_table(detail.bindings_in, binding_columns, console)


@exchanges_app.command("describe")
def exchanges_describe(
    name: Annotated[str, typer.Argument(help='Exchange name ("(default)" for the default).')],
    output: OutputOpt = OutputFormat.table,
    vhost: VhostOpt = None,
) -> None:
    """Type, arguments, policy, rates and the bindings in and out of one exchange.

    Examples:  mqctl exchanges describe orders  |  mqctl exchanges describe orders -o json
    """
    from mqctl.services import amqp

    detail = run_with_session(lambda s: amqp.describe_exchange(s, name, vhost=vhost))
    render(detail, output, table=_exchange_table)


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


@connections_app.command("list")
def connections_list(
    output: OutputOpt = OutputFormat.table, vhost: VhostOpt = None, all_vhosts: AllVhostsOpt = False
) -> None:
    """List client connections: who (user, client, connection name), from where, channels.

    Examples:  mqctl connections list --all-vhosts  |  mqctl connections list -o json
    """
    from mqctl.services import amqp

    connections = run_with_session(
        lambda s: amqp.list_connections(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    render(
        connections,
        output,
        columns=[
            field_column("vhost", "VHOST"),
            field_column("user", "USER"),
            field_column("connection_name", "NAME"),
            field_column("client", "CLIENT"),
            Column("PEER", lambda c: f"{c.peer_host}:{c.peer_port}"),
            field_column("state", "STATE"),
            field_column("channels", "CHANNELS", "right"),
            field_column("tls", "TLS"),
            field_column("connected_at", "SINCE"),
        ],
    )
