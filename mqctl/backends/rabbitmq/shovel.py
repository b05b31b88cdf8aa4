"""``dlq redrive --engine shovel``: a dynamic shovel inside the broker moves a whole DLQ.

The shovel plugin is RabbitMQ's own mover (the management UI's "move messages"): it runs in
the broker, next to the data, without framing every message through a Python client. mqctl
creates it through the management API with the same guarantee as the client engine —
``ack-mode: on-confirm``: a DLQ message is acked only after the destination confirmed its
copy, so a crash or a cancel leaves every unconfirmed message in the DLQ (a duplicate is
possible, a loss is not) — and ``src-delete-after: N`` (N = the ready count at the start,
or ``--limit``), so the shovel moves N messages and then deletes itself.

mqctl supervises it: progress from the queue depths (read exactly with passive declares, not
the management API's sampled counts), Ctrl-C or a cancelled task deletes the shovel, a shovel
the broker reports ``terminated`` is deleted and reported as an error, and the zero-loss
check compares what left the DLQ with what reached the destination. ``dest-add-forward-
headers`` makes the broker append an ``x-shovelled`` entry naming the shovel (prefix
``mqctl-redrive-``) to every copy: the loop guard of later runs counts those entries like
``x-mqctl-redrive-count`` (:mod:`mqctl.dlq.metadata`). With the loop guard off
(``--max-redrives 0``) copies are not marked: marking is the shovel's main cost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mqctl.backends.rabbitmq.amqp import AmqpConnections
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.backends.rabbitmq.settings import RabbitSettings
from mqctl.dlq.planning import SKIP_LIMIT
from mqctl.errors import BrokerError, MqctlError, NotFoundError, UsageError

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import RedriveSummary
    from mqctl.dlq.plan import Target
    from mqctl.models.inventory import Destination

SHOVEL_PREFIX = "mqctl-redrive-"  # the loop guard recognises copies by this name
POLL = 0.25  # seconds between two depth reads while the shovel runs
IDLE = 10.0  # no progress for this long and an empty DLQ: the rest was taken by others
SETTLE = 5.0  # after the shovel is gone: wait this long at most for the depths to settle


@dataclass(frozen=True, slots=True)
class Depths:
    dlq: int
    target: int
    target_consumers: int


def _uri(vhost: str) -> str:
    """The shovel's own connection to this node (no credentials: a direct connection)."""
    return "amqp://" if vhost == "/" else f"amqp:///{enc(vhost)}"


def shovel_definition(
    vhost: str, dlq: str, target: str, count: int, *, mark_copies: bool
) -> dict[str, Any]:
    """``mark_copies``: the broker appends an ``x-shovelled`` entry to each copy (the loop
    guard's count); it decodes and re-encodes every message's headers for that, which made
    the shovel about 1.6x slower here (docs/benchmarks.md), so it is off with the guard."""
    return {
        "src-protocol": "amqp091",
        "src-uri": _uri(vhost),
        "src-queue": dlq,
        "dest-protocol": "amqp091",
        "dest-uri": _uri(vhost),
        "dest-queue": target,
        "ack-mode": "on-confirm",
        "src-delete-after": count,
        "dest-add-forward-headers": mark_copies,
    }


