"""One lag snapshot of many consumer groups with a handful of concurrent, batched requests.

Round trips, whatever the number of groups and partitions: metadata + ListGroups (every broker,
concurrently) + FindCoordinator (one request) + DescribeGroups/OffsetFetch (one each per
coordinator, concurrently) + Fetch for time lag (per leader, concurrently; its answers carry
the log start and end offsets too) or, without time lag, ListOffsets (earliest and latest, one
each per leader). Nothing joins a group or commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterable, Iterator
from typing import Any

from mqctl.backends.kafka import groups as kgroups
from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.group_timelag import record_timestamps
from mqctl.backends.kafka.topics import (
    cluster_metadata,
    forget_metadata,
    metadata_is_recent,
    watermarks,
)
from mqctl.errors import BrokerTimeout, MqctlError, NotFoundError
from mqctl.lag.status import partition_snapshot_status
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, worst

# Repeated snapshots (the exporter, --watch, the TUI) reuse the connection's metadata this
# long; an error, or a committed partition it does not know (a new topic or partitions),
# fetches it again.
METADATA_MAX_AGE = 30.0  # seconds
MISSING_RETRIES = 6
MISSING_RETRY_DELAY = 0.5  # seconds
OFFSETS_TOPIC = "__consumer_offsets"


def offsets_topic_degraded(metadata: Any) -> bool:
    """Whether a partition of the group offsets topic has no leader or fewer in-sync
    replicas than replicas: a broker is down, so group coordinators may be moving."""
    partitions = partitions_metadata(metadata, OFFSETS_TOPIC)
    return any(p.leader < 0 or len(p.isr) < len(p.replicas) for p in partitions.values())


# Group types whose progress is a committed offset per partition (share groups have none).
OFFSET_GROUP_TYPES = {"classic", "consumer", "streams"}


async def resolve_groups(
    conn: KafkaConnection, groups: list[str] | None
) -> tuple[list[str], dict[str, str]]:
    """Names to look at and their types; None means every group with committed offsets."""
    if groups is not None:
        # Named groups skip ListGroups: describing falls back to the KIP-848 request anyway.
        return list(dict.fromkeys(groups)), {}
    listed = await kgroups.list_groups(conn)
    types = {g.group: g.type for g in listed}
    return sorted(g.group for g in listed if g.type in OFFSET_GROUP_TYPES), types


@contextlib.contextmanager
def _collections_paused() -> Iterator[None]:
    """No garbage collector passes while a snapshot builds its answer: decoded responses and
    one row per group-partition are many young objects and no cycles, and at 30,000
    group-partitions the collector's passes over them were ~20 % of the snapshot's CPU time
    (docs/benchmarks.md). Collection resumes afterwards; when snapshots overlap (a fleet's
    contexts), the first to finish turns it back on, which is only less fast."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def snapshot(
    conn: KafkaConnection,
    groups: list[str] | None = None,
    topic: str | None = None,
    *,
    time_lag: bool = True,
) -> list[LagEntry]:
    with _collections_paused():
        kept = metadata_is_recent(conn, METADATA_MAX_AGE)
        try:
            return await _snapshot(conn, groups, topic, time_lag, METADATA_MAX_AGE)
        except NotFoundError:
            if not kept:
                raise
            # the kept metadata may name a topic that is gone: judge with a fresh one
            forget_metadata(conn)
            return await _snapshot(conn, groups, topic, time_lag, 0.0)
        except MqctlError:
            forget_metadata(conn)
            raise


