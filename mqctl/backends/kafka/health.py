"""The cluster facts ``mqctl doctor`` judges: one metadata answer (the same request
``topics list`` makes, shared with it) gives the controller, the brokers and every
partition's leader, replicas and ISR; a topic's ``min.insync.replicas`` from its configs."""

from __future__ import annotations

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.models.health import PartitionReplicas, ReplicaReport


async def replica_health(conn: KafkaConnection) -> ReplicaReport:
    from mqctl.backends.kafka.aiokafka_internals import partitions_metadata
    from mqctl.backends.kafka.topics import cluster_metadata

    metadata = await cluster_metadata(conn)
    partitions = [
        PartitionReplicas(
            topic=p.topic,
            partition=p.partition,
            leader=p.leader,
            replicas=list(p.replicas),
            isr=list(p.isr),
        )
        for topic in sorted(metadata.topics(exclude_internal_topics=False))
        for p in partitions_metadata(metadata, topic).values()
    ]
    controller = metadata.controller  # aiokafka's ClusterMetadata: None without a controller
    return ReplicaReport(
        brokers=sorted(b.nodeId for b in metadata.brokers()),
        controller=None if controller is None else controller.nodeId,
        partitions=partitions,
    )


async def min_insync_replicas(conn: KafkaConnection, topic: str) -> int | None:
    from mqctl.backends.kafka.topics import describe_configs

    for entry in await describe_configs(conn, topic):
        if entry.name == "min.insync.replicas" and entry.value is not None:
            return int(entry.value)
    return None
