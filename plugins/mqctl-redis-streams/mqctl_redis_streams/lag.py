"""Consumer-group lag for Redis streams (XINFO GROUPS + XPENDING).

A Redis consumer group belongs to one stream; groups of the same name on several streams are
shown as one mqctl group with one row per stream (like a Kafka group reading several topics).
Per stream row (``partition`` 0), in entries:

* ``end_offset``        entries ever added to the stream (``entries-added``);
* ``committed_offset``  entries the group finished: delivered (``entries-read``) minus pending;
* ``lag``               not finished = not yet delivered (XINFO ``lag``) + delivered but not
                        acknowledged (``pending``, the XPENDING count);
* ``owner``             consumers holding pending entries, e.g. ``worker-1 (3 pending)``;
* ``time_lag_seconds``  age of the oldest unfinished entry (oldest pending, else the first
                        undelivered), from its id's millisecond part.

Status: OK without lag; LAGGING with lag and at least one consumer; STOPPED with lag and no
consumers. ``state`` is ``Stable`` (has consumers) or ``Empty``.
"""

from __future__ import annotations

import time
from typing import Any

from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, worst
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.entries import BACKEND, id_millis
from mqctl_redis_streams.inventory import stream_info, stream_names

COUNT_LIMIT = 100_000  # bound for counting undelivered entries when Redis cannot say


def _text(raw: Any) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


async def _undelivered(
    conn: RedisConnection, stream: str, group: dict[str, Any]
) -> tuple[int, str | None]:
    """(entries after the group's last-delivered-id, id of the first of them)."""
    client = conn.client()
    last = _text(group.get("last-delivered-id") or b"0-0")
    first = await conn.call(client.xrange(stream, f"({last}", "+", count=1), "XRANGE")
    first_id = _text(first[0][0]) if first else None
    lag = group.get("lag")
    if lag is not None:
        return int(lag), first_id
    # Redis reports no lag after deletions in the middle of the stream: count (bounded)
    counted, lower = 0, f"({last}"
    while counted < COUNT_LIMIT:
        page = await conn.call(client.xrange(stream, lower, "+", count=1000), "XRANGE")
        counted += len(page)
        if len(page) < 1000:
            break
        lower = f"({_text(page[-1][0])}"
    return counted, first_id


async def _row(
    conn: RedisConnection, stream: str, group: dict[str, Any], end: int, now_ms: int
) -> PartitionLag:
    client = conn.client()
    name = _text(group["name"])
    pending_count = int(group.get("pending") or 0)
    owners: list[str] = []
    oldest_ms: int | None = None
    if pending_count:
        summary = await conn.call(client.xpending(stream, name), "XPENDING")
        pending_count = int(summary.get("pending") or 0)
        if summary.get("min"):
            oldest_ms = id_millis(summary["min"])
        owners = [
            f"{_text(c['name'])} ({int(c['pending'])} pending)"
            for c in summary.get("consumers") or []
        ]
    undelivered, first_id = await _undelivered(conn, stream, group)
    if oldest_ms is None and undelivered and first_id is not None:
        oldest_ms = id_millis(first_id)
    read = group.get("entries-read")
    total = undelivered + pending_count
    committed = max(0, end - total) if read is None else max(0, int(read) - pending_count)
    return PartitionLag(
        topic=stream,
        partition=0,
        committed_offset=committed,
        log_start_offset=0,
        end_offset=end,
        lag=total,
        time_lag_seconds=max(0.0, (now_ms - oldest_ms) / 1000) if oldest_ms and total else None,
        owner=", ".join(owners) or None,
    )


async def group_lag(
    conn: RedisConnection, groups: list[str] | None = None, topic: str | None = None
) -> list[LagEntry]:
    client = conn.client()
    streams = [topic] if topic is not None else await stream_names(conn)
    wanted = set(groups) if groups is not None else None
    by_group: dict[str, LagEntry] = {}
    now_ms = int(time.time() * 1000)
    for stream in streams:
        info = await stream_info(conn, stream)  # NotFoundError when --topic names no stream
        if not info.get("groups"):
            continue
        length = int(info.get("length") or 0)
        added = info.get("entries-added")
        end = int(added) if added is not None else length
        for group in await conn.call(client.xinfo_groups(stream), "XINFO GROUPS"):
            name = _text(group["name"])
            if wanted is not None and name not in wanted:
                continue
            row = await _row(conn, stream, group, end, now_ms)
            row.log_start_offset = max(0, end - length)
            consumers = int(group.get("consumers") or 0)
            row.status = (
                LagStatus.OK
                if row.lag == 0
                else (LagStatus.LAGGING if consumers else LagStatus.STOPPED)
            )
            entry = by_group.get(name)
            if entry is None:
                entry = by_group[name] = LagEntry(
                    backend=BACKEND,
                    kind="group",
                    group=name,
                    status=LagStatus.OK,
                    total_lag=0,
                    max_time_lag_seconds=None,
                )
            entry.partitions.append(row)
            entry.topics.append(stream)
            entry.members += consumers
            entry.total_lag += row.lag
            if row.time_lag_seconds is not None:
                entry.max_time_lag_seconds = max(
                    entry.max_time_lag_seconds or 0.0, row.time_lag_seconds
                )
    for entry in by_group.values():
        entry.status = worst([row.status for row in entry.partitions])
        entry.state = "Stable" if entry.members else "Empty"
    return [by_group[name] for name in sorted(by_group)]
