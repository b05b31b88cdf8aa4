"""Repeated lag snapshots on one connection (the exporter, --watch) reuse its metadata, and
still see what changed: a topic the group starts reading, partitions added to a topic, a
topic deleted (real Kafka)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.kafka_helpers import (
    cleanup,
    commit,
    create_topic,
    delete_topic,
    kafka_context,
    produce,
)

pytestmark = pytest.mark.kafka


def _rows(entries: list) -> dict[tuple[str, int], object]:
    [entry] = entries
    return {(p.topic, p.partition): p for p in entry.partitions}


def test_new_topics_partitions_and_deleted_topics_are_seen(unique: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions

    from mqctl.backends.kafka.lag import snapshot
    from mqctl.backends.kafka.topics import metadata_is_recent
    from mqctl.session import Session
    from tests.conftest import KAFKA

    first, second, group = f"kept-{unique}-a", f"kept-{unique}-b", f"kept-{unique}-g"
    now = int(time.time() * 1000)

    async def scenario() -> None:
        await create_topic(first, 1)
        await produce(first, {0: [now - 5000] * 3})
        await commit(group, first, {0: 1})
        async with Session(kafka_context()) as session:
            conn = session.backend("kafka").connection  # type: ignore[attr-defined]
            rows = _rows(await snapshot(conn, [group]))
            assert set(rows) == {(first, 0)}
            assert metadata_is_recent(conn, 30)
            # a topic the kept metadata does not know
            await create_topic(second, 1)
            await produce(second, {0: [now - 4000] * 2})
            await commit(group, second, {0: 0})
            rows = _rows(await snapshot(conn, [group]))
            assert set(rows) == {(first, 0), (second, 0)}
            assert rows[(second, 0)].lag == 2  # type: ignore[attr-defined]
            # partitions added to a topic the kept metadata knows with one partition
            admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
            await admin.start()
            try:
                await admin.create_partitions({first: NewPartitions(total_count=2)})
            finally:
                await admin.close()
            await produce(first, {1: [now - 3000] * 4})
            await commit(group, first, {1: 1})
            rows = _rows(await snapshot(conn, [group]))
            assert rows[(first, 1)].lag == 3  # type: ignore[attr-defined]
            # a topic deleted after the metadata was kept: no error, its rows go
            await delete_topic(second)
            deadline = time.monotonic() + 30
            while (second, 0) in rows and time.monotonic() < deadline:
                rows = _rows(await snapshot(conn, [group]))
                await asyncio.sleep(0.2)
            assert (second, 0) not in rows and (first, 1) in rows

    try:
        asyncio.run(scenario())
    finally:
        asyncio.run(cleanup([first, second], [group]))


def test_a_commit_below_the_log_start_keeps_the_metadata(unique: str) -> None:
    """A stopped group behind retention (DATA_LOSS) is a state, not stale metadata: the
    out-of-range answer of its time-lag fetch does not throw the kept metadata away."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    from mqctl.backends.kafka.lag import snapshot
    from mqctl.backends.kafka.topics import metadata_is_recent
    from mqctl.session import Session
    from tests.conftest import KAFKA

    topic, group = f"kept-{unique}-loss", f"kept-{unique}-loss-g"
    now = int(time.time() * 1000)
    stamps = [now - (100 - i) * 1000 for i in range(5)]

    async def scenario() -> None:
        await create_topic(topic, 1)
        await produce(topic, {0: stamps})
        await commit(group, topic, {0: 1})
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(3)})
        finally:
            await admin.close()
        async with Session(kafka_context()) as session:
            conn = session.backend("kafka").connection  # type: ignore[attr-defined]
            for _ in range(2):
                before = time.time() * 1000
                [row] = _rows(await snapshot(conn, [group])).values()
                assert row.status.value == "DATA_LOSS" and row.lag == 2  # type: ignore[attr-defined]
                age = row.time_lag_seconds  # type: ignore[attr-defined]
                assert (
                    (before - stamps[3]) / 1000 - 0.01
                    <= age
                    <= (time.time() * 1000 - stamps[3]) / 1000 + 0.01
                )
                assert metadata_is_recent(conn, 30)

    try:
        asyncio.run(scenario())
    finally:
        asyncio.run(cleanup([topic], [group]))
