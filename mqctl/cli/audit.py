"""``mqctl audit``: what mqctl changed on the brokers (or was refused), from the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from mqctl.cli.common import OutputOpt
from mqctl.output.render import Column, OutputFormat, render

OUTCOMES = ("ok", "partial", "failed", "refused", "declined", "interrupted")


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_cmd)


def audit_cmd(
    output: OutputOpt = OutputFormat.table,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N records.")] = 50,
    context: Annotated[
        str | None, typer.Option("--for-context", help="Only writes to this context.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only records newer than a duration (1h) or ISO time."),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", help=f"Only this outcome: {', '.join(OUTCOMES)}."),
    ] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="Only this action, e.g. publish, 'queue purge'."),
    ] = None,
) -> None:
    """Show the audit log of writes (publish, redrive, resets, deletes...), newest last.

    Each write is one record with its outcome: ok, partial, failed, refused, declined or
    interrupted.

    Examples:  mqctl audit  |  mqctl audit -n 200 -o jsonl  |  mqctl audit --for-context prod
    --since 1h  |  mqctl audit --outcome failed -o json
    """
    from mqctl import audit
    from mqctl.errors import UsageError

    if outcome is not None and outcome not in OUTCOMES:
        raise UsageError(f"--outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
    after = _since(since) if since is not None else None
    records = [
        r
        for r in audit.read()
        if (context is None or r.get("context") == context)
        and (outcome is None or r.get("outcome") == outcome)
        and (action is None or r.get("action") == action)
        and (after is None or _time(r) >= after)
    ]
    render(
        records[-limit:],
        output,
        columns=[
            Column("TIME", lambda r: r.get("time")),
            Column("USER", lambda r: r.get("user")),
            Column("CONTEXT", lambda r: r.get("context")),
            Column("ACTION", lambda r: r.get("action")),
            Column("OUTCOME", lambda r: r.get("outcome")),
            Column("TARGET", lambda r: r.get("target")),
            Column("COUNTS", lambda r: r.get("counts")),
            Column("COMMAND", lambda r: r.get("command")),
        ],
    )


def _since(text: str) -> datetime:
    """``--since``: a duration back from now, or an ISO 8601 time."""
    from mqctl.errors import UsageError
    from mqctl.lag.parsing import parse_datetime_ms, parse_duration

    try:
        seconds = parse_duration(text, "--since")
    except UsageError:
        return datetime.fromtimestamp(parse_datetime_ms(text) / 1000, UTC)
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() - seconds, UTC)


def _time(record: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(record.get("time")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
