"""``offsets delete GROUP --topic T``: remove a group's committed offsets for one topic.

Uses the OffsetDelete API (KIP-496, Kafka 2.4+), sent to the group's coordinator. The broker
refuses it (GROUP_SUBSCRIBED_TO_TOPIC) while a live member of the group is subscribed to
the topic; the dry run checks the same thing from the group's member assignments, so both
answer alike. aiokafka has no class for the request: it is declared from the protocol spec.
"""

from __future__ import annotations

from typing import Any

from mqctl.backends.kafka import groups as kgroups
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.errors import BrokerError, NotFoundError, UsageError
from mqctl.models.admin import OffsetsDeleted

GROUP_SUBSCRIBED_TO_TOPIC = 86
GROUP_ID_NOT_FOUND = 69
UNKNOWN_TOPIC = 3


def _request_class() -> type[Any]:
    from aiokafka.protocol.api import Request, RequestStruct, Response
    from aiokafka.protocol.types import Array, Int16, Int32, Schema, String

    class OffsetDeleteResponseV0(Response):  # type: ignore[misc]
        API_KEY = 47
        API_VERSION = 0
        SCHEMA = Schema(
            ("error_code", Int16),
            ("throttle_time_ms", Int32),
            (
                "topics",
                Array(
                    ("name", String("utf-8")),
                    ("partitions", Array(("partition_index", Int32), ("error_code", Int16))),
                ),
            ),
        )

    class OffsetDeleteRequestV0(RequestStruct):  # type: ignore[misc]
        API_KEY = 47
        API_VERSION = 0
        RESPONSE_TYPE = OffsetDeleteResponseV0
        SCHEMA = Schema(
            ("group_id", String("utf-8")),
            ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32)))),
        )

    class OffsetDelete(Request[OffsetDeleteRequestV0]):  # type: ignore[misc]
        API_KEY = 47

        def __init__(self, group: str, topics: list[tuple[str, list[int]]]) -> None:
            self.group, self.topics = group, topics

        def build(self, request_struct_class: type[OffsetDeleteRequestV0]) -> Any:
            return request_struct_class(self.group, self.topics)

    return OffsetDelete


def _subscribed(group: str, topic: str, members: int) -> UsageError:
    return UsageError(
        f"group {group!r} has {members} active member(s) subscribed to topic {topic!r}: its "
        "committed offsets for that topic cannot be deleted while it consumes it",
        hint="stop the group's consumers (or unsubscribe them from the topic) first",
    )


async def delete_offsets(
    conn: KafkaConnection,
    group: str,
    topic: str,
    partitions: list[int] | None = None,
    *,
    dry_run: bool = False,
) -> OffsetsDeleted:
    """Delete the committed offsets of ``group`` for ``topic`` (all its committed partitions,
    or only ``partitions``). Nothing committed there is "not found" (exit 4)."""
    coordinators = await kgroups.find_coordinators(conn, [group])
    node = coordinators[group]
    committed = (await kgroups.committed_offsets(conn, coordinators)).get(group, {})
    have = sorted(p for t, p in committed if t == topic)
    if not have:
        raise NotFoundError(
            f"group {group!r} has no committed offsets for topic {topic!r} on Kafka at "
            f"{conn.settings.address}",
            hint=f"see its offsets with `mqctl groups describe {group}`",
        )
    chosen = have if partitions is None else sorted(set(partitions))
    missing = [p for p in chosen if p not in have]
    if missing:
        raise NotFoundError(
            f"group {group!r} has no committed offset for {topic}/"
            f"{','.join(map(str, missing))} (it has {','.join(map(str, have))})"
        )
    infos = await kgroups.describe_groups(conn, coordinators)
    info = infos.get(group)
    if info is not None and info.members:
        consuming = [m for m in info.members if topic in m.assignment]
        if consuming:
            raise _subscribed(group, topic, len(consuming))
    if dry_run:
        return OffsetsDeleted(group, topic, chosen, True)
    request = _request_class()(group, [(topic, chosen)])
    response = await kgroups.send(conn, node, request, "OffsetDelete request")
    if response.error_code == GROUP_ID_NOT_FOUND:
        raise NotFoundError(
            f"consumer group {group!r} not found on Kafka at {conn.settings.address}"
        )
    if response.error_code:
        raise BrokerError(
            f"deleting offsets of group {group!r} failed: {kgroups.error_name(response.error_code)}"
        )
    failed: list[str] = []
    for name, parts in response.topics:
        for partition, code in parts:
            if code == GROUP_SUBSCRIBED_TO_TOPIC:
                raise _subscribed(group, name, len(info.members) if info else 1)
            if code:
                failed.append(f"{name}/{partition}: {kgroups.error_name(code)}")
    if failed:
        raise BrokerError(f"deleting offsets of group {group!r} failed: {'; '.join(failed)}")
    return OffsetsDeleted(group, topic, chosen, False)
