"""``cluster describe``: the cluster's metadata the way ``kcat -L`` shows it, plus health.

One Metadata request (the newest version aiokafka knows, v5) carries the cluster id, the
controller, every broker with its rack, and per partition the leader, replicas, ISR and
offline replicas. aiokafka's cached ``ClusterMetadata`` drops the cluster id and offline
replicas, so the raw answer is decoded here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.topics import is_internal
from mqctl.errors import NotFoundError
from mqctl.models.admin import BrokerNode, ClusterInfo, PartitionHealth, TopicHealth

UNKNOWN_TOPIC_ERROR = "UnknownTopicOrPartitionError"
# Partition-level errors that still come with usable replica lists.
PARTITION_ERRORS_OK = {0, 5, 9}  # none, leader not available, replica not available


async def fetch_metadata(conn: KafkaConnection, topics: list[str] | None) -> Any:
    """A fresh Metadata answer for ``topics`` (None: every topic)."""
    from aiokafka.protocol.metadata import MetadataRequest

    client = await conn.client()
    node = client.get_random_node()
    request = MetadataRequest(topics, allow_auto_topic_creation=False)
    return await conn.call(client.send(node, request), "metadata request")


def _field(struct: Any, name: str, default: Any = None) -> Any:
    """Older answer versions lack some fields (rack, cluster id, offline replicas)."""
    try:
        return getattr(struct, name)
    except AttributeError:
        return default


def _as_tuple(item: Any) -> tuple[Any, ...]:
    return tuple(item)


def _brokers(response: Any) -> list[tuple[int, str, int, str | None]]:
    found = []
    for broker in response.brokers:
        values = _as_tuple(broker)
        node_id, host, port = values[0], values[1], values[2]
        rack = values[3] if len(values) > 3 else None
        found.append((int(node_id), str(host), int(port), rack or None))
    return found


def _topic(raw: Any, detail: bool) -> TopicHealth:
    values = _as_tuple(raw)
    error_code, name = values[0], values[1]
    internal = bool(values[2]) if len(values) > 3 else is_internal(name)
    raw_partitions = values[-1]
    partitions: list[PartitionHealth] = []
    for part in raw_partitions:
        p = _as_tuple(part)
        leader = int(p[2])
        partitions.append(
            PartitionHealth(
                partition=int(p[1]),
                leader=leader if leader >= 0 else None,
                replicas=list(p[3]),
                isr=list(p[4]),
                offline_replicas=list(p[5]) if len(p) > 5 else [],
            )
        )
    partitions.sort(key=lambda p: p.partition)
    error = None
    if error_code:
        from aiokafka.errors import for_code

        error = for_code(error_code).__name__
    return TopicHealth(
        name=name,
        internal=internal,
        partition_count=len(partitions),
        replication_factor=max((len(p.replicas) for p in partitions), default=0),
        under_replicated=sum(1 for p in partitions if len(p.isr) < len(p.replicas)),
        offline=sum(1 for p in partitions if p.leader is None),
        leaders=dict(sorted(Counter(p.leader for p in partitions if p.leader is not None).items())),
        partitions=partitions if detail else [],
        error=error,
    )


async def describe_cluster(
    conn: KafkaConnection,
    *,
    topics: list[str] | None = None,
    include_internal: bool = False,
    partitions: bool = True,
) -> ClusterInfo:
    """The cluster, every (or the named) topic's leaders/ISR summary and health counts.

    Counts cover every topic in the answer, internal ones included (an under-replicated
    ``__consumer_offsets`` matters); ``include_internal`` only decides what is listed.
    """
    response = await fetch_metadata(conn, topics)
    all_topics = [_topic(t, partitions) for t in response.topics]
    if topics:
        missing = [t.name for t in all_topics if t.error == UNKNOWN_TOPIC_ERROR]
        missing += [n for n in topics if n not in {t.name for t in all_topics}]
        if missing:
            raise NotFoundError(
                f"topic {', '.join(map(repr, sorted(set(missing))))} not found on Kafka at "
                f"{conn.settings.address}",
                hint="list topics with `mqctl topics list`",
            )
    controller = int(_field(response, "controller_id", -1))
    leads: Counter[int] = Counter()
    hosts: Counter[int] = Counter()
    for topic in all_topics:
        for broker, count in topic.leaders.items():
            leads[broker] += count
    for raw in response.topics:
        for part in _as_tuple(raw)[-1]:
            for replica in _as_tuple(part)[3]:
                hosts[int(replica)] += 1
    brokers = [
        BrokerNode(
            id=node_id,
            host=host,
            port=port,
            rack=rack,
            is_controller=node_id == controller,
            leader_partitions=leads[node_id],
            replica_partitions=hosts[node_id],
        )
        for node_id, host, port, rack in sorted(_brokers(response))
    ]
    shown = sorted(
        (t for t in all_topics if topics or include_internal or not t.internal),
        key=lambda t: t.name,
    )
    return ClusterInfo(
        cluster_id=_field(response, "cluster_id"),
        controller=controller if controller >= 0 else None,
        bootstrap=conn.settings.address,
        brokers=brokers,
        topic_count=len(all_topics),
        partition_count=sum(t.partition_count for t in all_topics),
        under_replicated_partitions=sum(t.under_replicated for t in all_topics),
        offline_partitions=sum(t.offline for t in all_topics),
        topics=shown,
    )
