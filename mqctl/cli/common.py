"""What every command shares: the invocation, options, running the async core, confirmation.

The root callback (``cli/app.py``) builds this run's :class:`~mqctl.invocation.Invocation`
(``ctx.obj``); commands read it with :func:`invocation` and :func:`run_with_session` hands it
to the Session, so services audit with the real command line. No mutable module state.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
import typer.core

from mqctl.completion import completer
from mqctl.errors import DeclinedError, WriteRefused
from mqctl.gc_tuning import few_collections as few_collections  # peek, publish
from mqctl.invocation import Invocation
from mqctl.output.render import OutputFormat

if TYPE_CHECKING:
    from mqctl.config.schema import Context

T = TypeVar("T")

OutputOpt = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="Output format: table, json, jsonl or yaml."),
]
WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Table: show long names whole (on a narrow terminal they are cut in the middle "
        "with … so every column stays visible).",
    ),
]
VhostOpt = Annotated[
    str | None,
    typer.Option(
        "--vhost",
        help="RabbitMQ vhost (default: the context's vhost, usually /).",
        autocompletion=completer("vhost"),
    ),
]
AllVhostsOpt = Annotated[bool, typer.Option("--all-vhosts", help="Every vhost.")]
YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Do not ask for confirmation (protected contexts: with --context)."
    ),
]

# Parameters whose words are message data: left out of the audit log's command line.
MESSAGE_PARAMS = frozenset({"value", "key", "header", "prop"})

# This run's invocation: set by the root callback (which also puts it in Typer's ctx.obj)
# for the duration of cli.app.run(), read by commands through invocation(). A context
# variable, so nothing outlives the run and nothing needs resetting between runs.
_CURRENT: ContextVar[Invocation | None] = ContextVar("mqctl_invocation", default=None)


def invocation() -> Invocation:
    """This run's invocation (global options, argv, explicit --yes)."""
    return _CURRENT.get() or Invocation()


def begin_invocation(current: Invocation) -> Token[Invocation | None]:
    """Make ``current`` this run's invocation; ``end_invocation(token)`` undoes it."""
    return _CURRENT.set(current)


def end_invocation(token: Token[Invocation | None]) -> None:
    _CURRENT.reset(token)


def describe_command_line(
    root: typer.core.TyperGroup, argv: tuple[str, ...]
) -> tuple[frozenset[int], bool]:
    """Which words of ``argv`` hold message data (values, keys, headers), and whether the
    command carries an explicit ``--yes``: read with the commands' own parameter tables (the
    options of every level, the leaf command's arguments), without parsing anything twice."""
    command: object = root
    options: dict[str, typer.core.TyperOption] = {}
    given: set[str] = set()  # names of the options present
    positional: list[tuple[int, typer.core.TyperArgument | None]] = []
    arguments: list[typer.core.TyperArgument] = []
    secret: set[int] = set()
    only_positional = False
    index = 0
    _add_params(command, options, arguments)
    while index < len(argv):
        word = argv[index]
        if not only_positional and word == "--":
            only_positional = True
        elif not only_positional and word.startswith("-") and word != "-":
            name = word.partition("=")[0]
            option = options.get(name) or options.get(word[:2])
            if option is not None and option.name:
                given.add(option.name)
                takes_value = not option.is_flag and not option.count
                sensitive = option.name in MESSAGE_PARAMS
                if takes_value and word in options:  # the value is the next word
                    if sensitive:
                        secret.add(index + 1)
                    index += 1
                elif takes_value and sensitive:  # --key=VALUE or -kVALUE
                    secret.add(index)
        elif isinstance(command, typer.core.TyperGroup) and word in command.commands:
            command = command.commands[word]
            arguments = []
            _add_params(command, options, arguments)
        else:
            positional.append((index, _argument_at(arguments, len(positional))))
        index += 1
    # `publish --exchange X VALUE`: the only positional word is the value.
    takes_values = any(argument.name == "value" for argument in arguments)
    values_only = takes_values and bool(given & {"exchange", "queue"})
    for index, argument in positional:
        holds_value = argument is not None and (argument.name in MESSAGE_PARAMS or values_only)
        if holds_value and argv[index] != "-":
            secret.add(index)
    return frozenset(secret), "yes" in given


def _add_params(
    command: object,
    options: dict[str, typer.core.TyperOption],
    arguments: list[typer.core.TyperArgument],
) -> None:
    for param in getattr(command, "params", []):
        if isinstance(param, typer.core.TyperOption):
            options.update((name, param) for name in [*param.opts, *param.secondary_opts])
        elif isinstance(param, typer.core.TyperArgument):
            arguments.append(param)


def _argument_at(
    arguments: list[typer.core.TyperArgument], position: int
) -> typer.core.TyperArgument | None:
    for argument in arguments:
        if argument.nargs == -1 or position < argument.nargs:
            return argument
        position -= argument.nargs
    return None


def run_with_session(fn: Callable[..., Awaitable[T]], *, context_name: str | None = None) -> T:
    """Open a Session on the selected context (or ``context_name``), run ``fn(session)``,
    always close it. Writes are audited by the services ``fn`` calls."""
    import asyncio

    from mqctl.config import load_config, resolve_context
    from mqctl.session import Session

    current = invocation()
    context = resolve_context(load_config(), context_name or current.context)

    def approve(action: str, protected: Context) -> None:
        approve_protected_write(action, protected, current)

    result: list[T] = []

    async def main() -> None:
        async with Session(
            context, timeout=current.timeout, write_approval=approve, invocation=current
        ) as session:
            result.append(await fn(session))

    # The main task returns nothing on purpose: when asyncio.run restores the SIGINT handler,
    # the signal module formats the repr of the old handler, which holds the main task and so
    # its result: 0.18 s for a lag result of 30,000 partitions (docs/benchmarks.md).
    asyncio.run(main())
    return result[0]


def approve_protected_write(action: str, context: Context, current: Invocation) -> None:
    """A protected context (e.g. prod): the user types its name, or passes both
    ``--yes`` and ``--context NAME`` explicitly (for scripts)."""
    if current.yes and current.named_context(context.name):
        return
    if not sys.stdin.isatty():
        raise WriteRefused(
            f"context {context.name!r} is protected: {action} refused without confirmation",
            hint=f"in scripts pass both --yes and --context {context.name}",
        )
    try:
        typed = typer.prompt(
            f"Context {context.name!r} is protected. Type its name to confirm {action}",
            default="",
            show_default=False,
        )
    except typer.Abort:  # Ctrl-C or end of input at the prompt: an answer of no
        raise DeclinedError(f"{action} cancelled at the prompt") from None
    if typed.strip() != context.name:
        raise DeclinedError(f"confirmation did not match {context.name!r}: {action} cancelled")


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive change: no is :class:`DeclinedError` (exit 6), and nobody
    to ask (no terminal, no --yes) is :class:`WriteRefused` (exit 2)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise WriteRefused(f"{question} — refusing without --yes in a non-interactive shell")
    try:
        agreed = typer.confirm(question, default=False)
    except typer.Abort:  # Ctrl-C or end of input at the prompt: an answer of no
        agreed = False
    if not agreed:
        raise DeclinedError("declined: nothing was changed")


def confirmation(question: Callable[[T], str], yes: bool) -> Callable[[T], Awaitable[None]]:
    """A service's ``confirm`` callback: asks ``question(plan)`` (see :func:`confirm`)."""

    async def ask(plan: T) -> None:
        confirm(question(plan), yes)

    return ask
