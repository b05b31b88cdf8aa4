"""What every command shares: global state, options, running the async core, confirmation."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import typer

from mqctl.config.schema import Context
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
            return await fn(session)

    return asyncio.run(main())


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