class ShovelRedrive:
    """One supervised shovel run (or its plan) for one DLQ and one destination queue."""

    def __init__(
        self,
        settings: RabbitSettings,
        api: ManagementClient,
        timeout: float,
        context: str,
        dlq: Destination,
        target: Target,
    ) -> None:
        self.api = api
        self.timeout = timeout
        self.dlq = dlq
        self.target = target
        self.vhost = dlq.vhost or settings.vhost
        self.amqp = AmqpConnections(settings, timeout, f"{context}, redrive shovel", api)
        self.channel: Any = None
        self.name = f"{SHOVEL_PREFIX}{uuid.uuid4().hex[:12]}"
        self.path = f"/parameters/shovel/{enc(self.vhost)}/{enc(self.name)}"

    async def depths(self) -> Depths:
        """Exact depths right now (passive declares; a missing queue is a not-found error)."""
        if self.channel is None or self.channel.is_closed:
            self.channel = await self.amqp.channel(self.vhost)
        found = []
        for name in (self.dlq.name, self.target.name):
            try:
                declared = await self.channel.declare_queue(name, passive=True)
            except Exception as exc:
                raise self.amqp.map_error(exc, self.vhost, f"queue {name!r}") from None
            result = declared.declaration_result
            found.append((int(result.message_count or 0), int(result.consumer_count or 0)))
        return Depths(found[0][0], found[1][0], found[1][1])

    async def close(self) -> None:
        await self.amqp.close()

    # -------------------------------------------------------------------------------- plan

    async def plan(self, limit: int | None, summary: RedriveSummary) -> None:
        """What a run started now would do: move N messages, nothing decided per message."""
        depths = await self.depths()
        count = depths.dlq if limit is None else min(limit, depths.dlq)
        summary.examined = depths.dlq
        summary.moved = count
        if count:
            summary.by_destination[self.target.label] = count
        if depths.dlq > count:
            summary.skipped[SKIP_LIMIT] = depths.dlq - count
        summary.note = (
            f"engine shovel: a dynamic shovel inside the broker moves {count} messages "
            f"as they are (ack after the destination's confirm), then deletes itself"
        )

    # --------------------------------------------------------------------------------- run

    async def run(self, limit: int | None, control: RedriveControl, *, mark_copies: bool) -> None:
        # Stable depths: messages a peek just returned (the loop-guard sample, a plan) may
        # still be on their way back into the DLQ.
        before = await self._settled_depths(None, None)
        count = before.dlq if limit is None else min(limit, before.dlq)
        control.summary.planned = count
        control.begin(count)
        if count == 0:
            return
        if limit is not None and before.dlq > count:
            control.summary.skipped[SKIP_LIMIT] = before.dlq - count
        definition = shovel_definition(
            self.vhost, self.dlq.name, self.target.name, count, mark_copies=mark_copies
        )
        await self.api.request(
            "PUT", self.path, body={"value": definition}, what=f"shovel {self.name!r}"
        )
        finished = False
        reported = 0
        try:
            finished, reported = await self._supervise(before, count, control)
        finally:
            if not finished:  # cancelled, stopped, failed: unconfirmed messages go back
                await asyncio.shield(self._delete())
        await self._account(before, count, finished, reported, control)

    async def _supervise(
        self, before: Depths, count: int, control: RedriveControl
    ) -> tuple[bool, int]:
        """Follow the shovel until it deleted itself (True) or the run must stop (False);
        also returns how many moves were reported to ``control`` so far."""
        reported = 0
        last_change = time.monotonic()
        while not control.stopping:
            await asyncio.sleep(POLL)
            if not await self._exists():
                return True, reported
            await self._raise_if_terminated()
            now = await self.depths()
            gone = min(count, max(0, before.dlq - now.dlq))
            if gone > reported:
                last_change = time.monotonic()
                reported = self._report(control, reported, gone)
            elif now.dlq == 0 and time.monotonic() - last_change > IDLE:
                control.stopped_early("the DLQ had fewer messages than at the start")
                return False, reported
        return False, reported

    def _report(self, control: RedriveControl, reported: int, total: int) -> int:
        for _ in range(total - reported):
            control.examined()
            control.moved(self.target)
        return total

    async def _exists(self) -> bool:
        try:
            await self.api.get(self.path, what=f"shovel {self.name!r}")
        except NotFoundError:
            return False
        return True

    async def _raise_if_terminated(self) -> None:
        listed = await self.api.get(f"/shovels/{enc(self.vhost)}")
        for shovel in listed if isinstance(listed, list) else []:
            if shovel.get("name") == self.name and shovel.get("state") == "terminated":
                reason = " ".join(str(shovel.get("reason") or "no reason given").split())
                raise BrokerError(
                    f"the shovel {self.name!r} stopped on RabbitMQ: {reason[:300]}; messages "
                    f"not confirmed by {self.target.name!r} stay in {self.dlq.name!r}"
                )

    async def _delete(self) -> None:
        """Delete the shovel and wait until the broker stopped it (bounded). If the API
        cannot be reached the shovel keeps running (still on-confirm: nothing is lost), and
        the error says so and how to stop it."""
        try:
            await self.api.request("DELETE", self.path, what=f"shovel {self.name!r}")
        except NotFoundError:
            pass
        except MqctlError as exc:
            raise type(exc)(
                f"could not delete the shovel {self.name!r} ({exc.message}): it keeps moving "
                f"messages from {self.dlq.name!r} to {self.target.name!r} until it has moved "
                f"its count (each acked only after the destination's confirm: nothing is lost)",
                hint=f"stop it with: rabbitmqctl clear_parameter -p {self.vhost} shovel "
                f"{self.name}",
            ) from None
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            listed = await self.api.get(f"/shovels/{enc(self.vhost)}")
            if not any(s.get("name") == self.name for s in listed if isinstance(s, dict)):
                return
            await asyncio.sleep(POLL)

    async def _account(
        self, before: Depths, count: int, finished: bool, reported: int, control: RedriveControl
    ) -> None:
        """Final counts and the zero-loss check, from the depths once they settled."""
        after = await self._settled_depths(before, count if finished else None)
        left_dlq = max(0, before.dlq - after.dlq)
        # A finished shovel acked exactly ``count`` messages after their confirms; a stopped
        # one: what left the DLQ (messages in flight went back to it when it was deleted).
        moved = count if finished else min(count, left_dlq)
        reached = after.target - before.target
        checkable = before.target_consumers == 0 and after.target_consumers == 0
        summary = control.summary
        if checkable and reached < moved:
            summary.errors.append(
                f"zero-loss check: {moved} messages left {self.dlq.name!r} but "
                f"{self.target.name!r} rose by {reached}"
            )
            moved = max(0, reached)
        if moved > reported:
            self._report(control, reported, moved)
        elif moved < reported:  # progress ran ahead of what the end shows: correct it
            summary.moved = summary.examined = moved
            summary.by_destination[self.target.label] = moved
        check = (
            f"DLQ -{left_dlq}, {self.target.name!r} +{reached}"
            if checkable
            else f"DLQ -{left_dlq}; {self.target.name!r} has consumers, so its depth proves "
            f"nothing: the shovel's confirms are the check"
        )
        summary.note = f"engine shovel {self.name!r}; zero-loss check: {check}"

    async def _settled_depths(self, before: Depths | None, count: int | None) -> Depths:
        """Depths once they settled: when the shovel finished, wait (bounded) until the DLQ
        shows its ``count`` acks; else until two reads agree (returns are asynchronous)."""
        deadline = time.monotonic() + SETTLE
        last = await self.depths()
        while time.monotonic() < deadline:
            if before is not None and count is not None and before.dlq - last.dlq >= count:
                return last
            await asyncio.sleep(POLL)
            now = await self.depths()
            if count is None and now == last:
                return now
            last = now
        return last


