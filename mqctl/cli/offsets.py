"""``mqctl offsets reset``: move a consumer group's committed offsets, plan first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirm, run_with_session
from mqctl.completion import completer
from mqctl.output.render import OutputFormat, field_column, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.lag.model import OffsetResetPlan, ResetSpec

offsets_app = typer.Typer(help="Consumer group offsets: reset, delete.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(offsets_app, name="offsets")


PLAN_COLUMNS = [
    field_column("topic", "TOPIC"),
    field_column("partition", "PARTITION", "right"),
    field_column("current_offset", "CURRENT", "right"),
    field_column("new_offset", "NEW", "right"),
    field_column("change", "CHANGE", "right"),
    field_column("log_start_offset", "START", "right"),
    field_column("end_offset", "END", "right"),
    field_column("clamped", "CLAMPED"),
]


def _plan_table(plan: OffsetResetPlan, console: Console) -> None:
    from mqctl.output.render import render_table

    verb = "Reset" if plan.executed else "Plan (dry run, nothing changed; add --execute)"
    console.print(f"{verb}: group {plan.group}, mode {plan.mode}")
    render_table(plan.rows, PLAN_COLUMNS, console)


def _spec(
    topics: list[str],
    to_earliest: bool,
    to_latest: bool,
    to_offset: int | None,
    to_datetime: str | None,
    by_duration: str | None,
    shift_by: int | None,
    from_file: str | None,
) -> ResetSpec:
    from mqctl.errors import UsageError
    from mqctl.lag.model import ResetSpec
    from mqctl.lag.parsing import parse_datetime_ms, parse_duration, parse_topic_selection
    from mqctl.services.groups import duration_spec_value, read_plan_file

    chosen = [
        name
        for name, given in (
            ("--to-earliest", to_earliest),
            ("--to-latest", to_latest),
            ("--to-offset", to_offset is not None),
            ("--to-datetime", to_datetime is not None),
            ("--by-duration", by_duration is not None),
            ("--shift-by", shift_by is not None),
            ("--from-file", from_file is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise UsageError(
            "choose exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, "
            f"--by-duration, --shift-by, --from-file (got {', '.join(chosen) or 'none'})"
        )
    targets = tuple(parse_topic_selection(t) for t in topics)
    if from_file is not None:
        rows = read_plan_file(from_file)
        if targets:
            wanted = {t for t, _ in targets}
            rows = tuple(r for r in rows if r[0] in wanted)
        return ResetSpec("file", file_offsets=rows)
    if not targets:
        raise UsageError("--topic is required (TOPIC or TOPIC:P,P...)")
    if to_offset is not None:
        if to_offset < 0:
            raise UsageError("--to-offset must not be negative")
        return ResetSpec("offset", targets, to_offset)
    if to_datetime is not None:
        return ResetSpec("datetime", targets, parse_datetime_ms(to_datetime))
    if by_duration is not None:
        seconds = parse_duration(by_duration, "--by-duration")
        return ResetSpec("duration", targets, duration_spec_value(seconds))
    if shift_by is not None:
        return ResetSpec("shift", targets, shift_by)
    return ResetSpec("earliest" if to_earliest else "latest", targets)


@offsets_app.command("reset")
def reset_cmd(
    group: Annotated[
        str, typer.Argument(help="Consumer group id.", autocompletion=completer("group"))
    ],
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="TOPIC or TOPIC:P,P... (repeatable)."),
    ] = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest", help="Log start.")] = False,
    to_latest: Annotated[bool, typer.Option("--to-latest", help="Log end.")] = False,
    to_offset: Annotated[int | None, typer.Option("--to-offset", help="This offset.")] = None,
    to_datetime: Annotated[
        str | None,
        typer.Option(
            "--to-datetime", help="First offset at/after ISO 8601 time (local if no zone)."
        ),
    ] = None,
    by_duration: Annotated[
        str | None, typer.Option("--by-duration", help="First offset since this long ago (1h).")
    ] = None,
    shift_by: Annotated[
        int | None, typer.Option("--shift-by", help="Move by ±N from the committed offset.")
    ] = None,
    from_file: Annotated[
        str | None, typer.Option("--from-file", help="CSV topic,partition,offset (see --export).")
    ] = None,
    all_topics: Annotated[
        bool,
        typer.Option("--all-topics", help="Every topic the group has committed offsets for."),
    ] = False,
    execute: Annotated[bool, typer.Option("--execute", help="Apply the plan.")] = False,
    export: Annotated[
        str | None, typer.Option("--export", help="Write the plan as CSV to this file.")
    ] = None,
    allow_new_group: Annotated[
        bool,
        typer.Option(
            "--allow-new-group", help="Let --execute create a group that does not exist yet."
        ),
    ] = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Reset committed offsets. Prints the plan and changes nothing unless --execute.

    Refused while the group has active members; offsets outside a partition's range are
    clamped with a warning. --export writes the plan as CSV that --from-file reads back.

    Examples:  mqctl offsets reset orders-group --topic orders --to-earliest  |
    mqctl offsets reset orders-group -t orders:0,1 --shift-by -100 --execute --yes  |
    mqctl offsets reset orders-group -t orders --by-duration 1h --export plan.csv  |
    mqctl offsets reset orders-group --all-topics --to-latest
    """
    import sys

    from mqctl.services import groups as service

    if all_topics:
        from mqctl.errors import UsageError
        from mqctl.services.cluster import committed_topics

        if topic:
            raise UsageError("--all-topics and --topic exclude each other")
        topic = run_with_session(lambda s: committed_topics(s, group))

    spec = _spec(
        topic or [],
        to_earliest,
        to_latest,
        to_offset,
        to_datetime,
        by_duration,
        shift_by,
        from_file,
    )

    def report(plan: OffsetResetPlan) -> None:
        for warning in plan.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        if export is not None:
            service.export_plan(plan, export)

    if not execute:
        plan = run_with_session(lambda s: service.reset_offsets(s, group, spec, execute=False))
        report(plan)
        render(plan, output, table=_plan_table)
        return

    asked = False

    async def before_apply(plan: OffsetResetPlan) -> None:
        """Shown and confirmed between planning and applying (the service audits)."""
        nonlocal asked
        report(plan)
        if not yes:
            render(plan, output, table=_plan_table)
            asked = True
        confirm(f"Apply this reset to group {group!r}?", yes)

    plan = run_with_session(
        lambda s: service.reset_offsets(
            s, group, spec, execute=True, confirm=before_apply, allow_new_group=allow_new_group
        )
    )
    if asked and output == "table":
        typer.echo(f"reset {len(plan.rows)} partition(s) of group {group}")
        return
    render(plan, output, table=_plan_table)
