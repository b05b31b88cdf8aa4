"""``mqctl topics``: Kafka topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.models.inventory import TopicDetail

topics_app = typer.Typer(help="Kafka topics: list, describe.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")


TOPIC_COLUMNS = [
    field_column("name", "TOPIC"),
    field_column("partitions", "PARTITIONS", "right"),
    field_column("replication_factor", "RF", "right"),
    field_column("messages", "MESSAGES", "right"),
]


@topics_app.command("list")
def list_cmd(
    output: OutputOpt = OutputFormat.table,
    internal: Annotated[
        bool, typer.Option("--internal", help="Include __internal topics.")
    ] = False,
) -> None:
    """List topics with partition count, replication factor and message count.

    Examples:  mqctl topics list  |  mqctl topics list -o json --internal
    """
    from mqctl.services import inventory

    topics = run_with_session(lambda s: inventory.list_topics(s, include_internal=internal))
    render(topics, output, columns=TOPIC_COLUMNS)


def _detail_table(detail: TopicDetail, console: Console) -> None:
    from mqctl.output.render import render_table

    console.print(
        f"Topic {detail.name}: {len(detail.partitions)} partitions, "
        f"replication factor {detail.replication_factor}, {detail.messages} messages"
    )
    render_table(
        detail.partitions,
        [
            field_column("partition", "PARTITION", "right"),
            field_column("leader", "LEADER", "right"),
            field_column("replicas", "REPLICAS"),
            field_column("isr", "ISR"),
            field_column("log_start_offset", "START", "right"),
            field_column("end_offset", "END", "right"),
            Column("MESSAGES", lambda p: p.messages, "right"),
        ],
        console,
    )
    overridden = [c for c in detail.configs if not c.is_default]
    console.print(f"Configs overridden for this topic ({len(overridden)}):")
    render_table(
        overridden or [],
        [field_column("name", "CONFIG"), field_column("value", "VALUE"), field_column("source")],
        console,
    )


@topics_app.command("describe")
def describe_cmd(
    name: Annotated[str, typer.Argument(help="Topic name (kafka:NAME to be explicit).")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Partitions with leaders, replicas, ISR and offsets, plus the topic's configs.

    Examples:  mqctl topics describe order.created  |  mqctl topics describe order.created -o yaml
    """
    from mqctl.services import inventory

    detail = run_with_session(lambda s: inventory.describe_topic(s, name))
    data: Any = detail
    render(data, output, table=_detail_table)
