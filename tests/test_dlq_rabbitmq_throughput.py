"""The pipelined RabbitMQ redrive at volume: order, no loss, no duplicates on a clean run.

The redrive publishes a sliding window of messages with confirms and acks the DLQ with
``multiple`` acks (single acks once a message of the run is held), matching returns to
publishes by message id, exchange and routing key. These tests check the outcome only
(never timings).
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_dlq_support import (  # noqa: F401  (_audit_log is an autouse fixture)
    _audit_log,
    _connect,
    amqp_message,
    depth,
    publish_in_order,
    publish_to_queue,
)

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def queues(unique: str) -> Iterator[tuple[str, str]]:
    dlq, target = f"dlqt-{unique}.tp.dlq", f"dlqt-{unique}.tp"

    async def declare() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            for name in (dlq, target):
                await channel.declare_queue(name, durable=True)

    asyncio.run(declare())
    try:
        yield dlq, target
    finally:
        asyncio.run(_delete([dlq, target], [f"dlqt-{unique}.tp.in", f"dlqt-{unique}.tp.out"]))


async def _delete(names: list[str], exchanges: list[str]) -> None:
    connection = await _connect()
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                await channel.queue_delete(name)
            except Exception:  # already gone
                continue
        for name in exchanges:
            channel = await connection.channel()
            try:
                await channel.exchange_delete(name)
            except Exception:  # never declared
                continue


async def _consume_all(queue: str) -> list[Any]:
    """Every message in ``queue``, in queue order, removed (auto-ack, large prefetch)."""
    connection = await _connect()
    found: list[Any] = []
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=2000)
        q = await channel.declare_queue(queue, passive=True)
        want = int(q.declaration_result.message_count or 0)
        if not want:
            return found
        async with q.iterator(no_ack=True) as messages:
            while len(found) < want:
                try:
                    message = await asyncio.wait_for(messages.__anext__(), 10)
                except TimeoutError:
                    break
                found.append(message)
    return found


def _redrive(dlq: str, *args: str) -> dict[str, Any]:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dlq}", *args, "--yes", "-o", "json")
    assert result.exit_code in (0, 5), result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_20000_messages_moved_in_order_none_lost_none_duplicated(
    queues: tuple[str, str],
) -> None:
    dlq, target = queues
    count = 20_000
    # In order: the assertion below compares the target's order with the DLQ's.
    asyncio.run(publish_in_order(dlq, (amqp_message(n) for n in range(count))))
    assert asyncio.run(depth(dlq)) == count
    summary = _redrive(dlq, "--to", target)
    assert summary["moved"] == count and summary["failed"] == 0
    assert summary["examined"] == count and summary["skipped"] == {}
    assert asyncio.run(depth(dlq)) == 0
    moved = asyncio.run(_consume_all(target))
    ids = [m.message_id for m in moved]
    assert ids == [f"m-{n:05d}" for n in range(count)]  # every one, once, in DLQ order
    first, last = moved[0], moved[-1]
    for m in (first, last):
        assert m.headers["x-mqctl-redrive-count"] == 1 and m.headers["tenant"] == "acme"
        assert m.correlation_id == f"c-{int(m.message_id[2:])}"
        assert m.content_type == "application/json" and m.delivery_mode == 2
        assert json.loads(m.body)["orderId"] == f"ord-{int(m.message_id[2:])}"


def test_held_messages_in_between_keep_order_and_stay(queues: tuple[str, str]) -> None:
    """Loop-guarded messages every 7th: the moved ones arrive in order exactly once and the
    held ones stay in the DLQ, in order (single acks after the first hold)."""
    dlq, target = queues
    count = 5_000
    guarded = {n for n in range(count) if n % 7 == 3}
    messages = (
        amqp_message(n, **({"x-mqctl-redrive-count": 3} if n in guarded else {}))
        for n in range(count)
    )
    asyncio.run(publish_to_queue(dlq, messages))
    summary = _redrive(dlq, "--to", target)
    assert summary["moved"] == count - len(guarded)
    assert summary["skipped"] == {"loop-guard": len(guarded)} and summary["failed"] == 0
    moved = [m.message_id for m in asyncio.run(_consume_all(target))]
    assert moved == [f"m-{n:05d}" for n in range(count) if n not in guarded]
    left = [m.message_id for m in asyncio.run(_consume_all(dlq))]
    assert left == [f"m-{n:05d}" for n in sorted(guarded)]


def test_unroutable_copies_at_volume_stay_in_the_dlq(queues: tuple[str, str], unique: str) -> None:
    """Half the messages have a routing key nothing is bound to: mandatory brings them back
    and they stay in the DLQ; the others move. Nothing lost, nothing duplicated."""
    import aio_pika

    dlq, target = queues
    inbound, outbound = f"dlqt-{unique}.tp.in", f"dlqt-{unique}.tp.out"
    count = 3_000

    async def setup() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            ex_in = await channel.declare_exchange(inbound, aio_pika.ExchangeType.DIRECT)
            ex_out = await channel.declare_exchange(outbound, aio_pika.ExchangeType.DIRECT)
            q_dlq = await channel.get_queue(dlq)
            await q_dlq.bind(ex_in, "a")
            await q_dlq.bind(ex_in, "b")
            q_target = await channel.get_queue(target)
            await q_target.bind(ex_out, "a")
            for start in range(0, count, 500):
                await asyncio.gather(
                    *(
                        ex_in.publish(amqp_message(n), routing_key="ab"[n % 2])
                        for n in range(start, min(start + 500, count))
                    )
                )

    asyncio.run(setup())
    assert asyncio.run(depth(dlq)) == count
    summary = _redrive(dlq, "--to", f"exchange:{outbound}")
    assert summary["moved"] == count // 2 and summary["failed"] == count // 2
    assert "unroutable" in summary["errors"][0]
    moved = [m.message_id for m in asyncio.run(_consume_all(target))]
    assert moved == [f"m-{n:05d}" for n in range(0, count, 2)]
    left = sorted(m.message_id for m in asyncio.run(_consume_all(dlq)))
    assert left == [f"m-{n:05d}" for n in range(1, count, 2)]


def test_property_encoding_matches_pamqp() -> None:
    """The hand-rolled content header is byte for byte what pamqp would send."""
    from pamqp import frame
    from pamqp.header import ContentHeader

    from mqctl.backends.rabbitmq.redrive_wire import (
        FrameEncoder,
        amqp_properties,
        encode_properties,
    )

    cases: list[tuple[dict[str, Any], list[tuple[str, Any]]]] = [
        (
            {
                "message_id": "m-1",
                "delivery_mode": 2,
                "content_type": "application/json",
                "content_encoding": "gzip",
                "correlation_id": "c",
                "reply_to": "r",
                "timestamp": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
                "priority": 0,
                "type": "t",
                "app_id": "a",
            },
            [("a", 1), ("b", "x"), ("l", [1, "z"]), ("d", {"k": "v"}), ("big", 2**40)],
        ),
        ({}, [("x-mqctl-redrive-count", 1)]),
        ({"message_id": "", "priority": 9}, []),
        ({"message_id": "é" * 10, "timestamp": datetime.datetime(2024, 1, 2)}, [("f", 1.5)]),
    ]
    publisher = FrameEncoder(3, 10)
    body = b"0123456789abcdefghijklmnop"  # three body frames of at most 10 bytes
    for properties, headers in cases:
        encoded = encode_properties(properties, headers)
        expected = amqp_properties(properties, headers)
        assert encoded == expected.marshal()
        wire = publisher.encode("", "q", body, encoded)
        head = publisher.method("", "q") + frame.marshal(ContentHeader(0, len(body), expected), 3)
        assert wire.startswith(head)
        rest, chunks = wire[len(head) :], []
        while rest:
            used, channel, content = frame.unmarshal(rest)
            assert channel == 3
            chunks.append(content.value)
            rest = rest[used:]
        assert b"".join(chunks) == body and len(chunks) == 3
