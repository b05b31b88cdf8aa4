"""``groups list|describe|delete`` on Kafka, built on the batched requests in groups.py."""

from __future__ import annotations

from mqctl.backends.kafka import groups as kgroups
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.lag import snapshot
from mqctl.errors import NotFoundError, UsageError
from mqctl.lag.model import GroupDetail, GroupSummary


async def list_groups(conn: KafkaConnection) -> list[GroupSummary]:
    """Every group with state, type, member count and coordinator (one describe per node)."""
    listed = await kgroups.list_groups(conn)
    if not listed:
        return []
    coordinators = {g.group: g.coordinator for g in listed if g.coordinator is not None}
    types = {g.group: g.type for g in listed}
    describable = {g: n for g, n in coordinators.items() if types[g] in ("classic", "consumer")}
    infos = await kgroups.describe_groups(conn, describable, types) if describable else {}
    for summary in listed:
        info = infos.get(summary.group)
        if info is not None:
            summary.members = len(info.members)
            summary.state = info.state
            summary.protocol_type = summary.protocol_type or info.protocol_type
    return listed


async def describe_group(conn: KafkaConnection, group: str) -> GroupDetail:
    coordinators = await kgroups.find_coordinators(conn, [group])
    infos = await kgroups.describe_groups(conn, coordinators)
    entries = await snapshot(conn, [group])  # raises NotFoundError for an unknown group
    info = infos.get(group)
    entry = entries[0]
    return GroupDetail(
        group=group,
        state=info.state if info else "Empty",
        protocol_type=info.protocol_type if info else "",
        type=info.type if info else "classic",
        protocol=info.protocol if info else "",
        coordinator=coordinators.get(group),
        members=info.members if info else [],
        offsets=entry.partitions,
    )


async def active_members(conn: KafkaConnection, group: str) -> int:
    """Members of ``group`` right now (0 for an unknown group)."""
    coordinators = await kgroups.find_coordinators(conn, [group])
    infos = await kgroups.describe_groups(conn, coordinators)
    info = infos.get(group)
    return len(info.members) if info else 0


async def delete_group(conn: KafkaConnection, group: str) -> None:
    coordinators = await kgroups.find_coordinators(conn, [group])
    infos = await kgroups.describe_groups(conn, coordinators)
    info = infos.get(group)
    if info is None:
        raise NotFoundError(
            f"consumer group {group!r} not found on Kafka at {conn.settings.address}",
            hint="list groups with `mqctl groups list`",
        )
    if info.members:
        raise UsageError(
            f"group {group!r} has {len(info.members)} active member(s): stop its consumers "
            "before deleting it"
        )
    await kgroups.delete_group(conn, group)
