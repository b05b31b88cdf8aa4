"""``mqctl audit``: what mqctl changed on the brokers, from the local audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from mqctl.cli.common import OutputOpt
from mqctl.output.render import Column, OutputFormat, render


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_cmd)


def audit_cmd(
    output: OutputOpt = OutputFormat.table,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N records.")] = 50,
    context: Annotated[
        str | None, typer.Option("--for-context", help="Only writes to this context.")
    ] = None,
) -> None:
    """Show the audit log of writes (publish, redrive, resets, deletes...), newest last.

    Examples:  mqctl audit  |  mqctl audit -n 200 -o jsonl  |  mqctl audit --for-context prod
    """
    from mqctl import audit

    records = audit.read()
    if context:
        records = [r for r in records if r.get("context") == context]
    records = records[-limit:]
    render(
        records,
        output,
        columns=[
            Column("TIME", lambda r: r.get("time")),
            Column("USER", lambda r: r.get("user")),
            Column("CONTEXT", lambda r: r.get("context")),
            Column("OUTCOME", lambda r: r.get("outcome")),
            Column("TARGET", lambda r: r.get("target")),
            Column("COUNTS", lambda r: r.get("counts")),
            Column("COMMAND", lambda r: r.get("command")),
        ],
    )
