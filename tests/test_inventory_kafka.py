"""`mqctl topics list|describe` against the real local Kafka."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import KAFKA, run_cli


async def _independent_counts(topic: str) -> dict[int, tuple[int, int]]:
    """Start/end offsets per partition, asked through aiokafka's own consumer API."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.subscribe([topic])  # no group: only makes the consumer fetch its metadata
        await consumer._client.force_metadata_update()
        ids = consumer._client.cluster.partitions_for_topic(topic) or ()
        consumer.unsubscribe()
        parts = [TopicPartition(topic, p) for p in ids]
        assert parts
        start = await consumer.beginning_offsets(parts)
        end = await consumer.end_offsets(parts)
        return {tp.partition: (start[tp], end[tp]) for tp in parts}
    finally:
        # aiokafka: stop() right after start() can re-raise the cancellation of a task
        # that never ran; give it one loop turn first.
        await asyncio.sleep(0.01)
        await consumer.stop()


@pytest.fixture(scope="module")
def topic() -> str:
    """A topic of our own with known contents: 3 partitions, 7+5+0 records."""
    import uuid

    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    name = f"test.inventory.{uuid.uuid4().hex[:8]}"

    async def make() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(name, 3, 1, topic_configs={"retention.ms": "3600000"})]
            )
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
        await producer.start()
        try:
            for i in range(7):
                await producer.send_and_wait(name, b"a%d" % i, partition=0)
            for i in range(5):
                await producer.send_and_wait(name, b"b%d" % i, partition=1)
        finally:
            await producer.stop()

    asyncio.run(make())
    yield name

    async def drop() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_topics([name])
        finally:
            await admin.close()

    asyncio.run(drop())


def test_topics_list_counts_match_offsets(topic: str) -> None:
    result = run_cli("topics", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows[topic] == {
        "name": topic,
        "partitions": 3,
        "replication_factor": 1,
        "messages": 12,
        "internal": False,
        "backend": "kafka",
    }
    assert not any(name.startswith("__") for name in rows)
    counts = asyncio.run(_independent_counts("order.created"))
    assert rows["order.created"]["partitions"] == 6
    assert rows["order.created"]["messages"] == sum(e - s for s, e in counts.values())


def test_topics_list_internal_and_formats(topic: str) -> None:
    internal = json.loads(run_cli("topics", "list", "--internal", "-o", "json").stdout)
    assert any(r["name"] == "__consumer_offsets" and r["internal"] for r in internal)
    jsonl = run_cli("topics", "list", "-o", "jsonl").stdout.splitlines()
    assert all(json.loads(line)["name"] for line in jsonl)
    yaml_out = run_cli("topics", "list", "-o", "yaml").stdout
    assert f"name: {topic}" in yaml_out
    table = run_cli("topics", "list").stdout
    assert table.splitlines()[0].split()[:4] == ["TOPIC", "PARTITIONS", "RF", "MESSAGES"]
    assert "\x1b[" not in table  # not a TTY: no colour codes


def test_topics_describe(topic: str) -> None:
    result = run_cli("topics", "describe", topic, "-o", "json")
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["messages"] == 12
    parts = {p["partition"]: p for p in detail["partitions"]}
    assert parts[0]["end_offset"] == 7 and parts[1]["end_offset"] == 5
    assert parts[2]["end_offset"] == 0
    assert all(
        p["leader"] == 1 and p["replicas"] == [1] and p["isr"] == [1] for p in parts.values()
    )
    configs = {c["name"]: c for c in detail["configs"]}
    assert configs["retention.ms"]["value"] == "3600000"
    assert configs["retention.ms"]["is_default"] is False
    assert configs["cleanup.policy"]["is_default"] is True
    table = run_cli("topics", "describe", f"kafka:{topic}")
    assert table.exit_code == 0
    assert "retention.ms" in table.stdout


def test_unknown_topic_is_exit_4() -> None:
    result = run_cli("topics", "describe", "no.such.topic.anywhere")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: topic 'no.such.topic.anywhere' not found")


def test_unreachable_kafka_is_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'[contexts.down.kafka]\nbootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    result = run_cli("-c", "down", "--timeout", "3", "topics", "list")
    assert result.exit_code == 3
    assert (
        result.stderr.splitlines()[0]
        == f"error: cannot connect to Kafka at 127.0.0.1:{closed_port} (connection refused)"
    )
    assert "Traceback" not in result.output
    debug = run_cli("-c", "down", "--timeout", "3", "--debug", "topics", "list")
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr


def test_context_without_kafka_says_so(isolated_config: Path) -> None:
    isolated_config.write_text('[contexts.r.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n')
    result = run_cli("-c", "r", "topics", "list")
    assert result.exit_code == 2
    assert "has no broker that supports it" in result.stderr
