"""Kafka redrive: plan from the DLQ and the redrive ledger, then move exactly that plan.

A dry run and a run share :func:`_plan`: the retained DLQ is read from its log start to the
end offsets taken at the start (no group, nothing committed), every record is decided by the
planner, and records the ledger (:mod:`mqctl.backends.kafka.redrive_ledger`) lists as already
redriven are counted but not moved. The run first takes the DLQ's lease (one run at a time),
plans, then reads the selected offsets again and publishes them with one idempotent producer
(acks=all), each DLQ partition in offset order (per-key order kept). After the destination
acknowledged copies, their offsets are written to the ledger; only then do they count as
moved. A kill at any moment leaves at most the in-flight window (``control.window``) of
copies acknowledged but not ledgered: the next run sends those again (the duplicate bound),
and nothing is ever skipped. A failed delivery blocks the rest of its partition for the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.dlq_scan import scan
from mqctl.backends.kafka.peek import to_message, topic_partitions
from mqctl.backends.kafka.publish import header_bytes, producer_for
from mqctl.backends.kafka.redrive_ledger import (
    LEASE_SECONDS,
    RENEW_SECONDS,
    Ledger,
    LedgerWriter,
    acquire,
    ensure_topic,
    read,
)
from mqctl.backends.kafka.topics import cluster_metadata, watermarks
from mqctl.dlq.models import LedgerRun, RedriveStatus, RedriveSummary
from mqctl.dlq.planning import PlanBuilder, carry_plan, target_key
from mqctl.errors import NotFoundError
from mqctl.models.inventory import Destination

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.plan import Planner, Target

SKIP_BLOCKED = "after-a-failed-delivery"


@dataclass(slots=True)
class KafkaPlan:
    selection: set[Hashable]
    partition_counts: dict[str, int]
    low: dict[int, int]
    ledger: Ledger


async def _plan(
    conn: KafkaConnection,
    dlq: Destination,
    planner: Planner,
    summary: RedriveSummary,
    ledger: Ledger,
) -> KafkaPlan:
    metadata, partitions = await topic_partitions(conn, dlq.name, None)
    keys = [(dlq.name, p) for p in partitions]
    low, high = await watermarks(conn, metadata, keys)
    counts = {t: len(metadata.partitions_for_topic(t) or ()) for t in metadata.topics()}
    to = planner.options.to
    if to and not counts.get(to):
        raise NotFoundError(
            f"--to: topic {to!r} not found on Kafka at {conn.settings.address}; nothing moved",
            hint="create it first (mqctl topics create) — a redrive never creates topics",
        )
    builder = PlanBuilder(planner, summary)
    async with contextlib.aclosing(scan(conn, {k: (low[k], high[k]) for k in keys})) as batches:
        async for records in batches:
            for r in records:
                done = ledger.contains(r.partition, r.offset, r.timestamp)
                order = (r.timestamp, r.partition, r.offset)  # --limit takes the oldest first
                builder.add(to_message(r), (r.partition, r.offset), order, done)
    missing = {
        target_key(t): None if counts.get(t.name) else f"topic {t.name!r} does not exist"
        for t in builder.targets()
    }
    selection = builder.finish(missing)
    return KafkaPlan(selection, counts, {p: low[(dlq.name, p)] for p in partitions}, ledger)


async def plan(
    conn: KafkaConnection, dlq: Destination, planner: Planner, summary: RedriveSummary
) -> None:
    """The dry run: the same plan a run would make now; writes nothing."""
    ledger = await read(conn, dlq.name)
    await _plan(conn, dlq, planner, summary, ledger)
    holder = ledger.active_lease()
    if holder is not None:
        summary.note = f"a redrive by {holder.by} (pid {holder.pid}) is running now"


async def redrive(
    conn: KafkaConnection, dlq: Destination, planner: Planner, control: RedriveControl
) -> None:
    await topic_partitions(conn, dlq.name, None)  # a missing DLQ: exit 4 before any write
    ledger_partitions = await conn.call(ensure_topic(conn), "redrive ledger set-up")
    producer = producer_for(conn, None)
    writer = LedgerWriter(producer, dlq.name, ledger_partitions)
    keeper: asyncio.Task[None] | None = None
    leased = False
    try:
        await conn.call(producer.start(), "producer start")
        ledger = await conn.call(acquire(conn, writer), "redrive lease")
        leased = True
        keeper = asyncio.create_task(_keep_lease(writer, control))
        planned = RedriveSummary(control.summary.backend, control.summary.dlq, dry_run=True)
        kafka_plan = await _plan(conn, dlq, planner, planned, ledger)
        carry_plan(planned, control.summary)
        control.begin(planned.moved)
        await _forget_deleted(conn, writer, kafka_plan)
        await _Execution(conn, producer, writer, planner, control, kafka_plan).run(dlq.name)
    finally:
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(BaseException):
                await keeper
        if leased:
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.wait_for(writer.lease("released"), conn.timeout))
        with contextlib.suppress(Exception):
            await asyncio.shield(producer.stop())


async def _keep_lease(writer: LedgerWriter, control: RedriveControl) -> None:
    """Renew the lease; when it cannot be renewed before it expires, stop the run (another
    operator may take the DLQ over after expiry)."""
    while True:
        await asyncio.sleep(RENEW_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.lease("active"), RENEW_SECONDS)
        if time.monotonic() - writer.renewed_at > LEASE_SECONDS - 2 * RENEW_SECONDS:
            control.stopped_early("the redrive lease could not be renewed (ledger unavailable)")
            control.request_stop()
            return


async def _forget_deleted(conn: KafkaConnection, writer: LedgerWriter, plan: KafkaPlan) -> None:
    """Tombstone ledger records whose DLQ records retention already deleted."""
    gone = [
        key
        for key, (partition, end) in plan.ledger.moved_keys.items()
        if end <= plan.low.get(partition, 0)
    ]
    with contextlib.suppress(Exception):  # housekeeping only: the next run tries again
        await conn.call(writer.forget(gone), "redrive ledger clean-up")


@dataclass(slots=True)
class _Partition:
    entries: deque[tuple[int, int | None, asyncio.Future[Any], Target]] = field(
        default_factory=deque
    )
    blocked: bool = False


class _Execution:
    """Publishes the planned records and ledgers them once acknowledged."""

    def __init__(
        self,
        conn: KafkaConnection,
        producer: Any,
        writer: LedgerWriter,
        planner: Planner,
        control: RedriveControl,
        plan: KafkaPlan,
    ) -> None:
        self.conn = conn
        self.producer = producer
        self.writer = writer
        self.planner = planner
        self.control = control
        self.plan = plan
        self.parts: dict[int, _Partition] = {}
        self.in_flight = 0

    async def run(self, topic: str) -> None:
        spans: dict[tuple[str, int], tuple[int, int]] = {}
        for ident in self.plan.selection:
            partition, offset = cast(tuple[int, int], ident)
            start, stop = spans.get((topic, partition), (offset, offset + 1))
            spans[(topic, partition)] = (min(start, offset), max(stop, offset + 1))
        try:
            async with contextlib.aclosing(scan(self.conn, spans)) as batches:
                async for records in batches:
                    for record in records:
                        if self.control.stopping:
                            break
                        await self._take(record)
                    await self._settle(wait=False)
                    if self.control.stopping:
                        break
        except BaseException:
            # Ledger what was acknowledged (fewer duplicates next run), but never let that
            # hide why the run ended.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._drain())
            raise
        await self._drain()

    async def _drain(self) -> None:
        """Wait for every send in flight and ledger the acknowledged ones."""
        with contextlib.suppress(Exception):
            await self.producer.flush()
        await self._settle(wait=True)

    async def _take(self, record: Any) -> None:
        ident = (record.partition, record.offset)
        if ident not in self.plan.selection:
            return
        part = self.parts.setdefault(record.partition, _Partition())
        if part.blocked:
            self.control.skipped(SKIP_BLOCKED)
            return
        decision = self.planner.decide(to_message(record), apply_limit=False)
        if decision.action != "move" or decision.target is None or decision.outgoing is None:
            self.control.failed("the record changed between the plan and the run")
            return
        await self.control.throttle()
        target, outgoing = decision.target, decision.outgoing
        partition = outgoing.partition
        count = self.plan.partition_counts.get(target.name, 0)
        if partition is not None and not 0 <= partition < count:
            partition = None  # the recorded partition is gone: let the key choose
        headers = [(k, header_bytes(v)) for k, v in outgoing.headers]
        try:
            future = await self.producer.send(
                target.name,
                value=outgoing.value,
                key=outgoing.key,
                partition=partition,
                headers=headers or None,
            )
        except Exception as exc:  # refused before sending (too large, ...)
            future = asyncio.get_running_loop().create_future()
            future.set_exception(exc)
        part.entries.append((record.offset, record.timestamp, future, target))
        self.in_flight += 1
        if self.in_flight >= self.control.window:
            await self._settle(wait=True)

    async def _settle(self, *, wait: bool) -> None:
        """Account finished sends in offset order; ledger the acknowledged ones."""
        for partition, part in self.parts.items():
            acked: list[tuple[int, int | None, Target]] = []
            while part.entries:
                offset, ts, future, target = part.entries[0]
                if not future.done():
                    if not wait:
                        break
                    with contextlib.suppress(Exception):
                        await future
                part.entries.popleft()
                self.in_flight -= 1
                error = future.exception()
                if error is not None:
                    self.control.failed(f"{type(error).__name__}: {error}".rstrip(": "))
                    part.blocked = True
                else:
                    acked.append((offset, ts, target))
            if acked:
                offsets = [(offset, ts) for offset, ts, _ in acked]
                await self.conn.call(self.writer.moved(partition, offsets), "redrive ledger write")
                for *_, target in acked:
                    self.control.moved(target)


async def status(conn: KafkaConnection, dlq: Destination, summary: RedriveStatus) -> None:
    """Fill ``summary`` from the ledger and the DLQ's offsets (``dlq status``)."""
    metadata = await cluster_metadata(conn)
    _, partitions = await topic_partitions(conn, dlq.name, None)
    low, high = await watermarks(conn, metadata, [(dlq.name, p) for p in partitions])
    ledger = await read(conn, dlq.name)
    depth = retained = total = 0
    for p in partitions:
        start, end = low[(dlq.name, p)], high[(dlq.name, p)]
        depth += max(0, end - start)
        retained += ledger.redriven(p, start, end)
        total += ledger.redriven(p)
    summary.depth, summary.redriven, summary.redriven_retained = depth, total, retained
    summary.not_redriven = depth - retained
    runs = sorted(ledger.runs.values(), key=lambda r: r.last_at, reverse=True)
    summary.runs = [LedgerRun(r.run, r.by, r.first_at, r.last_at, r.moved) for r in runs]
    if runs:
        summary.last_redrive_at, summary.last_redrive_by = runs[0].last_at, runs[0].by
    holder = ledger.active_lease()
    if holder is not None:
        summary.running = f"{holder.by} (pid {holder.pid})"
