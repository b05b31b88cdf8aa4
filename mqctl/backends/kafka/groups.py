"""Consumer groups through batched protocol requests: list, describe, committed offsets.

Speed comes from batching: ListGroups goes to every broker at once, FindCoordinator asks for
all groups in one request (v4), DescribeGroups and OffsetFetch (v8, many groups) go once per
coordinator, all coordinators concurrently. Brokers too old for the batched versions get the
per-group requests, still concurrently.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.error_codes import kafka_error
from mqctl.errors import BrokerError, NotFoundError, UsageError
from mqctl.lag.model import GroupMember, GroupSummary

# Kafka error codes we handle by name.
COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
GROUP_ID_NOT_FOUND = 69
NON_EMPTY_GROUP = 68
UNSUPPORTED_VERSION = 35
RETRIABLE = {COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR}


@dataclass(slots=True)
class GroupInfo:
    """What DescribeGroups (or ConsumerGroupDescribe) said about one group."""

    group: str
    exists: bool
    state: str = "Dead"
    protocol_type: str = ""
    type: str = "classic"
    protocol: str = ""
    coordinator: int | None = None
    members: list[GroupMember] = field(default_factory=list)

    def owners(self) -> dict[tuple[str, int], str]:
        """(topic, partition) -> "member/client/host" of the member it is assigned to."""
        found: dict[tuple[str, int], str] = {}
        for m in self.members:
            for topic, parts in m.assignment.items():
                for p in parts:
                    found[(topic, p)] = f"{m.member_id}/{m.client_id}/{m.host}"
        return found


def error_name(code: int) -> str:
    from aiokafka import errors as kerr

    try:
        return str(kerr.for_code(code).__name__)
    except Exception:  # an unknown code must not hide the real failure
        return f"error {code}"


async def send(conn: KafkaConnection, node: int, request: Any, what: str) -> Any:
    client = await conn.client()
    return await conn.call(client.send(node, request), what)


def _unsupported(exc: BaseException) -> bool:
    from aiokafka.errors import IncompatibleBrokerVersion, UnsupportedVersionError

    cause = exc.__cause__ or exc
    return isinstance(
        cause, NotImplementedError | IncompatibleBrokerVersion | UnsupportedVersionError
    )


async def brokers(conn: KafkaConnection) -> list[int]:
    client = await conn.client()
    return sorted(b.nodeId for b in client.cluster.brokers())


async def find_coordinators(conn: KafkaConnection, groups: list[str]) -> dict[str, int]:
    """Coordinator node of each group, in one FindCoordinator v4 request when possible."""
    from mqctl.backends.kafka.group_protocol import FindCoordinatorsRequest

    client = await conn.client()
    result: dict[str, int] = {}
    pending = sorted(set(groups))
    for attempt in range(20):
        if not pending:
            break
        node = client.get_random_node()
        try:
            response = await send(conn, node, FindCoordinatorsRequest(pending), "FindCoordinator")
            answers = [(c[0], c[1], c[4], c[5]) for c in response.coordinators]
        except BrokerError as exc:
            if not _unsupported(exc):
                raise
            answers = await _find_one_by_one(conn, pending)
        retry = []
        for key, node_id, code, message in answers:
            if code in RETRIABLE:
                retry.append(key)
            elif code:
                raise kafka_error(code, f"FindCoordinator for group {key!r}: {message}".strip(": "))
            else:
                result[key] = node_id
        pending = retry
        if pending:
            # A fresh cluster creates __consumer_offsets on the first group request.
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
    if pending:
        raise BrokerError(f"no group coordinator available for {', '.join(pending)}")
    return result


async def _find_one_by_one(
    conn: KafkaConnection, groups: list[str]
) -> list[tuple[str, int, int, str]]:
    from aiokafka.protocol.coordination import FindCoordinatorRequest

    client = await conn.client()

    async def one(group: str) -> tuple[str, int, int, str]:
        r = await send(conn, client.get_random_node(), FindCoordinatorRequest(group, 0), "FC")
        return group, r.coordinator_id, r.error_code, ""

    return list(await asyncio.gather(*(one(g) for g in groups)))


async def list_groups(conn: KafkaConnection) -> list[GroupSummary]:
    """Every group on every broker (each broker lists the groups it coordinates)."""
    from mqctl.backends.kafka.group_protocol import ListGroupsV5Request

    async def ask(node: int) -> list[GroupSummary]:
        try:
            r = await send(conn, node, ListGroupsV5Request(), "ListGroups request")
            rows = [(g[0], g[1], g[2], g[3]) for g in r.groups]
        except BrokerError as exc:
            if not _unsupported(exc):
                raise
            from aiokafka.protocol.admin import ListGroupsRequest

            r = await send(conn, node, ListGroupsRequest(), "ListGroups request")
            rows = [(g[0], g[1], "Unknown", "classic") for g in r.groups]
        if r.error_code:
            raise BrokerError(f"ListGroups on broker {node} failed: {error_name(r.error_code)}")
        return [
            GroupSummary(
                group, state or "Unknown", ptype or "", (gtype or "classic").lower(), 0, node
            )
            for group, ptype, state, gtype in rows
        ]

    results = await asyncio.gather(*(ask(n) for n in await brokers(conn)))
    return sorted((g for batch in results for g in batch), key=lambda g: g.group)


def _decode_assignment(protocol_type: str, raw: bytes | None) -> dict[str, list[int]]:
    if protocol_type != "consumer" or not raw:
        return {}
    from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

    try:
        decoded = ConsumerProtocolMemberAssignment.decode(raw)
    except Exception:  # a non-standard assignor's bytes: show the member without partitions
        return {}
    return {topic: sorted(parts) for topic, parts in decoded.assignment}


async def describe_groups(
    conn: KafkaConnection, coordinators: dict[str, int], types: dict[str, str] | None = None
) -> dict[str, GroupInfo]:
    """Describe groups, one request per coordinator; KIP-848 groups via ConsumerGroupDescribe."""
    types = types or {}
    by_node: dict[int, list[str]] = defaultdict(list)
    for group, node in coordinators.items():
        by_node[node].append(group)
    results = await asyncio.gather(
        *(_describe_on(conn, node, groups, types) for node, groups in by_node.items())
    )
    return {info.group: info for batch in results for info in batch if info.exists}


async def _describe_on(
    conn: KafkaConnection, node: int, groups: list[str], types: dict[str, str]
) -> list[GroupInfo]:
    classic = [g for g in groups if types.get(g, "classic") != "consumer"]
    modern = [g for g in groups if types.get(g) == "consumer"]
    infos: list[GroupInfo] = []
    if classic:
        found = await _describe_classic(conn, node, classic)
        infos.extend(i for i in found if i.exists)
        # Kafka 4 answers GROUP_ID_NOT_FOUND for a KIP-848 group asked the classic way.
        modern.extend(i.group for i in found if not i.exists)
    if modern:
        found = await _describe_consumer(conn, node, modern)
        infos.extend(i for i in found if i.exists)
        # Listed as `consumer` but not found that way: converted back to a classic group
        # (KIP-848 online downgrade) between ListGroups and now. Ask the classic way once.
        back = [i.group for i in found if not i.exists and i.group not in classic]
        if back:
            infos.extend(i for i in await _describe_classic(conn, node, back) if i.exists)
    return infos


async def _describe_classic(conn: KafkaConnection, node: int, groups: list[str]) -> list[GroupInfo]:
    from mqctl.backends.kafka.group_protocol import DescribeGroupsV5Request

    try:
        r = await send(conn, node, DescribeGroupsV5Request(groups), "DescribeGroups request")
        rows = [
            (g[0], g[1], g[2], g[3], g[4], [(m[0], m[1], m[2], m[3], m[5]) for m in g[5]])
            for g in r.groups
        ]
    except BrokerError as exc:
        if not _unsupported(exc):
            raise
        from aiokafka.protocol.admin import DescribeGroupsRequest

        r = await send(conn, node, DescribeGroupsRequest(groups), "DescribeGroups request")
        rows = [
            (g[0], g[1], g[2], g[3], g[4], [(m[0], None, m[1], m[2], m[4]) for m in g[5]])
            for g in r.groups
        ]
    infos = []
    for code, group, state, ptype, protocol, members in rows:
        if code == GROUP_ID_NOT_FOUND or (not code and state == "Dead"):
            infos.append(GroupInfo(group, exists=False, coordinator=node))
            continue
        if code:
            raise kafka_error(code, f"DescribeGroups for {group!r}")
        infos.append(
            GroupInfo(
                group,
                exists=True,
                state=state,
                protocol_type=ptype or "",
                type="classic",
                protocol=protocol or "",
                coordinator=node,
                members=[
                    GroupMember(
                        member_id=mid,
                        client_id=cid or "",
                        host=(host or "").lstrip("/"),
                        instance_id=iid,
                        assignment=_decode_assignment(ptype, assignment),
                    )
                    for mid, iid, cid, host, assignment in members
                ],
            )
        )
    return infos


async def _describe_consumer(
    conn: KafkaConnection, node: int, groups: list[str]
) -> list[GroupInfo]:
    from mqctl.backends.kafka.group_protocol import ConsumerGroupDescribeRequest

    try:
        r = await send(conn, node, ConsumerGroupDescribeRequest(groups), "ConsumerGroupDescribe")
    except BrokerError as exc:
        if not _unsupported(exc):
            raise
        return [GroupInfo(g, exists=False, coordinator=node) for g in groups]
    infos = []
    for g in r.groups:
        code, message, group, state = g[0], g[1], g[2], g[3]
        if code == GROUP_ID_NOT_FOUND:
            infos.append(GroupInfo(group, exists=False, coordinator=node))
            continue
        if code:
            raise kafka_error(code, f"describing group {group!r}: {message}".strip(": "))
        members = []
        for m in g[7]:
            assignment: dict[str, list[int]] = {}
            for _tid, topic, parts, _tags in m[8][0]:
                assignment[topic] = sorted(parts)
            members.append(
                GroupMember(
                    member_id=m[0],
                    client_id=m[4] or "",
                    host=(m[5] or "").lstrip("/"),
                    instance_id=m[1],
                    assignment=assignment,
                )
            )
        infos.append(
            GroupInfo(
                group,
                exists=True,
                state=_title(state),
                protocol_type="consumer",
                type="consumer",
                protocol=g[6] or "",
                coordinator=node,
                members=members,
            )
        )
    return infos


def _title(state: str) -> str:
    # Older brokers' ConsumerGroupDescribe reports lower-case states ("stable", "assigning");
    # Kafka 4 and DescribeGroups use "Stable". Keep CamelCase ("NotReady") as it is.
    return state[:1].upper() + state[1:] if state.islower() else state


async def committed_offsets(
    conn: KafkaConnection, coordinators: dict[str, int]
) -> dict[str, dict[tuple[str, int], int]]:
    """Committed offset of every partition each group has one for (-1 entries dropped)."""
    by_node: dict[int, list[str]] = defaultdict(list)
    for group, node in coordinators.items():
        by_node[node].append(group)
    results = await asyncio.gather(*(_fetch_on(conn, n, gs) for n, gs in by_node.items()))
    merged: dict[str, dict[tuple[str, int], int]] = {}
    for batch in results:
        merged.update(batch)
    return merged


async def _fetch_on(
    conn: KafkaConnection, node: int, groups: list[str]
) -> dict[str, dict[tuple[str, int], int]]:
    from mqctl.backends.kafka.group_protocol import OffsetFetchGroupsRequest

    try:
        r = await send(conn, node, OffsetFetchGroupsRequest(groups), "OffsetFetch request")
        answers = [(g[0], g[1], g[2]) for g in r.groups]
    except BrokerError as exc:
        if not _unsupported(exc):
            raise
        answers = list(await asyncio.gather(*(_fetch_one(conn, node, g) for g in groups)))
    out: dict[str, dict[tuple[str, int], int]] = {}
    for group, topics, code in answers:
        if code and code != GROUP_ID_NOT_FOUND:
            raise kafka_error(code, f"OffsetFetch for group {group!r}")
        offsets: dict[tuple[str, int], int] = {}
        for topic in topics or ():
            for part in topic[1]:
                partition, offset, perr = part[0], part[1], part[-2] if len(part) > 5 else part[3]
                if perr:
                    raise kafka_error(perr, f"OffsetFetch for {group!r} {topic[0]}/{partition}")
                if offset >= 0:
                    offsets[(topic[0], partition)] = offset
        out[group] = offsets
    return out


async def _fetch_one(conn: KafkaConnection, node: int, group: str) -> tuple[str, Any, int]:
    from aiokafka.protocol.commit import OffsetFetchRequest

    r = await send(conn, node, OffsetFetchRequest(group, None), "OffsetFetch request")
    topics = [(t[0], [(p[0], p[1], p[3]) for p in t[1]]) for t in r.topics]
    # Normalise to the v8 row shape the caller reads: (partition, offset, ..., error, tags).
    norm: list[Any] = [(t, [(p, o, -1, "", e, {}) for p, o, e in parts]) for t, parts in topics]
    return group, norm, getattr(r, "error_code", 0)


async def delete_group(conn: KafkaConnection, group: str) -> None:
    from aiokafka.protocol.admin import DeleteGroupsRequest

    coordinators = await find_coordinators(conn, [group])
    r = await send(conn, coordinators[group], DeleteGroupsRequest([group]), "DeleteGroups")
    for name, code in r.results:
        if code == NON_EMPTY_GROUP:
            raise UsageError(
                f"group {name!r} has active members: stop its consumers before deleting it"
            )
        if code == GROUP_ID_NOT_FOUND:
            raise NotFoundError(
                f"consumer group {name!r} not found on Kafka at {conn.settings.address}"
            )
        if code:
            raise kafka_error(code, f"deleting group {name!r}")
