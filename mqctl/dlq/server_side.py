"""Redrive engines that run inside the broker (RabbitMQ: a dynamic shovel).

``mqctl dlq redrive --engine shovel`` hands a large *plain* move (every message of one DLQ to
one queue, nothing decided per message) to an engine that runs where the data is. mqctl
still plans it, supervises it (progress from queue depths, Ctrl-C cancels it), audits it and
checks zero loss from the depths afterwards. What such an engine cannot do per message is
refused up front (exit 2) instead of silently ignored: filters, ``--unwrap``,
``--reset-header``, ``--rate``, ``--via-exchange`` and a destination decided per message (no
``--to``). The loop guard is checked on a sample of the DLQ before the engine starts
(:func:`loop_guard_refusal`); the engine marks what it moves (``mark_copies``) so later runs
count it — unless the loop guard is off (``--max-redrives 0``): marking costs the shovel
about 1.6x the time (it must decode and re-encode every message's headers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mqctl.errors import UsageError

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import RedriveSummary
    from mqctl.dlq.plan import RedriveOptions, Target
    from mqctl.models.inventory import Destination
    from mqctl.models.messages import Message

ENGINES = ("client", "shovel")
LOOP_GUARD_SAMPLE = 100  # messages read (safe peek) before the engine starts


@runtime_checkable
class RedrivesServerSide(Protocol):
    """A backend that can move a whole DLQ to one destination inside the broker."""

    async def plan_server_side(
        self, dlq: Destination, target: Target, limit: int | None, summary: RedriveSummary
    ) -> None: ...

    async def redrive_server_side(
        self,
        dlq: Destination,
        target: Target,
        limit: int | None,
        control: RedriveControl,
        *,
        mark_copies: bool,
    ) -> None: ...


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise UsageError(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}")
    return engine


def plain_move_target(options: RedriveOptions) -> Target:
    """The one destination of a plain move, or a usage error naming what needs the client
    engine (it decides per message; a server-side engine cannot)."""
    from mqctl.dlq.plan import Target

    per_message = []
    if not options.filters.empty:
        per_message.append("--filter")
    if options.unwrap:
        per_message.append("--unwrap")
    if options.reset_headers:
        per_message.append("--reset-header")
    if options.rate:
        per_message.append("--rate")
    if options.via_exchange:
        per_message.append("--via-exchange")
    if per_message:
        raise UsageError(
            f"--engine shovel moves every message as it is: {', '.join(per_message)} "
            f"needs the client engine",
            hint="drop --engine shovel (the client engine decides per message)",
        )
    to = options.to
    if not to:
        raise UsageError(
            "--engine shovel needs --to QUEUE (without it each message goes back to its own "
            "recorded source, which only the client engine can decide)",
            hint="add --to QUEUE, or drop --engine shovel",
        )
    if to.startswith("exchange:"):
        raise UsageError(
            "--engine shovel moves to a queue; an exchange needs the client engine (it "
            "routes each message with its original routing key)",
            hint="use --to QUEUE, or drop --engine shovel",
        )
    return Target("queue", to, routing_key=to)


def loop_guard_refusal(messages: list[Message], max_redrives: int) -> UsageError | None:
    """The shovel cannot skip single messages: refuse when the sample read from the head of
    the DLQ holds messages the loop guard (``--max-redrives``) would leave in place."""
    from mqctl.dlq.metadata import parse

    if not max_redrives:
        return None
    guarded = sum(1 for m in messages if parse(m, body=False).redrive_count >= max_redrives)
    if not guarded:
        return None
    return UsageError(
        f"--engine shovel: {guarded} of the first {len(messages)} messages were already "
        f"redriven {max_redrives} times or more (loop guard); the shovel would move them again",
        hint="drop --engine shovel (the client engine skips them), or --max-redrives 0 to "
        "move them anyway",
    )
