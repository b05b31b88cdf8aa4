"""Helpers for the DLQ tests (no tests here): RabbitMQ set-ups with real broker
dead-lettering and Kafka topics with Spring/Connect-style dead-letter headers.

Everything is created under unique names and deleted afterwards; the seeded scenario is
never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import KAFKA

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(autouse=True)
def _audit_log(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Keep audit records of test runs out of the user's state directory."""
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("MQCTL_AUDIT_LOG", str(path))
    return path


# ------------------------------------------------------------------------------ RabbitMQ


@dataclass
class RabbitDlq:
    """A DLX exchange, a DLQ bound to it, and work queues that dead-letter into it."""

    prefix: str
    dlx: str
    dlq: str
    work: str  # classic, dead-letters to dlx
    small: str  # classic x-max-length 1: overflow dead-letters (maxlen)
    quorum: str  # quorum x-delivery-limit 1 (delivery_limit)
    target: str  # a plain queue for --to
    queues: list[str] = field(default_factory=list)


async def _connect() -> Any:
    import aio_pika

    return await aio_pika.connect(AMQP_URL, timeout=10)


async def rabbit_setup(prefix: str, *, quorum: bool = True) -> RabbitDlq:
    import aio_pika

    spec = RabbitDlq(
        prefix=prefix,
        dlx=f"{prefix}.dlx",
        dlq=f"{prefix}.work.dlq",
        work=f"{prefix}.work",
        small=f"{prefix}.small",
        quorum=f"{prefix}.quorum",
        target=f"{prefix}.target",
    )
    connection = await _connect()
    async with connection:
        channel = await connection.channel()
        dlx = await channel.declare_exchange(spec.dlx, aio_pika.ExchangeType.DIRECT)
        dlq = await channel.declare_queue(spec.dlq, durable=True)
        await dlq.bind(dlx, routing_key="dead")
        dead = {"x-dead-letter-exchange": spec.dlx, "x-dead-letter-routing-key": "dead"}
        await channel.declare_queue(spec.work, durable=True, arguments=dead)
        await channel.declare_queue(spec.small, durable=True, arguments={**dead, "x-max-length": 1})
        if quorum:
            await channel.declare_queue(
                spec.quorum,
                durable=True,
                arguments={**dead, "x-queue-type": "quorum", "x-delivery-limit": 1},
            )
        await channel.declare_queue(spec.target, durable=True)
    spec.queues = [spec.dlq, spec.work, spec.small, spec.target] + ([spec.quorum] if quorum else [])
    return spec


async def rabbit_cleanup(spec: RabbitDlq, extra: Iterable[str] = ()) -> None:
    connection = await _connect()
    async with connection:
        for name in [*spec.queues, *extra]:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
        channel = await connection.channel()
        with contextlib.suppress(Exception):
            await channel.exchange_delete(spec.dlx)


def amqp_message(n: int, **headers: Any) -> Any:
    import aio_pika

    return aio_pika.Message(
        json.dumps({"n": n, "orderId": f"ord-{n}"}).encode(),
        message_id=f"m-{n:05d}",
        correlation_id=f"c-{n}",
        content_type="application/json",
        headers={"tenant": "acme", **headers},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def publish_to_queue(queue: str, messages: Iterable[Any]) -> None:
    connection = await _connect()
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        batch = list(messages)
        for start in range(0, len(batch), 500):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(m, routing_key=queue)
                    for m in batch[start : start + 500]
                )
            )


async def publish_in_order(queue: str, messages: Iterable[Any], seconds: float = 60) -> None:
    """Publish strictly in order (one at a time on a channel without confirms: concurrent
    confirmed publishes may reach the broker out of order on a loaded machine), then wait
    until the queue holds them all."""
    connection = await _connect()
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        before = await depth(queue)
        sent = 0
        for message in messages:
            await channel.default_exchange.publish(message, routing_key=queue)
            sent += 1
    await wait_depth(queue, before + sent, seconds)


async def depth(queue: str) -> int:
    connection = await _connect()
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def wait_depth(queue: str, want: int, seconds: float = 10.0) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    current = await depth(queue)
    while current != want and loop.time() < deadline:
        await asyncio.sleep(0.1)
        current = await depth(queue)
    return current