async def _snapshot(
    conn: KafkaConnection,
    groups: list[str] | None,
    topic: str | None,
    time_lag: bool,
    metadata_age: float,
) -> list[LagEntry]:
    kept = metadata_age > 0 and metadata_is_recent(conn, metadata_age)
    # The group requests do not need the metadata (10,000 partitions take a while to answer
    # and decode): it is read meanwhile, and awaited where the offsets need leaders.
    reading = asyncio.ensure_future(cluster_metadata(conn, max_age=metadata_age))
    try:
        names, types = await resolve_groups(conn, groups)
        infos, committed, fresh = await _group_offsets(
            conn, names, types, groups is not None, reading
        )
        metadata = fresh if fresh is not None else await reading
    finally:
        if not reading.done():
            reading.cancel()
        elif not reading.cancelled():
            reading.exception()  # retrieved: an error already raised above is not logged again
    if not names:
        return []
    if kept and (
        _unknown_partition(metadata, committed, infos)
        or (topic is not None and topic not in metadata.topics())
    ):
        metadata = await cluster_metadata(conn)
    if topic is not None and topic not in metadata.topics():
        raise NotFoundError(f"topic {topic!r} not found on Kafka at {conn.settings.address}")
    known = set(metadata.topics())
    rows: dict[str, set[tuple[str, int]]] = {}
    for group in names:
        info = infos.get(group)
        tps = set(committed.get(group, {}))
        if info is not None:
            tps.update(info.owners())
        if topic is None and {t for t, _ in tps} <= known:
            rows[group] = tps  # the common case: no row to drop, no second set to build
        else:
            rows[group] = {tp for tp in tps if tp[0] in known and (topic is None or tp[0] == topic)}
    all_tps: set[tuple[str, int]] = set().union(*rows.values()) if rows else set()
    start, end, timestamps = await _offsets_and_timestamps(
        conn, metadata, names, committed, all_tps, time_lag
    )
    now_ms = time.time() * 1000
    # seconds since each first unconsumed record, once per position (groups share them)
    ages = {
        position: max(0.0, round((now_ms - ts) / 1000, 3))
        for position, ts in timestamps.items()
        if ts is not None
    }
    if topic is not None and groups is None:
        # `lag --topic T`: only the groups that read T (a committed offset or an assignment)
        names = [g for g in names if rows[g]]
    # Groups of a fleet often read the same partitions: those share one sorted order.
    order = sorted(all_tps)
    return [
        _entry(
            group,
            infos.get(group),
            committed.get(group, {}),
            order if len(rows[group]) == len(order) else sorted(rows[group]),
            start,
            end,
            ages,
        )
        for group in names
    ]


async def _group_offsets(
    conn: KafkaConnection,
    names: list[str],
    types: dict[str, str],
    named: bool,
    reading: asyncio.Future[Any],
) -> tuple[dict[str, kgroups.GroupInfo], dict[str, dict[tuple[str, int], int]], Any]:
    """The groups' descriptions and committed offsets, and fresh metadata when a named group
    was missing and asked again (else None: ``reading``'s answer is current)."""
    if not names:
        return {}, {}, None
    fresh = None
    for attempt in range(MISSING_RETRIES + 1):
        coordinators = await kgroups.find_coordinators(conn, names)
        infos, committed = await asyncio.gather(
            kgroups.describe_groups(conn, coordinators, types),
            kgroups.committed_offsets(conn, coordinators),
        )
        missing = [g for g in names if g not in infos and not committed.get(g)]
        if not named or not missing:
            break
        named_text = ", ".join(repr(m) for m in missing)
        if not offsets_topic_degraded(fresh if fresh is not None else await reading):
            raise NotFoundError(
                f"consumer group {named_text} not found on Kafka at {conn.settings.address}",
                hint="list groups with `mqctl groups list`",
            )
        # A broker holding group offsets is gone: the coordinator that took over can answer
        # "no such group" until it has loaded them. Ask again briefly; if it still says so,
        # the answer is "unavailable" (exit 3), not "not found" (exit 4).
        if attempt == MISSING_RETRIES:
            raise BrokerTimeout(
                f"consumer group {named_text} not found on Kafka at {conn.settings.address} "
                "while its group coordinators are failing over (__consumer_offsets has "
                "partitions without a leader or with lost in-sync replicas)",
                hint="try again in a few seconds",
            )
        await asyncio.sleep(MISSING_RETRY_DELAY)
        fresh = await cluster_metadata(conn)
    return infos, committed, fresh


