"""Planning and applying a consumer group offset reset, kafka-consumer-groups style.

The plan is computed from the current committed offsets and the partitions' valid range;
nothing is written until :func:`apply`, which checks again that the group has no members (a
live consumer would overwrite the reset with its next commit, or the broker refuses it).
"""

from __future__ import annotations

import asyncio

from mqctl.backends.kafka import groups as kgroups
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.group_admin import active_members
from mqctl.backends.kafka.topics import cluster_metadata, list_offsets, watermarks
from mqctl.errors import BrokerError, NotFoundError, UsageError
from mqctl.lag.model import OffsetPlanRow, OffsetResetPlan, ResetSpec

MODES = ("earliest", "latest", "offset", "datetime", "duration", "shift", "file")


def _refuse_active(group: str, members: int) -> None:
    if members:
        raise UsageError(
            f"group {group!r} has {members} active member(s): offsets can only be reset while "
            "the group is inactive",
            hint="stop the group's consumers first, then run the reset again",
        )


async def plan(conn: KafkaConnection, group: str, spec: ResetSpec) -> OffsetResetPlan:
    if spec.mode not in MODES:
        raise UsageError(f"unknown reset mode {spec.mode!r}")
    metadata, members = await asyncio.gather(cluster_metadata(conn), active_members(conn, group))
    _refuse_active(group, members)
    wanted = _partitions(metadata, spec, conn.settings.address)
    coordinators = await kgroups.find_coordinators(conn, [group])
    (start, end), committed = await asyncio.gather(
        watermarks(conn, metadata, wanted), kgroups.committed_offsets(conn, coordinators)
    )
    current = committed.get(group, {})
    targets = await _targets(conn, metadata, spec, wanted, current, end)
    rows: list[OffsetPlanRow] = []
    warnings: list[str] = []
    for tp in wanted:
        low, high = start[tp], end[tp]
        target = targets[tp]
        clamped = not low <= target <= high
        new = min(max(target, low), high)
        if clamped:
            warnings.append(
                f"{tp[0]}/{tp[1]}: offset {target} is outside the valid range "
                f"{low}..{high}, using {new}"
            )
        old = current.get(tp)
        rows.append(
            OffsetPlanRow(
                topic=tp[0],
                partition=tp[1],
                current_offset=old,
                new_offset=new,
                change=None if old is None else new - old,
                log_start_offset=low,
                end_offset=high,
                clamped=clamped,
            )
        )
    # No committed offset on any topic and no member: the group does not exist (a typo?);
    # committing would create it. Said in the plan, and --execute needs --allow-new-group.
    new_group = not committed.get(group) and not members
    if new_group:
        warnings.insert(
            0,
            f"group {group!r} does not exist (no committed offsets, no members): applying "
            "this plan creates it",
        )
    return OffsetResetPlan(group, spec.mode, False, rows, warnings, new_group=new_group)


def _partitions(metadata: object, spec: ResetSpec, address: str) -> list[tuple[str, int]]:
    selection: list[tuple[str, tuple[int, ...] | None]]
    if spec.mode == "file":
        selection = [(t, (p,)) for t, p, _ in spec.file_offsets]
    else:
        selection = list(spec.targets)
    if not selection:
        raise UsageError("no topic given: use --topic TOPIC[:P,P...]")
    found: list[tuple[str, int]] = []
    for topic, parts in selection:
        available = metadata.partitions_for_topic(topic)  # type: ignore[attr-defined]
        if not available:
            raise NotFoundError(f"topic {topic!r} not found on Kafka at {address}")
        for p in parts if parts is not None else sorted(available):
            if p not in available:
                raise NotFoundError(
                    f"topic {topic!r} has no partition {p} (it has {len(available)})"
                )
            found.append((topic, p))
    return sorted(set(found))


async def _targets(
    conn: KafkaConnection,
    metadata: object,
    spec: ResetSpec,
    wanted: list[tuple[str, int]],
    current: dict[tuple[str, int], int],
    end: dict[tuple[str, int], int],
) -> dict[tuple[str, int], int]:
    mode = spec.mode
    if mode == "earliest":
        return {tp: 0 for tp in wanted}  # clamped up to the log start below, silently
    if mode == "latest":
        return {tp: end[tp] for tp in wanted}
    if mode == "offset":
        assert spec.value is not None
        return dict.fromkeys(wanted, spec.value)
    if mode in ("datetime", "duration"):
        assert spec.value is not None
        found = await list_offsets(conn, metadata, wanted, spec.value)
        # No record at or after that time: the group starts at the end.
        return {tp: end[tp] if found[tp] < 0 else found[tp] for tp in wanted}
    if mode == "shift":
        assert spec.value is not None
        return {tp: current.get(tp, end[tp]) + spec.value for tp in wanted}
    by_tp = {(t, p): o for t, p, o in spec.file_offsets}
    return {tp: by_tp[tp] for tp in wanted}


async def apply(conn: KafkaConnection, reset: OffsetResetPlan) -> None:
    from aiokafka.protocol.commit import OffsetCommitRequest

    _refuse_active(reset.group, await active_members(conn, reset.group))
    topics: dict[str, list[tuple[int, int, str]]] = {}
    for row in reset.rows:
        topics.setdefault(row.topic, []).append((row.partition, row.new_offset, ""))
    coordinators = await kgroups.find_coordinators(conn, [reset.group])
    # Generation -1 and no member id: an admin commit, accepted only for an empty group.
    request = OffsetCommitRequest(reset.group, -1, "", -1, list(topics.items()))
    response = await kgroups.send(conn, coordinators[reset.group], request, "OffsetCommit request")
    failed = [
        f"{topic}/{part[0]}: {kgroups.error_name(part[1])}"
        for topic, parts in response.topics
        for part in parts
        if part[1]
    ]
    if failed:
        raise BrokerError(f"offset reset of group {reset.group!r} failed: {'; '.join(failed)}")
    reset.executed = True
