"""``mqctl dlq``: find dead-letter queues, see why messages died, move them back safely."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli import fleet
from mqctl.cli.common import OutputOpt, VhostOpt, YesOpt, confirm, run_with_session
from mqctl.cli.dlq_tables import inspect_table, status_table, summary_table
from mqctl.output.render import Column, OutputFormat, field_column, render

if TYPE_CHECKING:
    from mqctl.dlq.models import DeadLetterQueue, RedriveSummary
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
def list_cmd(
    output: OutputOpt = OutputFormat.table,
    contexts: fleet.ContextsOpt = None,
    all_contexts: fleet.AllContextsOpt = False,
) -> None:
    """List dead-letter queues: broker, name, depth, sources, oldest message, top reasons.

    A DLQ is a queue another queue dead-letters into (RabbitMQ DLX routing), a name
    following a convention (*.dlq, *.dead, *-dlq, *_dlq, dlq.*, *.DLT, *-dlt, plus the
    context's dlq-patterns), or a Kafka topic whose messages carry dead-letter headers.

    Examples:  mqctl dlq list  |  mqctl dlq list -o json  |  mqctl dlq list --context a,b
    """
    from mqctl.services import dlq

    if fleet.wanted(contexts, all_contexts):
        fleet.listing(lambda s: dlq.list_dlqs(s), contexts, all_contexts, output, LIST_COLUMNS)
        return

    found = run_with_session(lambda s: dlq.list_dlqs(s))
    render(found, output, columns=LIST_COLUMNS)


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
    vhost: VhostOpt = None,
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
            vhost=vhost,
        )
    )
    render(report, output, table=inspect_table)


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
        if not progress.live.is_started:  # from the first report: after any prompt
            progress.start()
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
    unwrap: str | None = None,
) -> RedriveOptions:
    from mqctl.dlq.plan import RedriveOptions, parse_assignments, parse_filters
    from mqctl.dlq.republish import check_unwrap
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
        unwrap=check_unwrap(unwrap),
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
    unwrap: Annotated[
        str | None,
        typer.Option(
            "--unwrap",
            help="Republish this field of a JSON envelope body (e.g. payload); the "
            "envelope's other fields become x-mqctl-envelope-* headers.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan (safe peek); change nothing.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="client (default: mqctl moves each message) or shovel (RabbitMQ, a plain "
            "move --to QUEUE: a dynamic shovel inside the broker, supervised by mqctl).",
        ),
    ] = "client",
    vhost: VhostOpt = None,
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
    from mqctl.dlq.server_side import check_engine
    from mqctl.errors import ExitCode, PartialFailure
    from mqctl.services import dlq

    options = _options(to, via_exchange, filters, limit, rate, max_redrives, reset_headers, unwrap)
    check_engine(engine)
    if dry_run:
        plan = run_with_session(lambda s: dlq.plan(s, name, options, engine=engine, vhost=vhost))
        render(plan, output, table=summary_table)
        if plan.failed:
            raise PartialFailure(
                f"{plan.failed} messages would fail (their destination does not exist)",
                hint="create the destination or choose one with --to",
            )
        return

    async def ask(plan: RedriveSummary) -> None:
        """Without --yes the service plans, this shows the plan and asks (a no is audited
        and exits 6; without a terminal it refuses, exit 2)."""
        if sys.stdin.isatty():
            render(plan, OutputFormat.table, table=summary_table)
        confirm(f"Move {plan.moved} messages out of {plan.dlq}?", yes=False)

    show_progress = output == OutputFormat.table and sys.stderr.isatty()
    progress, update = _progress_bar() if show_progress else (None, None)

    async def main(session: Any) -> RedriveSummary:
        stop = asyncio.Event()
        with stop_on_interrupt(stop):
            return await dlq.redrive(
                session,
                name,
                options,
                progress=update,
                stop=stop,
                confirm=None if yes else ask,
                engine=engine,
                vhost=vhost,
            )

    try:
        summary = run_with_session(main)
    finally:
        if progress is not None:
            progress.stop()
    render(summary, output, table=summary_table)
    if summary.interrupted:
        sys.stderr.write("interrupted\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if summary.failed:
        raise PartialFailure(
            f"{summary.failed} messages could not be moved and stay in {summary.dlq}",
            hint="see the failures above; fix the destination and rerun",
        )
    if summary.plan_differs:
        raise PartialFailure(
            f"the redrive of {summary.dlq} differs from its plan: {summary.plan_differs}"
        )


@dlq_app.command("status")
def status_cmd(
    name: Annotated[str, typer.Argument(help="The DLQ (kafka:NAME or rabbitmq:NAME).")],
    vhost: VhostOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """How much of a DLQ was already redriven, when and by whom (Kafka: the redrive ledger,
    shared by every operator; every broker: this machine's audit log). Read-only.

    Examples:  mqctl dlq status order.created.dlq  |  mqctl dlq status X.dlq -o json
    """
    from mqctl.services import dlq_status

    found = run_with_session(lambda s: dlq_status.status(s, name, vhost=vhost))
    render(found, output, table=status_table)
