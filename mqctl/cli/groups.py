"""``mqctl groups``: Kafka consumer groups (classic and KIP-848 consumer protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirmation, run_with_session
from mqctl.completion import completer
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.lag.model import GroupDetail

groups_app = typer.Typer(
    help="Kafka consumer groups: list, describe, delete.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(groups_app, name="groups")


GROUP_COLUMNS = [
    field_column("group", "GROUP"),
    field_column("state", "STATE"),
    field_column("type", "TYPE"),
    Column("PROTOCOL TYPE", lambda g: g.protocol_type or "-"),
    field_column("members", "MEMBERS", "right"),
    field_column("coordinator", "COORDINATOR", "right"),
]


@groups_app.command("list")
def list_cmd(output: OutputOpt = OutputFormat.table) -> None:
    """List consumer groups with state, type, protocol type, members and coordinator.

    Examples:  mqctl groups list  |  mqctl groups list -o json
    """
    from mqctl.services import groups as service

    render(run_with_session(service.list_groups), output, columns=GROUP_COLUMNS)


def _detail_table(detail: GroupDetail, console: Console) -> None:
    from mqctl.cli.lag_tables import fmt_seconds, short_owner
    from mqctl.output.render import render_table

    console.print(
        f"Group {detail.group}: {detail.state}, type {detail.type}, protocol type "
        f"{detail.protocol_type or '-'}, assignor {detail.protocol or '-'}, coordinator "
        f"{detail.coordinator}, {len(detail.members)} member(s)"
    )
    if detail.members:
        render_table(
            detail.members,
            [
                field_column("member_id", "MEMBER"),
                field_column("client_id", "CLIENT"),
                field_column("host", "HOST"),
                Column(
                    "ASSIGNED",
                    lambda m: "; ".join(
                        f"{t}:{','.join(map(str, ps))}" for t, ps in sorted(m.assignment.items())
                    ),
                ),
            ],
            console,
        )
    console.print(f"Committed offsets ({len(detail.offsets)} partitions):")
    render_table(
        detail.offsets,
        [
            field_column("topic", "TOPIC"),
            field_column("partition", "PARTITION", "right"),
            field_column("committed_offset", "COMMITTED", "right"),
            field_column("log_start_offset", "START", "right"),
            field_column("end_offset", "END", "right"),
            field_column("lag", "LAG", "right"),
            Column("TIME LAG", lambda p: fmt_seconds(p.time_lag_seconds), "right"),
            Column("OWNER", lambda p: short_owner(p.owner)),
        ],
        console,
    )


@groups_app.command("describe")
def describe_cmd(
    group: Annotated[
        str, typer.Argument(help="Consumer group id.", autocompletion=completer("group"))
    ],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Members (client id, host, assigned partitions) and committed offsets of a group.

    Examples:  mqctl groups describe orders-group  |  mqctl groups describe orders-group -o json
    """
    from mqctl.services import groups as service

    detail = run_with_session(lambda s: service.describe_group(s, group))
    render(detail, output, table=_detail_table)


@groups_app.command("delete")
def delete_cmd(
    group: Annotated[
        str, typer.Argument(help="Consumer group id.", autocompletion=completer("group"))
    ],
    yes: YesOpt = False,
) -> None:
    """Delete a consumer group and its committed offsets (refused while it has members).

    Examples:  mqctl groups delete old-group  |  mqctl groups delete old-group --yes
    """
    from mqctl.services import groups as service

    def question(bare: str) -> str:
        return f"Delete consumer group {bare!r} and its committed offsets?"

    ask = confirmation(question, yes)
    run_with_session(lambda s: service.delete_group(s, group, confirm=ask))
    typer.echo(f"deleted consumer group {group}")
