"""``mqctl dlq``: find dead-letter queues, see why messages died, move them back safely."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, YesOpt, confirm, run_with_session
from mqctl.output.render import Column, OutputFormat, field_column, format_cell, render

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.dlq.models import DeadLetterQueue, InspectReport, RedriveSummary
    from mqctl.dlq.plan import RedriveOptions

dlq_app = typer.Typer(
    help="Dead-letter queues (Kafka and RabbitMQ): list, inspect, redrive.",
    no_args_is_help=True,
)

FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        "-f",
        help="Only messages matching: reason=TEXT, exception=TEXT, source=NAME, "
        "header:NAME=VALUE, key=KEY, body~REGEX, since=TIME, until=TIME (TIME: ISO 8601 "
        "or 30m/2h/7d ago). Repeatable: different kinds must all match, same kind any.",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _reasons(q: DeadLetterQueue) -> str:
    return "; ".join(f"{r.reason} ({r.count})" for r in q.top_reasons) or "-"


LIST_COLUMNS = [
    field_column("backend", "BROKER"),
    Column("DLQ", lambda q: q.name),
    field_column("depth", "DEPTH", "right"),
    Column("SOURCES", lambda q: ", ".join(q.sources) or "-"),
    Column("OLDEST", lambda q: _age(q.oldest_age_seconds), "right"),
    Column("TOP REASONS", _reasons),
    Column("FOUND BY", lambda q: ",".join(q.detected_by)),
]


@dlq_app.command("list")
def list_cmd(output: OutputOpt = OutputFormat.table) -> None:
    """List dead-letter queues: broker, name, depth, sources, oldest message, top reasons.

    A DLQ is a queue another queue dead-letters into (RabbitMQ DLX routing), a name
    following a convention (*.dlq, *.dead, *-dlq, *_dlq, dlq.*, *.DLT, *-dlt, plus the
    context's dlq-patterns), or a Kafka topic whose messages carry dead-letter headers.

    Examples:  mqctl dlq list  |  mqctl dlq list -o json
    """
    from mqctl.services import dlq

    found = run_with_session(lambda s: dlq.list_dlqs(s))
    render(found, output, columns=LIST_COLUMNS)


def _inspect_table(report: InspectReport, console: Console) -> None:
    from mqctl.output.render import render_table

    formats = ", ".join(f"{k} {v}" for k, v in sorted(report.formats.items())) or "none"
    console.print(
        f"{report.dlq}: {report.examined} messages examined, grouped by {report.group_by} "
        f"(metadata: {formats})"
    )
    render_table(
        report.groups,
        [
            Column(report.group_by.upper(), lambda g: g.key),
            field_column("count", "COUNT", "right"),
            field_column("first_seen", "FIRST SEEN"),
            field_column("last_seen", "LAST SEEN"),
        ],
        console,
    )
    for grp in report.groups:
        if not grp.samples:
            continue
        console.print(f"Samples of {grp.key!r}:")
        render_table(
            grp.samples,
            [
                field_column("id", "ID"),
                field_column("source", "SOURCE"),
                field_column("failed_at", "FAILED AT"),
                field_column("redrive_count", "REDRIVES", "right"),
                field_column("preview", "MESSAGE"),
            ],
            console,
        )


@dlq_app.command("inspect")
def inspect_cmd(
    name: Annotated[str, typer.Argument(help="The DLQ (kafka:NAME or rabbitmq:NAME).")],
    group_by: Annotated[
        str,
        typer.Option("--group-by", "-g", help="reason, source, exception or header:NAME."),
    ] = "reason",
    max_messages: Annotated[
        int, typer.Option("--max", "-n", min=1, help="Read at most N messages.")
    ] = 500,
    filters: FilterOpt = None,
    samples: Annotated[int, typer.Option("--samples", min=0, help="Samples per group.")] = 3,
    allow_requeue: Annotated[
        bool,
        typer.Option(
            "--allow-requeue",
            help="RabbitMQ quorum DLQs: allow reading by return-to-queue, which counts as "
            "a delivery.",
        ),
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Why messages died: counts per group, first/last seen, samples. Read-only.

    Understands RabbitMQ x-death, Spring Kafka kafka_dlt-*, Kafka Connect
    __connect.errors.* and application error/failedAt/retryCount fields.

    Examples:  mqctl dlq inspect order.created.dlq  |  mqctl dlq inspect
    rabbitmq:notifications_queue.dlq --group-by source -o json
    """
    from mqctl.dlq.grouping import check_group_by
    from mqctl.dlq.plan import parse_filters
    from mqctl.services import dlq

    check_group_by(group_by)
    parsed = parse_filters(filters or [])
    report = run_with_session(
        lambda s: dlq.inspect(
            s,
            name,
            group_by=group_by,
            max_messages=max_messages,
            filters=parsed,
            allow_requeue=allow_requeue,
            samples=samples,
        )
    )
    render(report, output, table=_inspect_table)


def _summary_table(summary: RedriveSummary, console: Console) -> None:
    from mqctl.output.render import render_table

    skipped = sum(summary.skipped.values())
    if summary.dry_run:
        console.print(
            f"Plan for {summary.dlq} (dry run, nothing changed): {summary.moved} to move, "
            f"{skipped} to leave, of {summary.examined} examined"
        )
    else:
        rate = f", {format_cell(summary.rate_per_second)}/s" if summary.rate_per_second else ""
        console.print(
            f"Redrive of {summary.dlq}: moved {summary.moved}, skipped {skipped}, failed "
            f"{summary.failed} of {summary.examined} examined "
            f"({summary.duration_seconds:.1f}s{rate})"
        )
    rows: list[tuple[str, str, int]] = [
        ("move" if summary.dry_run else "moved", dest, n)
        for dest, n in sorted(summary.by_destination.items())
    ]
    rows += [
        ("leave" if summary.dry_run else "skipped", why, n) for why, n in summary.skipped.items()
    ]
    if rows:
        render_table(
            rows,
            [
                Column("ACTION", lambda r: r[0]),
                Column("DESTINATION / REASON", lambda r: r[1]),
                Column("MESSAGES", lambda r: r[2], "right"),
            ],
            console,
        )
    for error in summary.errors:
        console.print(f"failed: {error}")
    if summary.stopped_early:
        console.print(f"stopped early: {summary.stopped_early}")
    if summary.interrupted:
        console.print("interrupted: stopped after the in-flight messages were confirmed")


def _progress_bar() -> tuple[Any, Any]:
    """A rich progress bar on stderr (rate and ETA) when stderr is a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from mqctl.output.render import make_console

    progress = Progress(
        TextColumn("redrive"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} msg/s"),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
        transient=True,
    )
    task = progress.add_task("redrive", total=None, rate="-")

    def update(summary: RedriveSummary, total: int | None) -> None:
        done = summary.moved + summary.failed + sum(summary.skipped.values())
        elapsed = progress.tasks[0].elapsed or 0.0
        rate = f"{summary.moved / elapsed:,.0f}" if elapsed > 0 else "-"
        progress.update(task, completed=done, total=total, rate=rate)

    return progress, update


def _options(
    to: str | None,
    via_exchange: bool,
    filters: list[str] | None,
    limit: int | None,
    rate: str | None,
    max_redrives: int,
    reset_headers: list[str] | None,
) -> RedriveOptions:
    from mqctl.dlq.plan import RedriveOptions, parse_assignments, parse_filters
    from mqctl.errors import UsageError
    from mqctl.messages.rate import parse_rate

    if to is not None and not to.strip():
        raise UsageError("--to: empty destination name")
    return RedriveOptions(
        to=to,
        via_exchange=via_exchange,
        filters=parse_filters(filters or []),
        limit=limit,
        max_redrives=max_redrives,
        reset_headers=parse_assignments(reset_headers or [], "--reset-header"),
        rate=parse_rate(rate) if rate else None,
    )


@dlq_app.command("redrive")
def redrive_cmd(
    name: Annotated[str, typer.Argument(help="The DLQ (kafka:NAME or rabbitmq:NAME).")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Send everything here: a topic (Kafka), a queue or exchange:NAME (RabbitMQ). "
            "Default: each message's recorded source, else the name convention (X.dlq -> X).",
        ),
    ] = None,
    via_exchange: Annotated[
        bool,
        typer.Option(
            "--via-exchange",
            help="RabbitMQ: republish to the recorded exchange with the original routing "
            "keys (reaches every bound queue) instead of the queue the message died in.",
        ),
    ] = False,
    filters: FilterOpt = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Move at most N messages.")
    ] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="At most R messages per second (200, 50/s).")
    ] = None,
    max_redrives: Annotated[
        int,
        typer.Option(
            "--max-redrives",
            min=0,
            help="Skip messages already redriven N times (x-mqctl-redrive-count); 0 = no limit.",
        ),
    ] = 3,
    reset_headers: Annotated[
        list[str] | None,
        typer.Option("--reset-header", help="Set a header on the way out, e.g. retryCount=0."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan (safe peek); change nothing.")
    ] = False,
    yes: YesOpt = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Move dead letters back, at least once: nothing is removed from the DLQ before the
    destination confirmed it. Shows the plan and asks unless --yes; exit 5 if any failed.

    Examples:  mqctl dlq redrive order.created.dlq --dry-run  |  mqctl dlq redrive
    notifications_queue.dlq --filter reason=rejected --limit 100 --rate 50 --yes
    """
    import asyncio

    from mqctl.dlq.engine import stop_on_interrupt
    from mqctl.errors import ExitCode, PartialFailure, UsageError
    from mqctl.services import dlq

    options = _options(to, via_exchange, filters, limit, rate, max_redrives, reset_headers)
    if dry_run:
        plan = run_with_session(lambda s: dlq.plan(s, name, options))
        render(plan, output, table=_summary_table)
        return
    expected = None
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"redrive of {name!r} refused without --yes in a non-interactive shell",
                hint="preview with --dry-run, then rerun with --yes",
            )
        plan = run_with_session(lambda s: dlq.plan(s, name, options))
        render(plan, OutputFormat.table, table=_summary_table)
        confirm(f"Move {plan.moved} messages out of {plan.dlq}?", yes=False)
        expected = plan.examined

    show_progress = output == OutputFormat.table and sys.stderr.isatty()
    progress, update = _progress_bar() if show_progress else (None, None)

    async def main(session: Any) -> RedriveSummary:
        stop = asyncio.Event()
        with stop_on_interrupt(stop):
            return await dlq.redrive(
                session, name, options, progress=update, stop=stop, expected=expected
            )

    if progress is not None:
        with progress:
            summary = run_with_session(main)
    else:
        summary = run_with_session(main)
    render(summary, output, table=_summary_table)
    if summary.interrupted:
        sys.stderr.write("interrupted\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if summary.failed:
        raise PartialFailure(
            f"{summary.failed} messages could not be moved and stay in {summary.dlq}",
            hint="see the failures above; fix the destination and rerun",
        )