def _unknown_partition(
    metadata: Any,
    committed: dict[str, dict[tuple[str, int], int]],
    infos: dict[str, kgroups.GroupInfo],
) -> bool:
    """Whether a group has committed or been assigned a partition ``metadata`` does not
    know: it is older than a new topic or a partition count increase."""
    partitions: dict[str, set[int]] = {}

    def known(topic: str, partition: int) -> bool:
        ids = partitions.get(topic)
        if ids is None:
            ids = partitions[topic] = set(metadata.partitions_for_topic(topic) or ())
        return partition in ids

    used: list[Iterable[tuple[str, int]]] = [*committed.values()]
    used += [info.owners() for info in infos.values()]
    return any(not known(t, p) for tps in used for t, p in tps)


async def _offsets_and_timestamps(
    conn: KafkaConnection,
    metadata: Any,
    names: list[str],
    committed: dict[str, dict[tuple[str, int], int]],
    tps: set[tuple[str, int]],
    time_lag: bool,
) -> tuple[
    dict[tuple[str, int], int], dict[tuple[str, int], int], dict[tuple[str, int, int], int | None]
]:
    """Log start and end offsets of ``tps`` and the record timestamps time lag needs.

    With time lag, the fetches (the longest phase at scale) start at the committed offsets
    and their answers also give the partitions' log start and end offsets; ListOffsets is
    asked only for the partitions not fetched (no commit) or whose fetch failed. A committed
    offset at the end costs an empty answer; one below the log start (records deleted before
    the group read them) is asked again from the log start once it is known, as is any
    position still without a timestamp."""
    if not tps:
        return {}, {}, {}
    # each distinct committed position once (the groups of a fleet share many)
    commits: set[tuple[str, int, int]] = set()
    for g in names:
        offsets = committed.get(g)
        if offsets:
            commits.update([(t, p, off) for (t, p), off in offsets.items() if (t, p) in tps])
    guesses = {position for position in commits if position[2] >= 0}
    if time_lag and guesses:
        # A Fetch answer carries its partition's log start offset and high watermark: the
        # partitions fetched for time lag need no ListOffsets (at 10,000 partitions that was
        # six more requests the brokers answered after the fetches, and their decoding). The
        # others (no commit yet) are asked meanwhile; a partition whose fetch failed (offset
        # out of range, leader moved) is asked afterwards.
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        fetched = {(t, p) for t, p, _ in guesses}
        others = [tp for tp in tps if tp not in fetched]
        (start, end), timestamps = await asyncio.gather(
            _watermarks_of(conn, metadata, others),
            record_timestamps(conn, metadata, guesses, marks),
        )
        unmarked = [tp for tp in fetched if tp not in marks]
        if unmarked:
            more_start, more_end = await watermarks(conn, metadata, unmarked)
            start.update(more_start)
            end.update(more_end)
        start.update({tp: mark[0] for tp, mark in marks.items()})
        end.update({tp: mark[1] for tp, mark in marks.items()})
    else:
        (start, end), timestamps = await watermarks(conn, metadata, list(tps)), {}
    if time_lag:
        # positions inside the log without a timestamp yet, e.g. a commit below the log start
        # (asked from the log start)
        late = set()
        for t, p, off in commits:
            log_end = end.get((t, p))
            if log_end is None or off >= log_end:
                continue
            log_start = start[(t, p)]
            position = (t, p, off) if off >= log_start else (t, p, log_start)
            if timestamps.get(position) is None:
                late.add(position)
        if late:
            timestamps.update(await record_timestamps(conn, metadata, late))
    return start, end, timestamps