async def dead_letter(
    spec: RabbitDlq, *, rejected: int, expired: int, maxlen: int, delivery_limit: int
) -> None:
    """Make the broker itself dead-letter messages for each reason."""
    n = 0
    # rejected: fetched and rejected without requeue
    await publish_to_queue(spec.work, [amqp_message(n + i) for i in range(rejected)])
    n += rejected
    connection = await _connect()
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(spec.work, passive=True)
        for _ in range(rejected):
            incoming = await queue.get(no_ack=False, timeout=5)
            await incoming.reject(requeue=False)
    # expired: a 1 ms per-message TTL on a queue nobody reads
    expiring = []
    for i in range(expired):
        message = amqp_message(n + i)
        message.expiration = 0.001
        expiring.append(message)
    await publish_to_queue(spec.work, expiring)
    n += expired
    # maxlen: x-max-length 1 drops (dead-letters) the head when more arrive
    await publish_to_queue(spec.small, [amqp_message(n + i) for i in range(maxlen + 1)])
    n += maxlen + 1
    # delivery_limit: returned to a quorum queue until the limit is exceeded
    if delivery_limit:
        await publish_to_queue(spec.quorum, [amqp_message(n + i) for i in range(delivery_limit)])
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(spec.quorum, passive=True)
            for _ in range(delivery_limit * 3):
                incoming = await queue.get(no_ack=False, fail=False, timeout=5)
                if incoming is None:
                    break
                await incoming.nack(requeue=True)
    want = rejected + expired + maxlen + delivery_limit
    # Expired messages are dead-lettered when they reach the head: poke the queue.
    await wait_depth(spec.dlq, want)


async def drain(queue: str) -> list[Any]:
    """Consume (and ack) everything in ``queue``; returns the aio-pika messages."""
    found = []
    connection = await _connect()
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        while True:
            incoming = await q.get(no_ack=True, fail=False, timeout=5)
            if incoming is None:
                break
            found.append(incoming)
    return found


# --------------------------------------------------------------------------------- Kafka


def spring_headers(
    topic: str, partition: int, offset: int, cause: str, text: str
) -> list[tuple[str, bytes]]:
    return [
        ("kafka_dlt-original-topic", topic.encode()),
        ("kafka_dlt-original-partition", struct.pack(">i", partition)),
        ("kafka_dlt-original-offset", struct.pack(">q", offset)),
        ("kafka_dlt-original-timestamp", struct.pack(">q", 1_718_100_000_000)),
        ("kafka_dlt-original-timestamp-type", b"CreateTime"),
        ("kafka_dlt-original-consumer-group", b"billing-service"),
        (
            "kafka_dlt-exception-fqcn",
            b"org.springframework.kafka.listener.ListenerExecutionFailedException",
        ),
        ("kafka_dlt-exception-cause-fqcn", cause.encode()),
        ("kafka_dlt-exception-message", f"Listener failed; {cause}: {text}".encode()),
        ("kafka_dlt-exception-stacktrace", f"{cause}: {text}\n\tat com.example.Billing".encode()),
    ]


def connect_headers(
    topic: str, partition: int, offset: int, exc: str, text: str
) -> list[tuple[str, bytes]]:
    return [
        ("__connect.errors.topic", topic.encode()),
        ("__connect.errors.partition", str(partition).encode()),
        ("__connect.errors.offset", str(offset).encode()),
        ("__connect.errors.connector.name", b"warehouse-sink"),
        ("__connect.errors.task.id", b"0"),
        ("__connect.errors.stage", b"VALUE_CONVERTER"),
        ("__connect.errors.class.name", b"org.apache.kafka.connect.json.JsonConverter"),
        ("__connect.errors.exception.class.name", exc.encode()),
        ("__connect.errors.exception.message", text.encode()),
    ]


async def kafka_produce(
    topic: str, records: Iterable[tuple[bytes | None, bytes, list[tuple[str, bytes]], int | None]]
) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers, partition=partition)
            for key, value, headers, partition in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _partitions(consumer: Any, topic: str) -> list[int]:
    for _ in range(50):
        metadata = await consumer._client.fetch_all_metadata()
        found = sorted(metadata.partitions_for_topic(topic) or ())
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def kafka_read(topic: str) -> list[Any]:
    """Every record of ``topic`` (no group, nothing committed)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await _partitions(consumer, topic)
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, starts[tp])
        records: list[Any] = []
        pending = {tp for tp in tps if ends[tp] > starts[tp]}
        deadline = asyncio.get_running_loop().time() + 20
        while pending and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return records
    finally:
        await consumer.stop()


async def committed(group: str, topic: str) -> dict[int, int | None]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await _partitions(consumer, topic)
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in parts}
    finally:
        await consumer.stop()


async def forget_ledger(*dlqs: str) -> None:
    """Tombstone a test DLQ's records in the redrive ledger (compaction removes them)."""
    from aiokafka import AIOKafkaProducer

    from mqctl.backends.kafka.redrive_ledger import LEDGER_TOPIC

    entries = await ledger_entries(*dlqs)
    if not entries:
        return
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, _, partition in entries:
            await producer.send_and_wait(LEDGER_TOPIC, key=key, value=None, partition=partition)
    finally:
        await producer.stop()


async def ledger_entries(*dlqs: str) -> list[tuple[bytes, Any, int]]:
    """(key, decoded value or None, ledger partition) of the DLQs' ledger records."""
    from mqctl.backends.kafka.redrive_ledger import LEDGER_TOPIC

    prefixes = tuple(f"{d}/".encode() for d in dlqs)
    return [
        (r.key, None if r.value is None else json.loads(r.value), r.partition)
        for r in await kafka_read(LEDGER_TOPIC)
        if r.key is not None and r.key.startswith(prefixes)
    ]
