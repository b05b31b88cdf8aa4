"""Kafka set-up helpers shared by the benchmarks (bench_lag, bench_tui, bench_cluster): group
offsets committed the way an admin tool does, and group deletion. Not a benchmark itself."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# [(topic, [(partition, offset, metadata), ...]), ...] as OffsetCommitRequest takes them
TopicOffsets = list[tuple[str, list[tuple[int, int, str]]]]


async def commit_groups(
    bootstrap: str,
    groups: list[str],
    offsets: Callable[[int, str], TopicOffsets],
    *,
    request_timeout: float,
    concurrency: int,
) -> None:
    """Commit ``offsets(index, group)`` for each group the way an admin tool does (generation
    -1, no member), ``concurrency`` requests at a time, each to the group's coordinator."""
    from aiokafka.protocol.commit import OffsetCommitRequest

    sys.path.insert(0, str(ROOT))
    from mqctl.backends.kafka.connection import KafkaConnection
    from mqctl.backends.kafka.groups import find_coordinators
    from mqctl.backends.kafka.settings import parse_kafka_settings

    settings = parse_kafka_settings({"bootstrap-servers": bootstrap}, "bench")
    conn = KafkaConnection(settings, request_timeout, "bench")
    try:
        client = await conn.client()
        coordinators = await find_coordinators(conn, groups)
        limiter = asyncio.Semaphore(concurrency)

        async def one(index: int, group: str) -> None:
            async with limiter:
                request = OffsetCommitRequest(group, -1, "", -1, offsets(index, group))
                await client.send(coordinators[group], request)

        await asyncio.gather(*(one(i, g) for i, g in enumerate(groups)))
    finally:
        await conn.close()


async def delete_groups(admin: Any, groups: list[str]) -> None:
    """Delete ``groups`` (an open AIOKafkaAdminClient of a single broker) 100 per request."""
    from aiokafka.protocol.admin import DeleteGroupsRequest

    if not groups:
        return
    node = await admin.find_coordinator(groups[0])
    for start in range(0, len(groups), 100):
        await admin._send_request(DeleteGroupsRequest(groups[start : start + 100]), node)
