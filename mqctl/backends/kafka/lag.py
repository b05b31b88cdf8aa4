"""One lag snapshot of many consumer groups with a handful of concurrent, batched requests.

Round trips, whatever the number of groups and partitions: metadata + ListGroups (every broker,
concurrently) + FindCoordinator (one request) + DescribeGroups/OffsetFetch (one each per
coordinator, concurrently) + Fetch for time lag (per leader, concurrently; its answers carry
the log start and end offsets too) or, without time lag, ListOffsets (earliest and latest, one
each per leader). Nothing joins a group or commits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from mqctl.backends.kafka import groups as kgroups
from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.group_timelag import (
    offsets_by_partition,
    record_timestamps,
    timestamps_from,
)
from mqctl.backends.kafka.lag_rows import group_entry
from mqctl.backends.kafka.topics import (
    cluster_metadata,
    forget_metadata,
    metadata_is_recent,
    watermarks,
)
from mqctl.errors import BrokerTimeout, MqctlError, NotFoundError
from mqctl.gc_tuning import collections_paused
from mqctl.models.lag import LagEntry

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


async def snapshot(
    conn: KafkaConnection,
    groups: list[str] | None = None,
    topic: str | None = None,
    *,
    time_lag: bool = True,
) -> list[LagEntry]:
    with collections_paused():
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
    everything: list[tuple[str, int]] = []

    def in_order(tps: set[tuple[str, int]]) -> list[tuple[str, int]]:
        if len(tps) < len(all_tps):  # (a group's rows are a subset of all_tps)
            return sorted(tps)
        if not everything:
            everything.extend(sorted(all_tps))
        return everything

    return [
        group_entry(
            group,
            infos.get(group),
            committed.get(group, {}),
            in_order(rows[group]),
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
    # each partition's distinct committed offsets, ascending (the groups of a fleet share
    # many): built in one pass, it is also what the fetches ask
    positions = offsets_by_partition(
        (tp, off)
        for g in names
        for tp, off in committed.get(g, {}).items()
        if off >= 0 and tp in tps
    )
    timestamps: dict[tuple[str, int, int], int | None] = {}
    if time_lag and positions:
        # A Fetch answer carries its partition's log start offset and high watermark: the
        # partitions fetched for time lag need no ListOffsets (at 10,000 partitions that was
        # six more requests the brokers answered after the fetches, and their decoding). The
        # others (no commit yet) are asked meanwhile; a partition whose fetch failed (offset
        # out of range, leader moved) is asked afterwards.
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        others = [tp for tp in tps if tp not in positions]
        (start, end), found = await asyncio.gather(
            _watermarks_of(conn, metadata, others),
            timestamps_from(conn, metadata, positions, marks),
        )
        timestamps.update(found)
        unmarked = [tp for tp in positions if tp not in marks]
        if unmarked:
            more_start, more_end = await watermarks(conn, metadata, unmarked)
            start.update(more_start)
            end.update(more_end)
        start.update({tp: mark[0] for tp, mark in marks.items()})
        end.update({tp: mark[1] for tp, mark in marks.items()})
    else:
        start, end = await watermarks(conn, metadata, list(tps))
    if time_lag:
        # positions inside the log without a timestamp yet, e.g. a commit below the log start
        # (asked from the log start)
        late = set()
        for (t, p), offsets in positions.items():
            log_end = end.get((t, p))
            if log_end is None:
                continue
            log_start = start[(t, p)]
            for off in offsets:
                if off >= log_end:
                    break
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
