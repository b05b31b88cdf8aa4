"""``mqctl doctor``: the on-call health checklist of one or many contexts (docs/doctor.md)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mqctl.cli.common import OutputOpt, run_with_session
from mqctl.cli.fleet import AllContextsOpt, ContextsOpt
from mqctl.output.render import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from mqctl.doctor.model import Finding


class FailOn(enum.StrEnum):
    warn = "warn"
    crit = "crit"


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_cmd)


STYLES = {"CRIT": "bold red", "WARN": "yellow", "OK": "green", "UNKNOWN": "magenta"}


def _table(findings: list[Finding], console: Console) -> None:
    """One line per finding, then its evidence and what to do, indented: readable at 3 a.m."""
    from rich.text import Text

    from mqctl.output.sanitize import safe_text

    several = len({f.context for f in findings}) > 1
    for f in findings:
        line = Text()
        line.append(f"{f.severity.value:<8}", style=STYLES[f.severity.value])
        where = f"{f.context}/{f.backend}" if several else f.backend
        line.append(safe_text(f"{where:<20} {f.check:<20} {f.summary}"))
        console.print(line)
        for item in f.evidence:
            console.print(Text(safe_text(f"{'':8}  - {item}")))
        if f.action and f.severity.value != "OK":
            console.print(Text(safe_text(f"{'':8}  -> {f.action}")))
    counts = {s: sum(1 for f in findings if f.severity.value == s) for s in STYLES}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings")


def doctor_cmd(
    output: OutputOpt = OutputFormat.table,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help="Run only this check (repeat, or a,b). See docs/doctor.md."),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.0,
            max=3600.0,
            help="Seconds between the two samples of the growth checks (default 5, or the "
            "config's doctor.interval; 0: one sample, growth is UNKNOWN).",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 on a CRIT finding (crit) or on any CRIT, WARN or UNKNOWN (warn).",
        ),
    ] = None,
    contexts: ContextsOpt = None,
    all_contexts: AllContextsOpt = False,
) -> None:
    """Health checklist: findings ordered by severity with evidence and what to do.

    Kafka: controller, offline and under-replicated partitions, groups stalled or stopped,
    records lost to retention, DLQs growing, topics nobody consumes. RabbitMQ: alarms, nodes,
    quorum queues, queues without consumers or growing, unacked, DLQs, connection churn.
    Exit 0 ok, 1 --fail-on matched, 3 a broker or context did not answer.

    Examples:  mqctl doctor  |  mqctl doctor --fail-on crit -o json  |  mqctl doctor
    --all-contexts  |  mqctl doctor --check dlq --interval 30
    """
    from mqctl.cli import fleet as fleet_cli
    from mqctl.doctor.model import Finding, Severity, failed, ordered
    from mqctl.doctor.runner import check_names, diagnose
    from mqctl.output.render import render

    only = check_names(check or [])
    fail_mode = fail_on.value if fail_on is not None else None

    async def run(session: Any) -> list[Finding]:
        return await diagnose(session, checks=only, interval=interval)

    if fleet_cli.wanted(contexts, all_contexts):
        outcomes = fleet_cli.gather(run, contexts, all_contexts)
        findings: list[Finding] = []
        for o in outcomes:
            if o.error is None:
                findings.extend(o.value or [])
                continue
            findings.append(
                Finding(
                    "reachable",
                    Severity.CRIT if o.status == "UNREACHABLE" else Severity.UNKNOWN,
                    "-",
                    f"{o.status}: the context could not be checked",
                    [o.error.message],
                    "check the context's brokers and config",
                    o.context,
                )
            )
        findings = ordered(findings)
        render(findings, output, table=_table)
        own = 1 if failed(findings, fail_mode) else 0
        fleet_cli.finish(outcomes, max(own, _unreachable_code(findings)))
        return

    findings = run_with_session(run)
    render(findings, output, table=_table)
    code = max(1 if failed(findings, fail_mode) else 0, _unreachable_code(findings))
    if code:
        raise typer.Exit(code)


def _unreachable_code(findings: list[Finding]) -> int:
    """3 when a broker did not answer (its checks could not run), as for every command."""
    down = any(f.check == "reachable" and f.severity.value == "CRIT" for f in findings)
    return 3 if down else 0
