"""Redrive hygiene on both brokers: the copy carries no dead-letter headers (they move under
x-mqctl-redriven-*), so discovery never takes a source for a DLQ, and the loop guard still
works; --unwrap on RabbitMQ; a plan and a run fail a missing recorded source alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aio_pika
import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    RabbitDlq,
    _audit_log,  # noqa: F401  (an autouse fixture)
    _connect,
    dead_letter,
    depth,
    drain,
    forget_ledger,
    kafka_produce,
    kafka_read,
    publish_to_queue,
    rabbit_cleanup,
    rabbit_setup,
    spring_headers,
    wait_depth,
)


@pytest.fixture
def rabbit(unique: str) -> Iterator[RabbitDlq]:
    spec = asyncio.run(rabbit_setup(f"hyg-{unique}", quorum=False))
    try:
        yield spec
    finally:
        asyncio.run(rabbit_cleanup(spec, [f"hyg-{unique}.gone.dlq"]))


def redrive(name: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli("dlq", "redrive", name, *args, "-o", "json")
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


async def reject_all(queue: str) -> int:
    """Consume and reject (no requeue) every message: the broker dead-letters them again."""
    connection = await _connect()
    rejected = 0
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, passive=True)
        while (incoming := await q.get(no_ack=False, fail=False, timeout=5)) is not None:
            await incoming.reject(requeue=False)
            rejected += 1
    return rejected


@pytest.mark.rabbitmq
def test_rabbit_copy_carries_no_death_headers_and_the_guard_holds(rabbit: RabbitDlq) -> None:
    asyncio.run(dead_letter(rabbit, rejected=2, expired=0, maxlen=0, delivery_limit=0))
    code, summary = redrive(f"rabbitmq:{rabbit.dlq}", "--yes")
    assert code == 0 and summary["moved"] == 2
    copies = asyncio.run(drain(rabbit.work))
    assert len(copies) == 2
    for copy in copies:
        headers = copy.headers
        assert not any(
            h == "x-death" or h.startswith(("x-first-death", "x-last-death")) for h in headers
        )
        assert headers["x-mqctl-redriven-from"] == rabbit.dlq
        assert headers["x-mqctl-redriven-x-death"][0]["reason"] == "rejected"
        assert headers["x-mqctl-redrive-count"] == 1
    # The work queue is no DLQ for discovery.
    rows = json.loads(run_cli("dlq", "list", "-o", "json").stdout)
    assert rabbit.work not in {r["name"] for r in rows}
    # Dead-lettered again: the broker's reason is read, and the guard counts the redrive.
    asyncio.run(publish_to_queue(rabbit.work, [_copy(c) for c in copies]))
    assert asyncio.run(reject_all(rabbit.work)) == 2
    assert asyncio.run(wait_depth(rabbit.dlq, 2)) == 2
    code, guarded = redrive(f"rabbitmq:{rabbit.dlq}", "--max-redrives", "1", "--dry-run")
    assert code == 0 and guarded["skipped"] == {"loop-guard": 2} and guarded["moved"] == 0
    assert guarded["rows"][0]["reason"] == "rejected" and guarded["rows"][0]["loop_guard"] == 2


def _copy(incoming: aio_pika.IncomingMessage) -> aio_pika.Message:
    return aio_pika.Message(
        incoming.body, headers=dict(incoming.headers), message_id=incoming.message_id
    )


@pytest.mark.rabbitmq
def test_rabbit_unwrap_republishes_the_payload(rabbit: RabbitDlq) -> None:
    envelopes = [
        {"payload": {"orderId": "o-1"}, "error": "timeout", "retryCount": 3},
        {"payload": {"base64": "AP8="}, "error": "binary"},
        {"other": 1},
    ]
    messages = [
        aio_pika.Message(json.dumps(e).encode(), message_id=f"e{i}")
        for i, e in enumerate(envelopes)
    ]
    asyncio.run(publish_to_queue(rabbit.dlq, messages))
    assert asyncio.run(wait_depth(rabbit.dlq, 3)) == 3
    code, plan = redrive(
        f"rabbitmq:{rabbit.dlq}", "--to", rabbit.target, "--unwrap", "payload", "--dry-run"
    )
    assert code == 0 and plan["moved"] == 2 and plan["skipped"] == {"no-envelope-field": 1}
    code, run = redrive(
        f"rabbitmq:{rabbit.dlq}", "--to", rabbit.target, "--unwrap", "payload", "--yes"
    )
    assert code == 0 and run["moved"] == plan["moved"]
    copies = {m.message_id: m for m in asyncio.run(drain(rabbit.target))}
    assert copies["e0"].body == b'{"orderId":"o-1"}'
    assert copies["e0"].headers["x-mqctl-envelope-error"] == "timeout"
    assert copies["e0"].headers["x-mqctl-envelope-retryCount"] == "3"
    assert copies["e1"].body == b"\x00\xff"
    assert asyncio.run(depth(rabbit.dlq)) == 1  # the message without the field stays


@pytest.mark.rabbitmq
def test_rabbit_missing_recorded_source_fails_plan_and_run_alike(
    rabbit: RabbitDlq, unique: str
) -> None:
    dlq = f"hyg-{unique}.gone.dlq"  # by convention its source is hyg-….gone: absent

    async def declare() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(dlq, durable=True)

    asyncio.run(declare())
    asyncio.run(
        publish_to_queue(dlq, [aio_pika.Message(b"{}", message_id=f"g{i}") for i in range(3)])
    )
    assert asyncio.run(wait_depth(dlq, 3)) == 3
    code, plan = redrive(f"rabbitmq:{dlq}", "--dry-run")
    assert code == 5 and plan["failed"] == 3 and plan["moved"] == 0
    code, run = redrive(f"rabbitmq:{dlq}", "--yes")
    assert code == 5 and run["failed"] == plan["failed"] and run["moved"] == 0
    assert plan["errors"] == run["errors"]
    assert asyncio.run(wait_depth(dlq, 3)) == 3


@pytest.mark.kafka
def test_kafka_source_is_no_dlq_after_a_redrive(unique: str) -> None:
    source, dlq = f"hyg-{unique}", f"hyg-{unique}.DLT"
    asyncio.run(create_topics({source: 1, dlq: 1}))
    try:
        headers = spring_headers(source, 0, 7, "com.x.Boom", "boom")
        asyncio.run(kafka_produce(dlq, [(b"k", b"{}", headers, 0)]))
        code, summary = redrive(f"kafka:{dlq}", "--yes")
        assert code == 0 and summary["moved"] == 1
        copy = asyncio.run(kafka_read(source))[0]
        names = [name for name, _ in copy.headers]
        assert not any(n.startswith("kafka_dlt-") for n in names)
        assert dict(copy.headers)["x-mqctl-redriven-offset"] == b"0/0"
        rows = json.loads(run_cli("dlq", "list", "-o", "json").stdout)
        assert source not in {r["name"] for r in rows if r["backend"] == "kafka"}
    finally:
        asyncio.run(cleanup([source, dlq], []))
        asyncio.run(forget_ledger(dlq))
