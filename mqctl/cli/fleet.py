"""Many contexts at once for the listings (``--context a,b``, ``--all-contexts``): a CONTEXT
column / ``context`` field, a row saying UNREACHABLE for a context that did not answer, and
the worst context's exit code (the fan-out itself is :mod:`mqctl.fleet`)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mqctl.cli.common import begin_invocation, invocation
from mqctl.output.render import Column, render, to_jsonable

if TYPE_CHECKING:
    from mqctl.fleet import Outcome
    from mqctl.lag.checks import Thresholds
    from mqctl.services.lag import LagQuery
    from mqctl.session import Session

T = TypeVar("T")

ContextsOpt = Annotated[
    str | None,
    typer.Option(
        "--context",
        "-c",
        help="Context, or several comma-separated (a,b): queried concurrently, with a "
        "CONTEXT column.",
    ),
]
AllContextsOpt = Annotated[
    bool, typer.Option("--all-contexts", help="Every context of the config, concurrently.")
]


def wanted(contexts: str | None, all_contexts: bool) -> bool:
    """Whether this is a fleet request. A single ``--context NAME`` given after the command
    works like the global one."""
    from mqctl.fleet import is_fleet

    names = contexts or invocation().context
    if is_fleet(names, all_contexts):
        return True
    if contexts:
        # the rest of this run uses it like the global --context (cli.app.run resets it)
        begin_invocation(dataclasses.replace(invocation(), context=contexts))
    return False


def gather(
    fn: Callable[[Session], Awaitable[T]], contexts: str | None, all_contexts: bool
) -> list[Outcome[T]]:
    import asyncio

    from mqctl import fleet
    from mqctl.config import load_config

    current = invocation()
    selected = fleet.select(load_config(), contexts or current.context, all_contexts)
    found: list[list[Outcome[T]]] = []

    async def main() -> None:  # returns nothing: see run_with_session (cli/common.py)
        found.append(await fleet.gather(selected, fn, timeout=current.timeout, invocation=current))

    asyncio.run(main())
    return found[0]


@dataclass(slots=True)
class FleetRow:
    context: str
    item: Any = None
    status: str = "OK"
    error: str | None = None


def rows_of(outcomes: Sequence[Outcome[list[Any]]]) -> list[FleetRow]:
    rows: list[FleetRow] = []
    for o in outcomes:
        if o.unsupported:
            continue
        if o.error is not None:
            rows.append(FleetRow(o.context, None, o.status, o.error.message))
            continue
        rows.extend(FleetRow(o.context, item) for item in o.value or [])
    return rows


def _json_row(row: FleetRow) -> dict[str, Any]:
    if row.item is None:
        return {"context": row.context, "status": row.status, "error": row.error}
    data = to_jsonable(row.item)
    return {"context": row.context, **(data if isinstance(data, dict) else {"value": data})}


def fleet_columns(columns: Sequence[Column]) -> list[Column]:
    """CONTEXT first; a failed context's row says UNREACHABLE (or ERROR) in the first
    column and why in the last."""

    last = len(columns) - 1

    def cell(index: int, column: Column) -> Callable[[FleetRow], Any]:
        def get(row: FleetRow) -> Any:
            if row.item is not None:
                return column.get(row.item)
            if index == 0:
                return row.status
            return row.error if index == last else None

        return get

    return [
        Column("CONTEXT", lambda r: r.context),
        *(Column(c.header, cell(i, c), c.justify) for i, c in enumerate(columns)),
    ]


def report_errors(outcomes: Sequence[Outcome[Any]]) -> None:
    """One ``error:`` line per failed context on stderr (stdout keeps the rows)."""
    from mqctl.config.secrets import scrub
    from mqctl.output.sanitize import safe_text

    for o in outcomes:
        if o.error is not None and not o.unsupported:
            line = safe_text(scrub(" ".join(o.error.message.split())))
            sys.stderr.write(f"error: context {o.context!r}: {line}\n")


def finish(outcomes: Sequence[Outcome[Any]], extra_code: int = 0) -> None:
    """Exit with the worst code of the contexts (and of the command's own check)."""
    from mqctl.fleet import worst_exit

    report_errors(outcomes)
    code = max(worst_exit(outcomes), extra_code)
    if code:
        raise typer.Exit(code)


def listing(
    fn: Callable[[Session], Awaitable[list[Any]]],
    contexts: str | None,
    all_contexts: bool,
    output: str,
    columns: Sequence[Column],
) -> None:
    """The whole fleet path of a listing command: fan out, render, exit code."""
    outcomes = gather(fn, contexts, all_contexts)
    render_rows(outcomes, output, columns)
    finish(outcomes)


def render_rows(
    outcomes: Sequence[Outcome[list[Any]]], output: str, columns: Sequence[Column]
) -> None:
    """Every context's rows in one table (a CONTEXT column first) or one JSON list."""
    rows = rows_of(outcomes)
    if output == "table":
        render(rows, output, columns=fleet_columns(columns))
    else:
        render([_json_row(r) for r in rows], output)


def lag(
    query: LagQuery,
    window: float | None,
    interval: float | None,
    limits: Thresholds,
    output: str,
    contexts: str | None,
    all_contexts: bool,
    serve: str | None,
) -> None:
    """``mqctl lag`` over several contexts: one snapshot (or window) each, the same rules and
    limits per context; ``--serve`` exports them all (mqctl/lag/exporter.py)."""
    from mqctl.cli.lag_tables import SUMMARY_COLUMNS
    from mqctl.lag.checks import summary, violations
    from mqctl.services import lag as service

    if serve is not None:
        from mqctl.cli.exporter import serve_fleet

        serve_fleet(query, serve, interval or 15.0, contexts, all_contexts)
        return

    async def sample(session: Session) -> list[Any]:
        if window is None:
            return await service.snapshot(session, query)
        step = interval if interval is not None else max(1.0, window / 10)
        return await service.window(session, query, window, step)

    outcomes = gather(sample, contexts, all_contexts)
    render_rows(outcomes, output, SUMMARY_COLUMNS)
    failed = 0
    if limits.active:
        for o in outcomes:
            found = violations(o.value or [], limits) if o.error is None else []
            if found:
                sys.stderr.write(f"error: context {o.context!r}: {summary(found)}\n")
                failed = 1
    finish(outcomes, failed)
