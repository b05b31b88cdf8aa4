"""Table views of ``mqctl dlq`` results (inspect groups, redrive plans and runs, status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mqctl.output.render import Column, field_column, format_cell

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.dlq.models import InspectReport, RedriveStatus, RedriveSummary


def inspect_table(report: InspectReport, console: Console) -> None:
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
                field_column("source_offset", "SOURCE OFFSET", "right"),
                field_column("failed_at", "FAILED AT"),
                field_column("redrive_count", "REDRIVES", "right"),
                field_column("preview", "MESSAGE"),
            ],
            console,
        )


def summary_table(summary: RedriveSummary, console: Console) -> None:
    from mqctl.output.render import render_table

    skipped = sum(summary.skipped.values())
    if summary.dry_run:
        console.print(
            f"Plan for {summary.dlq} (dry run, nothing changed): {summary.moved} to move, "
            f"{skipped} to leave ({summary.already_redriven} already redriven), "
            f"{summary.failed} would fail, of {summary.examined} examined"
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
    if summary.rows:
        render_table(
            summary.rows,
            [
                Column("REASON", lambda r: r.reason),
                Column("SOURCE", lambda r: r.source),
                Column("MATCHED", lambda r: r.matched, "right"),
                Column("ALREADY REDRIVEN", lambda r: r.already_redriven, "right"),
                Column("TO MOVE" if summary.dry_run else "PLANNED", lambda r: r.to_move, "right"),
                Column("LOOP GUARD", lambda r: r.loop_guard, "right"),
                Column("LEFT", lambda r: r.left, "right"),
            ],
            console,
        )
    if summary.unwrap:
        console.print(f"unwrap: the {summary.unwrap!r} field of each envelope is republished")
    for error in summary.errors:
        console.print(f"{'would fail' if summary.dry_run else 'failed'}: {error}")
    if summary.note:
        console.print(f"note: {summary.note}")
    if summary.plan_differs:
        console.print(f"differs from the plan: {summary.plan_differs}")
    if summary.stopped_early:
        console.print(f"stopped early: {summary.stopped_early}")
    if summary.interrupted:
        console.print("interrupted: stopped after the in-flight messages were confirmed")


def status_table(status: RedriveStatus, console: Console) -> None:
    from mqctl.output.render import render_table

    def shown(value: object) -> str:
        return "-" if value is None else str(value)

    console.print(
        f"{status.dlq}: depth {shown(status.depth)}, redriven {shown(status.redriven)} "
        f"(still in the DLQ: {shown(status.redriven_retained)}), not redriven "
        f"{shown(status.not_redriven)}; last {shown(status.last_redrive_at)} by "
        f"{shown(status.last_redrive_by)}"
    )
    if status.running:
        console.print(f"running now: {status.running}")
    if status.runs:
        console.print("Redrive ledger:")
        render_table(
            status.runs,
            [
                field_column("last_at", "LAST"),
                field_column("by", "BY"),
                field_column("moved", "MOVED", "right"),
                field_column("run", "RUN"),
            ],
            console,
        )
    if status.audit:
        console.print("Audit log (this machine):")
        render_table(
            status.audit,
            [
                field_column("time", "TIME"),
                Column("BY", lambda a: f"{a.user}@{a.host}"),
                field_column("outcome", "OUTCOME"),
                field_column("moved", "MOVED", "right"),
                field_column("failed", "FAILED", "right"),
                Column("FILTERS", lambda a: " ".join(f"{k}={v}" for k, v in a.filters.items())),
            ],
            console,
        )
