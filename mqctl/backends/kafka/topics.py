"""Topic metadata, configs and offsets through batched protocol requests.

Offsets for many partitions are fetched with one ListOffsets request per partition leader
(not one per partition), all leaders concurrently: this is what keeps ``topics list`` and
``lag`` fast on large clusters.
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.error_codes import kafka_error
from mqctl.errors import BrokerError, BrokerTimeout, ConnectError, NotFoundError, UsageError

if TYPE_CHECKING:
    # imported where built: `mqctl lag` uses this module but none of these (slow to define)
    from mqctl.models.inventory import ConfigEntry, TopicDetail, TopicSummary

EARLIEST = -2
LATEST = -1
CONFIG_SOURCES = {
    0: "unknown",
    1: "topic",
    2: "dynamic-broker",
    3: "dynamic-default-broker",
    4: "static-broker",
    5: "default",
    6: "dynamic-broker-logger",
}
TOPIC_RESOURCE = 2
UNKNOWN_TOPIC = 3


# The latest metadata answer of each connection and when it came (monotonic seconds).
_LATEST_METADATA: weakref.WeakKeyDictionary[KafkaConnection, tuple[float, Any]] = (
    weakref.WeakKeyDictionary()
)


async def cluster_metadata(conn: KafkaConnection, *, max_age: float = 0.0) -> Any:
    """The cluster's metadata; with ``max_age`` the connection's latest answer if it is not
    older (the lag exporter samples a 10,000-partition cluster every few seconds: its
    metadata is ~60 ms of the brokers' and the client's time per sample)."""
    latest = _LATEST_METADATA.get(conn) if max_age > 0 else None
    if latest is not None and time.monotonic() - latest[0] <= max_age:
        return latest[1]

    async def fetch() -> Any:
        from mqctl.backends.kafka.metadata_wire import fetch_all_metadata

        client = await conn.client()
        metadata = await conn.call(fetch_all_metadata(client), "metadata request")
        _LATEST_METADATA[conn] = (time.monotonic(), metadata)
        return metadata

    # status, topics and lag of one TUI refresh ask at once; with 1,000 topics decoding an
    # answer costs ~30 ms of CPU, so they share one request
    return await conn.shared.join("metadata", fetch)


def metadata_is_recent(conn: KafkaConnection, max_age: float) -> bool:
    latest = _LATEST_METADATA.get(conn)
    return latest is not None and time.monotonic() - latest[0] <= max_age


def forget_metadata(conn: KafkaConnection) -> None:
    """Drop the kept answer: an error said it may be stale (a leader moved, a topic went)."""
    _LATEST_METADATA.pop(conn, None)


LEGAL_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")


def legal_topic_name(name: str) -> bool:
    """Whether Kafka accepts ``name`` for a topic (``.`` and ``..`` excepted)."""
    return LEGAL_TOPIC_NAME.fullmatch(name) is not None and name not in (".", "..")


def is_internal(name: str) -> bool:
    return name.startswith("__")


# ListOffsets answers while leadership moves (a broker died, a partition is being
# reassigned): worth a metadata refresh and another try, not an error for the user.
RETRIABLE_OFFSET_ERRORS = {
    5: "leader not available",
    6: "not leader or follower",
    9: "replica not available",
    13: "network exception",
    74: "fenced leader epoch",
    75: "unknown leader epoch",
}
OFFSET_RETRY_DELAY = 0.5


async def list_offsets(
    conn: KafkaConnection,
    metadata: Any,
    partitions: Iterable[tuple[str, int]],
    timestamp: int,
    *,
    read_committed: bool = False,
) -> dict[tuple[str, int], int]:
    """Offset for ``timestamp`` (EARLIEST, LATEST or ms) of each partition, batched by leader.

    ``read_committed``: LATEST is the last stable offset (before any open transaction), where
    a read_committed consumer stops, instead of the high watermark.

    A partition whose offset cannot be found (timestamp past the end) maps to -1. Partitions
    whose leader is moving are retried with fresh metadata until the connection's timeout;
    after that the error is "unavailable" (exit 3), as the cluster is not answering for them.
    """
    import time

    pending = list(partitions)
    offsets: dict[tuple[str, int], int] = {}
    deadline = time.monotonic() + conn.timeout
    while True:
        failed = await _list_offsets_once(
            conn, metadata, pending, timestamp, offsets, 1 if read_committed else 0
        )
        if not failed:
            return offsets
        if time.monotonic() + OFFSET_RETRY_DELAY > deadline:
            (topic, partition), reason = next(iter(failed.items()))
            raise BrokerTimeout(
                f"Kafka at {conn.settings.address}: partition {topic}/{partition} has no "
                f"available leader ({reason}); {len(failed)} partition(s) affected",
                hint="a broker may be down or restarting; retry in a few seconds",
            )
        await asyncio.sleep(OFFSET_RETRY_DELAY)
        metadata = await cluster_metadata(conn)
        pending = list(failed)


async def _list_offsets_once(
    conn: KafkaConnection,
    metadata: Any,
    partitions: list[tuple[str, int]],
    timestamp: int,
    offsets: dict[tuple[str, int], int],
    isolation_level: int = 0,
) -> dict[tuple[str, int], str]:
    """One round: fills ``offsets``; returns the partitions to retry with the reason."""
    from aiokafka.structs import TopicPartition

    from mqctl.backends.kafka.offsets_wire import ListOffsetsRequest  # a faster OffsetRequest

    failed: dict[tuple[str, int], str] = {}
    by_leader: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for topic, partition in partitions:
        leader = metadata.leader_for_partition(TopicPartition(topic, partition))
        if leader is None or leader < 0:
            failed[(topic, partition)] = "no leader elected"
            continue
        by_leader[leader][topic].append((partition, timestamp))
    client = await conn.client()

    async def ask(node: int, topics: dict[str, list[tuple[int, int]]]) -> list[Any]:
        request = ListOffsetsRequest(-1, isolation_level, list(topics.items()))
        try:
            response = await conn.call(client.send(node, request), "ListOffsets request")
        except ConnectError:
            # That leader is gone: its partitions move elsewhere; retry them.
            for topic, parts in topics.items():
                for partition, _ts in parts:
                    failed[(topic, partition)] = f"broker {node} unreachable"
            return []
        return list(response.topics)

    results = await asyncio.gather(*(ask(n, t) for n, t in by_leader.items()))
    for topics in results:
        for topic, parts in topics:
            for part in parts:
                # v1+: (partition, error_code, timestamp, offset); v4+: + leader_epoch
                partition, error_code, offset = part[0], part[1], part[3]
                if error_code in RETRIABLE_OFFSET_ERRORS:
                    failed[(topic, partition)] = RETRIABLE_OFFSET_ERRORS[error_code]
                elif error_code == UNKNOWN_TOPIC:
                    raise NotFoundError(
                        f"topic {topic!r} not found on Kafka at {conn.settings.address}"
                    )
                elif error_code:
                    raise kafka_error(error_code, f"ListOffsets for {topic}/{partition}")
                else:
                    offsets[(topic, partition)] = offset
    return failed


async def watermarks(
    conn: KafkaConnection, metadata: Any, partitions: list[tuple[str, int]]
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """(log start offsets, end offsets) for the partitions, both fetched concurrently."""
    start, end = await asyncio.gather(
        list_offsets(conn, metadata, partitions, EARLIEST),
        list_offsets(conn, metadata, partitions, LATEST),
    )
    return start, end


def _partitions_of(metadata: Any, topic: str) -> list[int]:
    return sorted(metadata.partitions_for_topic(topic) or ())


async def list_topics(conn: KafkaConnection, *, include_internal: bool) -> list[TopicSummary]:
    from mqctl.models.inventory import TopicSummary

    metadata = await cluster_metadata(conn)
    all_topics = metadata.topics(exclude_internal_topics=False)
    names = sorted(t for t in all_topics if include_internal or not is_internal(t))
    partitions = [(t, p) for t in names for p in _partitions_of(metadata, t)]
    start, end = await watermarks(conn, metadata, partitions) if partitions else ({}, {})
    summaries = []
    for name in names:
        parts = _partitions_of(metadata, name)
        replication = _replication_factor(metadata, name)
        messages = sum(max(0, end[(name, p)] - start[(name, p)]) for p in parts)
        summaries.append(
            TopicSummary(name, len(parts), replication, messages, is_internal(name), "kafka")
        )
    return summaries


def _replication_factor(metadata: Any, topic: str) -> int:
    for partition in _partitions_of(metadata, topic):
        info = partitions_metadata(metadata, topic).get(partition)
        if info is not None:
            return len(info.replicas)
    return 0


async def describe_configs(conn: KafkaConnection, topic: str) -> list[ConfigEntry]:
    from aiokafka.protocol.admin import DescribeConfigsRequest

    from mqctl.models.inventory import ConfigEntry

    client = await conn.client()
    node = client.get_random_node()
    request = DescribeConfigsRequest([(TOPIC_RESOURCE, topic, None)], include_synonyms=False)
    response = await conn.call(client.send(node, request), "DescribeConfigs request")
    entries: list[ConfigEntry] = []
    for error_code, error_message, _rtype, _rname, configs in response.resources:
        if error_code == UNKNOWN_TOPIC:
            raise NotFoundError(f"topic {topic!r} not found on Kafka at {conn.settings.address}")
        if error_code:
            raise BrokerError(f"DescribeConfigs for {topic!r} failed: {error_message}")
        for config in configs:
            name, value, read_only, source, sensitive = config[:5]
            entries.append(
                ConfigEntry(
                    name=name,
                    value=None if sensitive else value,
                    is_default=source in (4, 5),
                    source=CONFIG_SOURCES.get(source, str(source)),
                    sensitive=bool(sensitive),
                    read_only=bool(read_only),
                )
            )
    return sorted(entries, key=lambda e: e.name)


async def describe_topic(conn: KafkaConnection, name: str) -> TopicDetail:
    from mqctl.models.inventory import PartitionDetail, TopicDetail

    if not legal_topic_name(name):
        raise UsageError(
            f"{name!r} is not a valid Kafka topic name: 1 to 249 of a-z, A-Z, 0-9, '.', '_' "
            f"and '-' (not '.' or '..')"
        )
    metadata = await cluster_metadata(conn)
    if name not in metadata.topics():
        raise NotFoundError(
            f"topic {name!r} not found on Kafka at {conn.settings.address}",
            hint="list topics with `mqctl topics list`",
        )
    parts = _partitions_of(metadata, name)
    keys = [(name, p) for p in parts]
    (start, end), configs = await asyncio.gather(
        watermarks(conn, metadata, keys), describe_configs(conn, name)
    )
    details = []
    for partition in parts:
        info = partitions_metadata(metadata, name)[partition]
        details.append(
            PartitionDetail(
                partition=partition,
                leader=info.leader if info.leader >= 0 else None,
                replicas=list(info.replicas),
                isr=list(info.isr),
                log_start_offset=start[(name, partition)],
                end_offset=end[(name, partition)],
            )
        )
    return TopicDetail(
        name=name,
        internal=is_internal(name),
        replication_factor=_replication_factor(metadata, name),
        messages=sum(d.messages for d in details),
        partitions=details,
        configs=configs,
    )
