"""Stream queues: per-consumer offset lag from the ``rabbitmq_stream_management`` plugin, with a
real stream-protocol consumer (rstream) that stops part-way through a stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mqctl.backends.rabbitmq.lag import lag_entry, stream_consumer_lag
from tests.conftest import RABBIT_MGMT, run_cli

pytestmark = pytest.mark.rabbitmq

STREAM_PORT = 5552
N = 30  # messages published, one chunk each
K = 12  # messages the consumer handles before it stalls


def test_stream_consumer_document_shape() -> None:
    # the shape RabbitMQ 3.10's /api/stream/consumers/{vhost} returns
    doc = {
        "connection_details": {
            "name": "127.0.0.1:45762 -> 127.0.0.1:5552",
            "node": "mqctl@localhost",
            "peer_host": "127.0.0.1",
            "peer_port": 45762,
            "user": "guest",
        },
        "consumed": 50,
        "credits": 0,
        "offset": 32,
        "offset_lag": 18,
        "properties": {"name": "billing"},
        "queue": {"name": "s", "vhost": "/"},
        "subscription_id": 0,
    }
    row = stream_consumer_lag("s", doc)
    assert row.owner == "billing"  # the consumer's name property wins over the connection
    assert row.committed_offset == 32 and row.end_offset == 50 and row.lag == 18
    anonymous = stream_consumer_lag("s", {**doc, "properties": {}})
    assert anonymous.owner == "127.0.0.1:45762 -> 127.0.0.1:5552"
    odd = stream_consumer_lag("s", {"offset": None, "offset_lag": -3})
    assert odd.lag == 0 and odd.committed_offset is None and odd.owner is None
    entry = lag_entry(
        {"name": "s", "vhost": "/", "type": "stream", "messages": 51, "consumers": 2},
        [doc, {**doc, "offset": 45, "offset_lag": 5, "properties": {}}],
    )
    assert entry.total_lag == 18 and len(entry.partitions) == 2


@pytest.fixture
def stream(unique: str) -> Iterator[str]:
    name = f"mqctl-test-stream-lag-{unique}"
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
        http.put(
            f"/queues/%2F/{name}",
            json={"durable": True, "arguments": {"x-queue-type": "stream"}},
        ).raise_for_status()
        try:
            yield name
        finally:
            http.delete(f"/queues/%2F/{name}")


def _plugin_enabled() -> bool:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
        return http.get("/stream/consumers/%2F").status_code == 200


def _stream_rows(stream: str) -> list[dict[str, Any]]:
    result = run_cli("lag", f"rabbitmq:{stream}", "-o", "json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry["kind"] == "queue" and entry["group"] == stream
    assert entry["queue"]["queue_type"] == "stream"
    rows: list[dict[str, Any]] = entry["partitions"]
    for row in rows:
        row["entry_total_lag"] = entry["total_lag"]
    return rows


def test_stream_consumer_offset_lag(stream: str, unique: str) -> None:
    if not _plugin_enabled():
        pytest.skip("rabbitmq_stream_management is not enabled (scripts/brokers.sh enables it)")
    rstream = pytest.importorskip("rstream")
    consumer_name = f"mqctl-test-lagger-{unique}"

    async def run() -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
        async with rstream.Producer(
            "127.0.0.1", STREAM_PORT, username="guest", password="guest"
        ) as producer:
            for i in range(N):  # one confirmed publish at a time: one chunk per message
                await producer.send_wait(stream, f"m{i}".encode())
        seen: list[int] = []
        reached = asyncio.Event()
        release = asyncio.Event()
        consumer = rstream.Consumer("127.0.0.1", STREAM_PORT, username="guest", password="guest")
        await consumer.start()
        try:

            async def handle(message: Any, ctx: Any) -> None:
                seen.append(ctx.offset)
                if ctx.offset == K - 1:
                    await ctx.consumer.store_offset(stream, consumer_name, K - 1)
                    reached.set()
                    await release.wait()  # stall: no more credit, no more chunks

            await consumer.subscribe(
                stream,
                handle,
                offset_specification=rstream.ConsumerOffsetSpecification(rstream.OffsetType.FIRST),
                subscriber_name=consumer_name,
                properties={"name": consumer_name},
                initial_credit=1,
            )
            await asyncio.wait_for(reached.wait(), 15)
            stored = await consumer.query_offset(stream, consumer_name)
            assert stored == K - 1 and seen == list(range(K))
            # consumer stats reach the management API with its next emission (~5 s)
            rows: list[dict[str, Any]] = []
            mine: dict[str, Any] = {}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rows = await asyncio.to_thread(_stream_rows, stream)
                mine = next((r for r in rows if r["owner"] == consumer_name), {})
                if mine and mine["committed_offset"] == K:
                    break
                await asyncio.sleep(0.5)
            async with httpx.AsyncClient(auth=("guest", "guest")) as http:
                broker = (await http.get(f"{RABBIT_MGMT}/api/stream/consumers/%2F")).json()
            raw = next(d for d in broker if d["queue"]["name"] == stream)
            return stored, rows, {"row": mine, "raw": raw}
        finally:
            release.set()
            await consumer.close()

    stored, rows, found = asyncio.run(run())
    mine, raw = found["row"], found["raw"]
    assert len(rows) == 1 and mine, rows
    # Independently: the stream holds offsets 0..N-1 plus, at offset N, the chunk that records
    # the stored offset; rstream grants one credit before it hands a chunk to the callback, so
    # the broker has sent chunks 0..K (read position K) while the callback stalls at K-1.
    end = N  # offset of the last committed chunk (the offset-tracking chunk)
    position = K
    assert stored == K - 1
    assert mine["committed_offset"] == position
    assert mine["end_offset"] == end
    assert mine["lag"] == end - position == N - K
    assert mine["entry_total_lag"] == N - K  # the stream's lag: its largest consumer lag
    assert raw["offset"] == position and raw["offset_lag"] == N - K  # what the broker said