async def _watermarks_of(
    conn: KafkaConnection, metadata: Any, tps: list[tuple[str, int]]
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    return await watermarks(conn, metadata, tps) if tps else ({}, {})


def out_of_range(committed: int | None, end: int) -> str | None:
    """Why a committed offset cannot be judged, or None. An offset beyond the end offset
    (read after it, so a healthy group cannot be ahead of it) is not a position in this log:
    the topic was recreated or the log truncated, and the consumer will hit
    OFFSET_OUT_OF_RANGE and jump wherever its auto.offset.reset says. Lag would read 0."""
    if committed is not None and committed > end:
        return f"committed offset {committed} is beyond the end offset {end}"
    return None


def records_lost(committed: int | None, log_start: int) -> int:
    """Records between a committed offset and the log start: removed (retention,
    delete-records) before the group read them; it will never see them."""
    return log_start - committed if committed is not None and committed < log_start else 0


def _entry(
    group: str,
    info: kgroups.GroupInfo | None,
    committed: dict[tuple[str, int], int],
    tps: list[tuple[str, int]],
    start: dict[tuple[str, int], int],
    end: dict[tuple[str, int], int],
    ages: dict[tuple[str, int, int], float],
) -> LagEntry:
    owners = info.owners() if info else {}
    members = len(info.members) if info else 0
    partitions = []
    total_lag = total_lost = 0
    max_time_lag: float | None = None
    no_commit_status = partition_snapshot_status(0, members)
    backlog_status = partition_snapshot_status(1, members)  # the same for any lag > 0
    # The hot loop of a large snapshot (one pass per group-partition): the common case, a
    # commit inside the log, is decided without the helpers the rare cases need.
    for key in tps:  # sorted
        topic, partition = key
        offset = committed.get(key)
        log_start, log_end = start[key], end[key]
        time_lag = None
        error = None
        lost = 0
        if offset is None:
            # No commit yet: unknown progress, shown as lag 0 like kafka-consumer-groups' "-".
            lag, raw_lag = 0, None
            status = no_commit_status
        elif log_start <= offset <= log_end:
            lag = raw_lag = log_end - offset
            if lag > 0:
                status = backlog_status
                time_lag = ages.get((topic, partition, offset))
                if time_lag is not None and (max_time_lag is None or time_lag > max_time_lag):
                    max_time_lag = time_lag
            else:
                status = LagStatus.OK
        else:
            raw_lag = log_end - offset if offset < log_end else 0
            # Lag counts the records that still exist: the lost ones can never be consumed.
            position = offset if offset >= log_start else log_start
            lag = log_end - position if position < log_end else 0
            if lag > 0:
                time_lag = ages.get((topic, partition, position))
                if time_lag is not None and (max_time_lag is None or time_lag > max_time_lag):
                    max_time_lag = time_lag
            lost = records_lost(offset, log_start)
            error = out_of_range(offset, log_end)
            if error:
                status = LagStatus.ERROR
            elif lost:
                status = LagStatus.DATA_LOSS
                error = (
                    f"{lost} record(s) removed (retention or delete-records) before the group "
                    f"read them: committed offset {offset} is below the log start {log_start}"
                )
            else:
                status = partition_snapshot_status(lag, members)
        total_lag += lag
        total_lost += lost
        # positional: built 2.5x faster than with keywords (30,000 rows); the order is pinned by
        # tests/test_lag_snapshot_rules.py
        owner = owners.get(key)
        partitions.append(
            PartitionLag(
                topic,
                partition,
                offset,
                log_start,
                log_end,
                lag,
                time_lag,
                owner,
                status,
                None,
                error,
                lost,
                raw_lag,
            )
        )
    return LagEntry(
        backend="kafka",
        kind="group",
        group=group,
        status=worst([p.status for p in partitions]) if partitions else LagStatus.OK,
        total_lag=total_lag,
        max_time_lag_seconds=max_time_lag,
        topics=sorted({topic for topic, _ in tps}),
        members=members,
        state=info.state if info else "Empty",
        partitions=partitions,
        total_records_lost=total_lost,
    )
