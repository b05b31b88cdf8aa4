"""Streams as topics: listing (SCAN ... TYPE stream) and describing (XINFO STREAM)."""

from __future__ import annotations

from typing import Any

from mqctl.errors import NotFoundError
from mqctl.models.inventory import ConfigEntry, PartitionDetail, TopicDetail, TopicSummary
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.entries import BACKEND

SCAN_COUNT = 500


def _text(raw: Any) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


async def stream_names(conn: RedisConnection) -> list[str]:
    client = conn.client()

    async def scan() -> list[str]:
        names: set[str] = set()
        async for key in client.scan_iter(
            match=conn.settings.streams, count=SCAN_COUNT, _type="stream"
        ):
            names.add(_text(key))
        return sorted(names)

    result: list[str] = await conn.call(scan(), "stream scan")
    return result


async def is_stream(conn: RedisConnection, name: str) -> bool:
    kind = await conn.call(conn.client().type(name), "TYPE")
    return bool(_text(kind) == "stream")


async def stream_info(conn: RedisConnection, name: str) -> dict[str, Any]:
    if not await is_stream(conn, name):
        raise NotFoundError(f"no stream named {name!r} on Redis at {conn.settings.address}")
    info: dict[str, Any] = await conn.call(conn.client().xinfo_stream(name), "XINFO STREAM")
    return info


def _offsets(info: dict[str, Any]) -> tuple[int, int]:
    """(log start, end) in entries: ``entries-added`` is the end, minus the current length."""
    length = int(info.get("length") or 0)
    added = info.get("entries-added")
    end = int(added) if added is not None else length
    return max(0, end - length), end


async def list_streams(conn: RedisConnection) -> list[TopicSummary]:
    summaries: list[TopicSummary] = []
    for name in await stream_names(conn):
        try:
            info = await stream_info(conn, name)
        except NotFoundError:  # deleted between SCAN and XINFO
            continue
        summaries.append(
            TopicSummary(
                name=name,
                partitions=1,
                replication_factor=1,
                messages=int(info.get("length") or 0),
                backend=BACKEND,
            )
        )
    return summaries


async def describe_stream(conn: RedisConnection, name: str) -> TopicDetail:
    info = await stream_info(conn, name)
    start, end = _offsets(info)
    configs = []
    for key in (
        "first-entry",
        "last-generated-id",
        "max-deleted-entry-id",
        "entries-added",
        "recorded-first-entry-id",
        "groups",
        "radix-tree-keys",
        "radix-tree-nodes",
    ):
        if key not in info:
            continue
        raw = info[key]
        if key == "first-entry":
            key, raw = "first-entry-id", (raw[0] if raw else None)
        configs.append(
            ConfigEntry(
                name=key,
                value=None if raw is None else _text(raw),
                is_default=False,
                source="XINFO STREAM",
                read_only=True,
            )
        )
    return TopicDetail(
        name=name,
        internal=False,
        replication_factor=1,
        messages=int(info.get("length") or 0),
        partitions=[
            PartitionDetail(
                partition=0,
                leader=None,
                replicas=[],
                isr=[],
                log_start_offset=start,
                end_offset=end,
            )
        ],
        configs=configs,
    )
