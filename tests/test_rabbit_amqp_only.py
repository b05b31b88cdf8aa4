"""`publish` and `peek` over AMQP alone (issue 17): a context whose management URL is a
closed port. Management-only steps degrade with a one-line note; quorum queues are refused
by peek (their delivery limit cannot be read) without losing anything.
Real shared RabbitMQ; unique queues, removed at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


async def _amqp(action: Any) -> Any:
    import aio_pika

    async with await aio_pika.connect(AMQP, timeout=10) as connection:
        return await action(await connection.channel())


def _declare(name: str, queue_type: str) -> None:
    async def act(channel: Any) -> None:
        args = {"x-queue-type": queue_type}
        if queue_type == "quorum":
            args["x-delivery-limit"] = 2
        await channel.declare_queue(name, durable=True, arguments=args)

    asyncio.run(_amqp(act))


def _depth(name: str) -> int:
    async def act(channel: Any) -> int:
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)

    return int(asyncio.run(_amqp(act)))


@pytest.fixture
def amqp_only(isolated_config: Path, closed_port: int) -> Path:
    isolated_config.write_text(
        'current-context = "amqp"\n[contexts.amqp.rabbitmq]\n'
        f'url = "{AMQP}"\nmanagement-url = "http://127.0.0.1:{closed_port}"\n'
    )
    return isolated_config


@pytest.fixture
def names(unique: str) -> Iterator[dict[str, str]]:
    made = {kind: f"faults-amqp-{kind}-{unique}" for kind in ("classic", "quorum", "stream")}
    for kind, name in made.items():
        _declare(name, kind)
    yield made

    async def drop(channel: Any) -> None:
        for name in made.values():
            await channel.queue_delete(name)

    asyncio.run(_amqp(drop))


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note: ")]


def test_publish_and_peek_classic_without_management(
    amqp_only: Path, names: dict[str, str]
) -> None:
    queue = names["classic"]
    result = run_cli("--timeout", "3", "publish", f"rabbitmq:{queue}", "hello", "--count", "2")
    assert result.exit_code == 0, result.output
    assert _depth(queue) == 2
    assert any("management API" in n for n in _notes(result.stderr)), result.stderr
    result = run_cli("--timeout", "3", "peek", f"rabbitmq:{queue}", "-o", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["value"] for line in result.stdout.splitlines()] == ["hello"] * 2
    assert _depth(queue) == 2  # nothing removed


def test_peek_stream_without_management(amqp_only: Path, names: dict[str, str]) -> None:
    stream = names["stream"]
    assert run_cli("--timeout", "3", "publish", f"rabbitmq:{stream}", "s").exit_code == 0
    result = run_cli("--timeout", "3", "peek", f"rabbitmq:{stream}", "-o", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["value"] for line in result.stdout.splitlines()] == ["s"]


def test_peek_quorum_without_management_is_refused(amqp_only: Path, names: dict[str, str]) -> None:
    queue = names["quorum"]
    assert run_cli("--timeout", "3", "publish", f"rabbitmq:{queue}", "q").exit_code == 0
    result = run_cli("--timeout", "3", "peek", f"rabbitmq:{queue}", "--allow-requeue")
    assert result.exit_code == 2, result.output
    assert "delivery limit cannot be read without the management API" in result.stderr
    assert not result.stdout
    assert _depth(queue) == 1


def test_missing_queue_without_management_is_4(amqp_only: Path, unique: str) -> None:
    result = run_cli("--timeout", "3", "publish", f"rabbitmq:faults-none-{unique}", "x")
    assert result.exit_code == 4, result.output
