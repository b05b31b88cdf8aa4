"""Many contexts at once: run one service call on each context concurrently, each with its
own Session, and keep every context's outcome, so one context down never hides the others.

Views turn the outcomes into rows with a ``context`` field (mqctl/cli/fleet.py); the exit
code is the worst of the contexts' (an unreachable context is 3, docs/output.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mqctl.config.schema import Config, Context
from mqctl.errors import ExitCode, MqctlError, NotFoundError, NotSupportedError, UsageError
from mqctl.invocation import Invocation
from mqctl.session import Session

T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[T]):
    """One context's answer: ``value``, or the error that stopped it."""

    context: str
    value: T | None = None
    error: MqctlError | None = None
    unsupported: bool = False  # the context has no broker for this command: no rows

    @property
    def status(self) -> str:
        if self.error is None:
            return "OK"
        return "UNREACHABLE" if self.error.exit_code == ExitCode.UNAVAILABLE else "ERROR"

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else int(self.error.exit_code)


def is_fleet(names: str | None, all_contexts: bool) -> bool:
    """A fleet request: ``--all-contexts`` or a comma-separated ``--context a,b``."""
    return all_contexts or (names is not None and "," in names)


def select(config: Config, names: str | None, all_contexts: bool) -> list[Context]:
    """The contexts named (in the order given, duplicates dropped) or every context."""
    if all_contexts:
        if names:
            raise UsageError("use either --context a,b or --all-contexts, not both")
        return [config.contexts[n] for n in sorted(config.contexts)]
    wanted = [n.strip() for n in (names or "").split(",") if n.strip()]
    if not wanted:
        raise UsageError("--context: expected one or more context names, e.g. prod,staging")
    unknown = [n for n in wanted if n not in config.contexts]
    if unknown:
        known = ", ".join(sorted(config.contexts))
        raise NotFoundError(
            f"context {', '.join(repr(n) for n in unknown)} not found (known: {known})"
        )
    return [config.contexts[n] for n in dict.fromkeys(wanted)]


async def gather(
    contexts: Sequence[Context],
    fn: Callable[[Session], Awaitable[T]],
    *,
    timeout: float | None = None,  # noqa: ASYNC109 (the brokers' timeout, per Session)
    invocation: Invocation | None = None,
) -> list[Outcome[T]]:
    """``fn(session)`` on every context concurrently; outcomes in the contexts' order.

    A context whose brokers lack the capability (NotSupportedError) is ``unsupported``
    rather than failed: ``queues list`` over Kafka-only contexts is not an error."""

    async def one(context: Context) -> Outcome[T]:
        try:
            async with Session(context, timeout=timeout, invocation=invocation) as session:
                return Outcome(context.name, value=await fn(session))
        except NotSupportedError as exc:
            return Outcome(context.name, error=exc, unsupported=True)
        except MqctlError as exc:
            return Outcome(context.name, error=exc)

    return list(await asyncio.gather(*(one(c) for c in contexts)))


def worst_exit(outcomes: Sequence[Outcome[T]]) -> int:
    """The exit code of a fleet run: the highest of its contexts' (unsupported ones aside);
    every context unsupported is the usage error it is."""
    failures = [o for o in outcomes if o.error is not None and not o.unsupported]
    if outcomes and all(o.unsupported for o in outcomes):
        return int(ExitCode.USAGE)
    return max((o.exit_code for o in failures), default=0)