async def check_plugin(api: ManagementClient) -> None:
    """A clear refusal when the shovel plugin is not enabled (its API is then absent)."""
    try:
        await api.get("/shovels")
    except NotFoundError:
        raise UsageError(
            "--engine shovel needs the rabbitmq_shovel and rabbitmq_shovel_management plugins",
            hint="enable them (rabbitmq-plugins enable rabbitmq_shovel_management) or drop "
            "--engine shovel",
        ) from None


async def plan(
    settings: RabbitSettings,
    api: ManagementClient,
    request_timeout: float,
    context: str,
    dlq: Destination,
    target: Target,
    limit: int | None,
    summary: RedriveSummary,
) -> None:
    await check_plugin(api)
    run = ShovelRedrive(settings, api, request_timeout, context, dlq, target)
    try:
        await run.plan(limit, summary)
    finally:
        await run.close()


async def redrive(
    settings: RabbitSettings,
    api: ManagementClient,
    request_timeout: float,
    context: str,
    dlq: Destination,
    target: Target,
    limit: int | None,
    control: RedriveControl,
    *,
    mark_copies: bool,
) -> None:
    await check_plugin(api)
    run = ShovelRedrive(settings, api, request_timeout, context, dlq, target)
    try:
        await run.run(limit, control, mark_copies=mark_copies)
    finally:
        await asyncio.shield(run.close())
