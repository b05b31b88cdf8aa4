"""``mqctl lag``: consumer group lag (Kafka) and queue depth (RabbitMQ) in one view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli import fleet
from mqctl.cli.common import OutputOpt, WideOpt
from mqctl.output.render import OutputFormat

if TYPE_CHECKING:
    from mqctl.lag.checks import Thresholds
    from mqctl.models.lag import LagEntry
    from mqctl.services.lag import LagQuery

FAIL_ON_CHOICES = ("warn", "stall", "stop", "error", "unknown")


def register(app: typer.Typer) -> None:
    app.command("lag")(lag_cmd)


def _check(entries: list[LagEntry], limits: Thresholds) -> None:
    from mqctl.errors import CheckFailed
    from mqctl.lag.checks import summary, violations

    found = violations(entries, limits)
    if found:
        raise CheckFailed(summary(found))


def lag_cmd(
    groups: Annotated[
        list[str] | None,
        typer.Argument(help="Consumer groups or queues (kafka:NAME / rabbitmq:NAME); none = all."),
    ] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", "-t", help="Only partitions of this Kafka topic.")
    ] = None,
    all_groups: Annotated[
        bool, typer.Option("--all-groups", help="Every group and queue (the default).")
    ] = False,
    output: OutputOpt = OutputFormat.table,
    wide: WideOpt = False,
    partitions: Annotated[
        bool,
        typer.Option(
            "--partitions/--no-partitions",
            "-p",
            help="Table: also list partitions (default when groups are named).",
        ),
    ] = False,
    window: Annotated[
        str | None,
        typer.Option("--window", help="Sample over this long (e.g. 30s) and apply Burrow's rules."),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", help="Time between samples (default: window/10, min 1s)."),
    ] = None,
    watch: Annotated[
        str | None,
        typer.Option("--watch", "-w", help="Refresh every SECONDS (table in place; jsonl lines)."),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="With --watch/--serve: stop after N.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 at this status or worse: warn|stall|stop|error (each also fails on "
            "UNKNOWN), or unknown (UNKNOWN only).",
        ),
    ] = None,
    ignore_unknown: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown", help="--fail-on levels pass UNKNOWN (broker down, no stats)."
        ),
    ] = False,
    max_lag: Annotated[
        int | None, typer.Option("--max-lag", min=0, help="Exit 1 if a group's lag exceeds N.")
    ] = None,
    max_time_lag: Annotated[
        str | None, typer.Option("--max-time-lag", help="Exit 1 if time lag exceeds (e.g. 5m).")
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option("--lagging-over", min=0, help="Snapshot LAGGING above N (default: 0)."),
    ] = None,
    serve: Annotated[
        str | None,
        typer.Option("--serve", help="Prometheus exporter on HOST:PORT, e.g. 127.0.0.1:9308."),
    ] = None,
    include_dlq: Annotated[
        bool,
        typer.Option(
            "--include-dlq",
            help="Also dead-letter queues/topics (left out of the all-groups view by default).",
        ),
    ] = False,
    contexts: fleet.ContextsOpt = None,
    all_contexts: fleet.AllContextsOpt = False,
) -> None:
    """Lag of consumer groups and queues, with time lag and a health status.

    Snapshot statuses: OK, LAGGING, STOPPED, ERROR. With --window or --watch: Burrow's rules
    (OK, WARN, STALL, STOP, REWIND, ERROR) and an interpolated time lag estimate. Both:
    DATA_LOSS (committed offset below the log start) and UNKNOWN (a broker down, or its
    figures missing); a down broker does not hide the others' rows. Dead-letter
    queues/topics are left out unless named or --include-dlq. Exit 1 when
    --fail-on/--max-lag/--max-time-lag is violated. Rules and JSON fields: docs/lag.md.

    Examples:  mqctl lag  |  mqctl lag orders-group -o json  |  mqctl lag --window 30s
    --fail-on stall  |  mqctl lag --watch 5  |  mqctl lag --serve 127.0.0.1:9308
    """
    from mqctl.errors import UsageError
    from mqctl.lag.checks import FailOn, Thresholds
    from mqctl.lag.parsing import parse_duration
    from mqctl.services.lag import LagQuery

    if all_groups and groups:
        raise UsageError("give group names or --all-groups, not both")
    if fail_on is not None and fail_on.lower() not in FAIL_ON_CHOICES:
        raise UsageError(
            f"invalid --fail-on {fail_on!r} (choose from {', '.join(FAIL_ON_CHOICES)})"
        )
    limits = Thresholds(
        fail_on=FailOn(fail_on.lower()) if fail_on else None,
        max_lag=max_lag,
        max_time_lag=parse_duration(max_time_lag, "--max-time-lag") if max_time_lag else None,
        ignore_unknown=ignore_unknown,
    )
    query = LagQuery(tuple(groups) if groups else None, topic, threshold or 0, include_dlq)
    show_partitions = partitions or bool(groups)
    window_s = parse_duration(window, "--window") if window else None
    watch_s = parse_duration(watch, "--watch") if watch else None
    if watch_s is not None and watch_s <= 0:
        raise UsageError("--watch needs a positive number of seconds")
    if window_s is not None and watch_s is not None:
        raise UsageError("use --window or --watch, not both")
    interval_s = parse_duration(interval, "--interval") if interval else None
    if fleet.wanted(contexts, all_contexts):
        if watch_s is not None and serve is None:
            raise UsageError("--watch shows one context; for several use --serve")
        period = watch_s or interval_s  # --serve samples every --watch seconds
        fleet.lag(query, window_s, period, limits, output, contexts, all_contexts, serve)
        return
    if serve is not None:
        _serve(query, serve, watch_s or interval_s or 15.0, count)
        return
    if watch_s is not None:
        _watch(query, output, watch_s, count, limits, show_partitions)
        return
    entries = _collect(query, window_s, interval_s)
    _render(entries, output, show_partitions, wide)
    if limits.active:
        _check(entries, limits)
    _unreachable_is_3(entries)


def _unreachable_is_3(entries: list[LagEntry]) -> None:
    """The view was printed with an UNKNOWN row for each broker that could not be sampled;
    the command still ends with exit 3 (docs/lag.md, "Partial outages")."""
    from mqctl.errors import ConnectError
    from mqctl.services.lag import unreachable

    down = unreachable(entries)
    if down:
        more = f" (+{len(down) - 1} more)" if len(down) > 1 else ""
        raise ConnectError(f"{down[0].backend}: {down[0].error}{more}")


def _collect(query: LagQuery, window: float | None, interval: float | None) -> list[LagEntry]:
    from mqctl.cli.common import run_with_session
    from mqctl.services import lag as service

    if window is None:
        return run_with_session(lambda s: service.snapshot(s, query))
    step = interval if interval is not None else max(1.0, window / 10)
    return run_with_session(lambda s: service.window(s, query, window, step))


def _render(entries: list[LagEntry], output: str, partitions: bool, wide: bool = False) -> None:
    import sys

    from mqctl.lag.serialize import entry_dict, write_json, write_jsonl
    from mqctl.output.render import render

    # JSON is the runbooks' format and can be large: the lag package's fast encoder.
    if output == "json":
        write_json(entries, sys.stdout)
    elif output == "jsonl":
        write_jsonl([entry_dict(e) for e in entries], sys.stdout)
    else:
        from mqctl.cli.lag_tables import render_entries

        render(
            entries,
            output,
            table=lambda data, console: render_entries(data, console, partitions, wide),
        )


def _watch(
    query: LagQuery,
    output: str,
    every: float,
    count: int | None,
    limits: Thresholds,
    partitions: bool,
) -> None:
    import sys
    from datetime import UTC, datetime

    from mqctl.cli.common import run_with_session
    from mqctl.cli.lag_tables import build_tables, render_entries
    from mqctl.errors import ConnectError, UsageError
    from mqctl.lag.serialize import entry_dict, write_jsonl
    from mqctl.output.render import make_console
    from mqctl.services import lag as service
    from mqctl.services.lag import unreachable

    if output == "yaml":
        raise UsageError("--watch writes table or jsonl (json is written as jsonl)")
    streaming = output in ("json", "jsonl")
    console = make_console()
    live: Any = None
    if not streaming and console.is_terminal:
        from rich.live import Live

        live = Live(console=console, auto_refresh=False, transient=False)
        live.start()

    sampled = False

    def show(entries: list[LagEntry]) -> None:
        nonlocal sampled
        sampled = True
        if streaming:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            write_jsonl(
                [{"sampled_at": stamp, "entries": [entry_dict(e) for e in entries]}], sys.stdout
            )
            sys.stdout.flush()
        elif live is not None:
            from rich.console import Group

            live.update(Group(*build_tables(entries, partitions)), refresh=True)
        else:
            render_entries(entries, console, partitions)
        # A broker that worked and went away (a restart) is a gap in its rows (UNKNOWN, with
        # the reason), one line per failed sample; the other brokers' rows keep coming.
        for row in unreachable(entries):
            sys.stderr.write(
                f"warning: lag sample failed: {row.backend}: {row.error}; retrying in {every:g}s\n"
            )
        sys.stderr.flush()
        if limits.active:
            _check(entries, limits)

    def gap(exc: ConnectError) -> None:
        # No broker answered the very first sample (a wrong context): exit 3. Later, the
        # sample is the brokers' UNKNOWN rows (see show).
        if not sampled:
            raise exc

    try:
        run_with_session(lambda s: service.watch(s, query, every, show, count=count, on_error=gap))
    finally:
        if live is not None:
            live.stop()


def _serve(query: LagQuery, address: str, every: float, count: int | None) -> None:
    import sys

    from mqctl.cli.common import invocation, run_with_session
    from mqctl.lag.exporter import Exporter
    from mqctl.services import lag as service

    exporter = Exporter(invocation().context or "default", address)

    async def loop(session: Any) -> None:
        exporter.collector.cluster = session.context.name
        exporter.collector.backends = service.lag_backends(session)
        exporter.start()
        sys.stderr.write(
            f"serving lag metrics on http://{exporter.host}:{exporter.port}/metrics "
            f"(every {every:g}s, Ctrl-C to stop)\n"
        )
        sys.stderr.flush()
        # Keep serving through broker blips: mqctl_lag_up tells the scraper it is down.
        await service.watch(
            session,
            query,
            every,
            exporter.collector.update,
            count=count,
            on_error=lambda exc: exporter.collector.failed(str(exc)),
        )

    try:
        run_with_session(loop)
    finally:
        exporter.stop()
