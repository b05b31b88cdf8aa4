"""The RabbitMQ redrive's bulk frame reader against RabbitMQ (mqctl/backends/rabbitmq/
redrive_reader.py): the redrive really reads its connections in bulk, a copy carries the
original's header bytes exactly (field types pamqp would re-encode differently included; the
dead-letter headers moved under ``x-mqctl-redriven-``), and without the bulk reader (an aiormq
it does not recognise) the redrive still moves everything through aiormq's reader.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from mqctl.backends.rabbitmq import aiormq_internals
from mqctl.backends.rabbitmq.redrive_reader import BulkReader, Delivery
from mqctl.backends.rabbitmq.redrive_wire import FrameEncoder
from tests.conftest import run_cli
from tests.test_dlq_rabbitmq_throughput import _consume_all, _delete
from tests.test_dlq_support import (  # noqa: F401  (_audit_log is an autouse fixture)
    AMQP_URL,
    _audit_log,
    _connect,
    wait_depth,
)

pytestmark = pytest.mark.rabbitmq


def _long(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


# Header values as they arrive from other clients, with field types pamqp would not pick
# when it encodes the decoded value again (a small 64-bit integer, a short-short, a float).
RAW_HEADERS = {
    "tenant": b"S" + _long(b"acme"),
    "small-long": b"l" + struct.pack(">q", 5),
    "short-short": b"b" + struct.pack(">b", -3),
    "short": b"s" + struct.pack(">h", 300),
    "float": b"f" + struct.pack(">f", 1.5),
    "double": b"d" + struct.pack(">d", 2.25),
    "decimal": b"D" + struct.pack(">Bi", 2, 12345),
    "flag": b"t\x01",
    "when": b"T" + struct.pack(">Q", 1_700_000_000),
    "bytes": b"x" + _long(b"\x00\xff"),
    "nothing": b"V",
    "list": b"A" + _long(b"l" + struct.pack(">q", 1) + b"S" + _long(b"two")),
    "nested": b"F" + _long(b"\x01kb" + struct.pack(">b", 7)),
    "x-first-death-queue": b"S" + _long(b"orders"),  # a dead-letter header: moved
}


def _properties(message_id: str) -> bytes:
    """Content type, headers, delivery mode 2, message id: flags and values by hand."""
    table = b"".join(bytes((len(k),)) + k.encode() + v for k, v in RAW_HEADERS.items())
    flags = (1 << 15) | (1 << 13) | (1 << 12) | (1 << 7)
    return (
        struct.pack(">H", flags)
        + b"\x10application/json"
        + _long(table)
        + b"\x02"
        + bytes((len(message_id),))
        + message_id.encode()
    )


async def _publish_raw(queue: str, count: int) -> None:
    import aiormq

    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=False)
        encoder = FrameEncoder(channel.number, channel.max_content_size)
        payload = b"".join(
            encoder.encode("", queue, json.dumps({"n": n}).encode(), _properties(f"m-{n:05d}"))
            for n in range(count)
        )
        await aiormq_internals.write_raw(channel, payload, lambda: False)
        await channel.queue_declare(queue, passive=True)  # after the publishes, in order
    finally:
        await connection.close()
    await wait_depth(queue, count, 30)


async def _read_raw(queue: str, count: int) -> list[Delivery]:
    """Every message of ``queue`` as the bulk reader decodes it (with each header's bytes)."""
    import aiormq

    got: list[Delivery] = []
    connection = await aiormq.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        bulk = aiormq_internals.read_in_bulk(
            connection,
            lambda read, touch: BulkReader(read, channel.number, on_delivery=got.append),
        )
        assert bulk is not None
        await channel.queue_declare(queue, passive=True)  # the reply aiormq waited for
        await channel.basic_consume(queue, lambda _m: asyncio.sleep(0), no_ack=True)
        for _ in range(300):
            if len(got) >= count:
                break
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    return got


@pytest.fixture
def queues(unique: str) -> Iterator[tuple[str, str]]:
    dlq, target = f"dlqb-{unique}.dlq", f"dlqb-{unique}"

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
        asyncio.run(_delete([dlq, target], []))


def _redrive(dlq: str, target: str) -> dict[str, Any]:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dlq}", "--to", target, "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_copies_keep_every_header_byte(
    queues: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dlq, target = queues
    count = 300
    readers: list[Any] = []
    original = aiormq_internals.read_in_bulk

    def spy(connection: Any, make: Any) -> Any:
        readers.append(original(connection, make))
        return readers[-1]

    monkeypatch.setattr(aiormq_internals, "read_in_bulk", spy)
    asyncio.run(_publish_raw(dlq, count))
    summary = _redrive(dlq, target)
    assert summary["moved"] == count and summary["failed"] == 0
    # Both connections were read in bulk: the deliveries and the confirms.
    assert len(readers) == 2 and all(r is not None and r.handled for r in readers)

    copies = asyncio.run(_read_raw(target, count))
    assert [c.properties["message_id"] for c in copies] == [f"m-{n:05d}" for n in range(count)]
    for copy in copies:
        raw = {key: value[1] for key, value in copy.raw_headers.items()}
        moved = raw.pop("x-mqctl-redriven-x-first-death-queue")
        assert moved == RAW_HEADERS["x-first-death-queue"]
        assert raw.pop("x-mqctl-redriven-from") == b"S" + _long(dlq.encode())
        assert copy.headers is not None and copy.headers["x-mqctl-redrive-count"] == 1
        raw.pop("x-mqctl-redrive-count")
        expected = {k: v for k, v in RAW_HEADERS.items() if k != "x-first-death-queue"}
        assert raw == expected  # every other header byte-identical, types included
        assert copy.headers["decimal"] == Decimal("123.45")
        assert copy.properties["content_type"] == "application/json"
        assert copy.properties["delivery_mode"] == 2
        assert json.loads(copy.body) == {"n": int(copy.properties["message_id"][2:])}


def test_without_the_bulk_reader_aiormq_reads_and_nothing_changes_in_outcome(
    queues: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dlq, target = queues
    count = 300
    monkeypatch.setattr(aiormq_internals, "read_in_bulk", lambda *_args: None)
    asyncio.run(_publish_raw(dlq, count))
    summary = _redrive(dlq, target)
    assert summary["moved"] == count and summary["failed"] == 0
    moved = asyncio.run(_consume_all(target))
    assert [m.message_id for m in moved] == [f"m-{n:05d}" for n in range(count)]
    for m in moved:
        assert m.headers["small-long"] == 5 and m.headers["tenant"] == "acme"
        assert m.headers["x-mqctl-redriven-x-first-death-queue"] == "orders"
