"""Kafka helpers shared by the tests that need topics, records, commits and live members on
the local broker (lag, groups, offsets, DLQ tests). Independent of mqctl: aiokafka only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import KAFKA

KAFKA_ONLY = f"""
current-context = "k"
[contexts.k.kafka]
bootstrap-servers = "{KAFKA}"
"""


def kafka_only(config: Path) -> None:
    """A context with Kafka only, so RabbitMQ's state does not affect these tests."""
    config.write_text(KAFKA_ONLY)


async def create_topics(topics: dict[str, int]) -> None:
    """Create ``{name: partitions}`` (replication 1) and wait until each has leaders."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, n, 1) for t, n in topics.items()])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for topic in topics:
            for _ in range(50):
                if await producer.partitions_for(topic):
                    break
                await asyncio.sleep(0.1)
    finally:
        await producer.stop()


async def create_topic(name: str, partitions: int) -> None:
    await create_topics({name: partitions})


async def delete_topics(*names: str) -> None:
    """Remove topics a test created (best effort)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics(list(names))
    finally:
        await admin.close()


async def delete_topic(name: str) -> None:
    await delete_topics(name)


async def delete_groups(*groups: str) -> None:
    """Remove groups a test created (best effort: a group may already be gone)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.protocol.admin import DeleteGroupsRequest

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        for group in groups:
            try:
                node = await admin.find_coordinator(group)
                await admin._send_request(DeleteGroupsRequest([group]), node)
            except Exception:
                pass
    finally:
        await admin.close()


async def produce(topic: str, per_partition: dict[int, list[int]]) -> None:
    """Records with the given timestamps (ms) per partition, one batch per record."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=0)
    await producer.start()
    try:
        for partition, stamps in per_partition.items():
            for ts in stamps:
                await producer.send_and_wait(topic, b"v", partition=partition, timestamp_ms=ts)
    finally:
        await producer.stop()


async def commit(group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit offsets the way a consumer with a group id does (assign + commit, no members)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in offsets])
    await consumer.start()
    try:
        await consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()})
    finally:
        await consumer.stop()


async def committed(group: str, topic: str) -> dict[int, int]:
    """Committed offsets read independently of mqctl (aiokafka's admin client)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: om.offset for tp, om in found.items() if tp.topic == topic}


async def end_offsets(topic: str, partitions: int) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {tp.partition: off for tp, off in ends.items()}


@asynccontextmanager
async def live_member(group: str, topic: str, *, commit_each: bool = False) -> AsyncIterator[Any]:
    """A consumer that joins ``group``; it never commits unless ``commit_each``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        for _ in range(200):  # joining takes a rebalance; up to 20 s
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        assert consumer.assignment(), "consumer got no assignment"
        yield consumer
    finally:
        await consumer.stop()


def kafka_context() -> Any:
    from mqctl.config.schema import Context

    return Context(name="k", backends={"kafka": {"bootstrap-servers": KAFKA}}, timeout=10)


async def cleanup(topics: Iterable[str], groups: Iterable[str] = ()) -> None:
    """Remove the groups, then the topics, a test created (best effort)."""
    await delete_groups(*groups)
    await delete_topics(*topics)


@contextmanager
def scratch_topic(topic: str, partitions: int, *groups: str) -> Iterator[None]:
    """``topic`` exists inside the block; afterwards it and ``groups`` are removed."""
    asyncio.run(create_topic(topic, partitions))
    try:
        yield
    finally:
        asyncio.run(cleanup([topic], groups))
