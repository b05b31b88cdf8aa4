"""``mqctl queues``: RabbitMQ queues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import AllVhostsOpt, OutputOpt, VhostOpt, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.inventory import QueueDetail

queues_app = typer.Typer(help="RabbitMQ queues: list, describe.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(queues_app, name="queues")


QUEUE_COLUMNS = [
    field_column("vhost", "VHOST"),
    field_column("name", "QUEUE"),
    field_column("type", "TYPE"),
    field_column("ready", "READY", "right"),
    field_column("unacked", "UNACKED", "right"),
    field_column("consumers", "CONSUMERS", "right"),
    field_column("publish_rate", "IN/S", "right"),
    field_column("ack_rate", "ACK/S", "right"),
    field_column("policy", "POLICY"),
    field_column("dead_letter_exchange", "DLX"),
]


@queues_app.command("list")
def list_cmd(
    output: OutputOpt = OutputFormat.table,
    vhost: VhostOpt = None,
    all_vhosts: AllVhostsOpt = False,
) -> None:
    """List queues with type, depth (ready/unacked), consumers, rates, policy and DLX.

    Examples:  mqctl queues list  |  mqctl queues list --all-vhosts -o json
    """
    from mqctl.services import inventory

    queues = run_with_session(
        lambda s: inventory.list_queues(s, vhost=vhost, all_vhosts=all_vhosts)
    )
    render(queues, output, columns=QUEUE_COLUMNS)


def _detail_table(detail: QueueDetail, console: Console) -> None:
    from mqctl.output.render import format_cell, render_table

    q = detail.queue
    rows = [
        ("vhost", q.vhost),
        ("queue", q.name),
        ("type", q.type),
        ("durable", q.durable),
        ("state", q.state),
        ("ready / unacked", f"{q.ready} / {q.unacked}"),
        ("consumers", q.consumers),
        (
            "rates in / deliver / ack",
            f"{format_cell(q.publish_rate)} / "
            f"{format_cell(q.deliver_rate)} / {format_cell(q.ack_rate)}",
        ),
        ("policy", q.policy),
        ("effective policy", detail.effective_policy),
        ("dead-letter exchange", q.dead_letter_exchange),
        ("dead-letter routing key", q.dead_letter_routing_key),
        ("delivery limit", detail.delivery_limit),
        ("arguments", q.arguments),
        ("node", detail.node),
    ]
    render_table(rows, [Column("FIELD", lambda r: r[0]), Column("VALUE", lambda r: r[1])], console)
    console.print(f"Consumers ({len(detail.consumer_details)}):")
    render_table(
        detail.consumer_details,
        [
            field_column("consumer_tag", "TAG"),
            field_column("connection"),
            field_column("client_host", "HOST"),
            field_column("ack_required", "ACK"),
            field_column("prefetch_count", "PREFETCH", "right"),
        ],
        console,
    )
    console.print(f"Bindings ({len(detail.bindings_in)}):")
    render_table(
        detail.bindings_in,
        [field_column("source", "EXCHANGE"), field_column("routing_key", "ROUTING KEY")],
        console,
    )


@queues_app.command("describe")
def describe_cmd(
    name: Annotated[str, typer.Argument(help="Queue name (rabbitmq:NAME to be explicit).")],
    output: OutputOpt = OutputFormat.table,
    vhost: VhostOpt = None,
) -> None:
    """Arguments, effective policy, DLX, consumers, bindings and rates of one queue.

    Examples:  mqctl queues describe notifications_queue  |  mqctl queues describe q --vhost prod
    """
    from mqctl.services import inventory

    detail = run_with_session(lambda s: inventory.describe_queue(s, name, vhost=vhost))
    render(detail, output, table=_detail_table)
