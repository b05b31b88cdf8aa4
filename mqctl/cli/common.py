"""What every command shares: global state, options, running the async core, confirmation."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from mqctl.config.schema import Context

if TYPE_CHECKING:
    from mqctl.session import Session
from mqctl.errors import UsageError
from mqctl.output.render import OutputFormat

T = TypeVar("T")


@dataclass
class State:
    """Global options, set by the root callback and read by every command."""

    context: str | None = None
    timeout: float | None = None
    debug: bool = False


STATE = State()

OutputOpt = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="Output format: table, json, jsonl or yaml."),
]
VhostOpt = Annotated[
    str | None,
    typer.Option("--vhost", help="RabbitMQ vhost (default: the context's vhost, usually /)."),
]
AllVhostsOpt = Annotated[bool, typer.Option("--all-vhosts", help="Every vhost.")]
YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Do not ask for confirmation (protected contexts: with --context)."
    ),
]


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Fewer garbage collector passes during a long peek or publish: they allocate several
    objects per message and keep a batch's worth alive, so the default thresholds collect
    often over a large live set (~20% of the CPU time). Objects that exist before (modules,
    config) are not scanned at all meanwhile."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), max(threshold[1], 20), max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_with_session(fn: Callable[..., Awaitable[T]]) -> T:
    """Open a Session on the selected context, run ``fn(session)``, always close it."""
    import asyncio

    from mqctl.config import load_config, resolve_context
    from mqctl.session import Session

    context = resolve_context(load_config(), STATE.context)

    async def main() -> T:
        async with Session(
            context, timeout=STATE.timeout, write_approval=approve_protected_write
        ) as session:
            try:
                result = await fn(session)
            except BaseException as exc:
                _audit(session, None, exc)
                raise
            _audit(session, result, None)
            return result

    return asyncio.run(main())


def _audit(session: Session, result: object, error: BaseException | None) -> None:
    """Every write is recorded in the audit log (docs/config.md), whatever its outcome.
    Redrives write their own, more detailed record."""
    writes = [w for w in session.writes if not w.startswith("dlq redrive")]
    if not writes:
        return
    from mqctl import audit
    from mqctl.cli.app import command_line
    from mqctl.errors import MqctlError, PartialFailure

    counts: dict[str, object] = {}
    for name in ("count", "published", "failed", "moved", "deleted", "changed"):
        value = getattr(result, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            counts[name] = value
    if error is None:
        outcome = "ok"
    elif isinstance(error, PartialFailure):
        outcome = "partial"
    elif isinstance(error, KeyboardInterrupt):
        outcome = "interrupted"
    else:
        outcome = "failed"
    details = {"error": error.message} if isinstance(error, MqctlError) else None
    audit.record(
        context=session.context.name,
        command=command_line(),
        target="; ".join(writes),
        counts=counts,
        outcome=outcome,
        details=details,
    )


def approve_protected_write(action: str, context: Context) -> None:
    """A protected context (e.g. prod): the user types its name, or passes both
    ``--yes`` and ``--context NAME`` explicitly (for scripts)."""
    from mqctl.cli.app import explicit_yes

    if explicit_yes() and STATE.context == context.name:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"context {context.name!r} is protected: {action} refused without confirmation",
            hint=f"in scripts pass both --yes and --context {context.name}",
        )
    typed = typer.prompt(
        f"Context {context.name!r} is protected. Type its name to confirm {action}",
        default="",
        show_default=False,
    )
    if typed.strip() != context.name:
        raise UsageError(f"confirmation did not match {context.name!r}: {action} cancelled")


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive change; refuse (exit 2) when nobody can answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — refusing without --yes in a non-interactive shell")
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)
