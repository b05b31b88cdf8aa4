"""The RabbitMQ redrive without the aiormq seam: when the installed aiormq has no frame
handlers to take over (mqctl/backends/rabbitmq/aiormq_internals.py), the redrive publishes and
acks through aiormq's public API. Slower, same outcome: order kept, nothing lost or duplicated,
unroutable copies stay in the DLQ."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from mqctl.backends.rabbitmq import aiormq_internals
from tests.conftest import run_cli
from tests.test_dlq_rabbitmq_throughput import _consume_all, _delete
from tests.test_dlq_support import (  # noqa: F401  (_audit_log is an autouse fixture)
    _audit_log,
    _connect,
    amqp_message,
    depth,
    publish_to_queue,
)

pytestmark = pytest.mark.rabbitmq


@pytest.fixture(autouse=True)
def public_api_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the frames must not be taken over")

    monkeypatch.setattr(aiormq_internals, "can_take_over_frames", lambda *_args: False)
    monkeypatch.setattr(aiormq_internals, "take_over_frames", refuse)


@pytest.fixture
def queues(unique: str) -> Iterator[tuple[str, str, str]]:
    dlq, target, exchange = f"dlqf-{unique}.dlq", f"dlqf-{unique}", f"dlqf-{unique}.x"

    async def declare() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            for name in (dlq, target):
                await channel.declare_queue(name, durable=True)
            await channel.declare_exchange(exchange, "fanout")

    asyncio.run(declare())
    try:
        yield dlq, target, exchange
    finally:
        asyncio.run(_delete([dlq, target], [exchange]))


def _redrive(dlq: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dlq}", *args, "--yes", "-o", "json")
    assert result.exit_code in (0, 5), result.output
    return result.exit_code, json.loads(result.stdout)


def test_public_api_redrive_moves_in_order(queues: tuple[str, str, str]) -> None:
    dlq, target, _ = queues
    count = 600
    asyncio.run(publish_to_queue(dlq, (amqp_message(n) for n in range(count))))
    code, summary = _redrive(dlq, "--to", target)
    assert code == 0 and summary["moved"] == count and summary["failed"] == 0
    assert asyncio.run(depth(dlq)) == 0
    moved = asyncio.run(_consume_all(target))
    assert [m.message_id for m in moved] == [f"m-{n:05d}" for n in range(count)]
    assert all(m.headers["tenant"] == "acme" for m in moved)


def test_public_api_redrive_keeps_unroutable_copies_in_the_dlq(
    queues: tuple[str, str, str],
) -> None:
    dlq, target, exchange = queues
    asyncio.run(publish_to_queue(dlq, (amqp_message(n) for n in range(10))))
    code, summary = _redrive(dlq, "--to", f"exchange:{exchange}")  # no queue bound
    assert code == 5 and summary["moved"] == 0 and summary["failed"] == 10
    assert asyncio.run(depth(dlq)) == 10

    async def bind() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(target, passive=True)
            await queue.bind(exchange)

    asyncio.run(bind())
    code, summary = _redrive(dlq, "--to", f"exchange:{exchange}")
    assert code == 0 and summary["moved"] == 10
    assert asyncio.run(depth(dlq)) == 0
    assert sorted(m.message_id for m in asyncio.run(_consume_all(target))) == [
        f"m-{n:05d}" for n in range(10)
    ]
