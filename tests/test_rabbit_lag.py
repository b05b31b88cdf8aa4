"""Queue depth as lag: the rules on their own, then a snapshot of real queues."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mqctl.backends.rabbitmq.lag import drain_seconds, lag_entry, queue_status
from mqctl.config.schema import builtin_local_context
from mqctl.models.lag import LagEntry, LagStatus
from mqctl.session import Session
from tests.conftest import RABBIT_MGMT, mgmt_publish, run_cli

pytestmark = pytest.mark.rabbitmq


def test_drain_estimate() -> None:
    assert drain_seconds(0, 0, None, None) == 0.0
    assert drain_seconds(100, 0, 0.0, None) is None  # nobody consumes
    assert drain_seconds(100, 2, 0.0, 0.0) is None  # consumers idle
    assert drain_seconds(100, 2, 10.0, 10.0) is None  # not faster than publishers
    assert drain_seconds(100, 2, 20.0, 10.0) is None  # slower than publishers
    assert drain_seconds(100, 2, 5.0, 10.0) == 20.0  # ready / (consume - publish)
    assert drain_seconds(100, 2, None, 25.0) == 4.0


def test_status_rules() -> None:
    assert queue_status(5, 5, 0, None, "classic") is LagStatus.STOPPED
    assert queue_status(5, 5, 1, None, "quorum") is LagStatus.LAGGING
    assert queue_status(5, 5, 1, 2.0, "classic") is LagStatus.OK
    assert queue_status(0, 0, 0, 0.0, "classic") is LagStatus.OK
    assert queue_status(900, 900, 0, None, "stream") is LagStatus.OK  # streams keep messages


def _doc(**kw: Any) -> dict[str, Any]:
    base = {
        "name": "q",
        "vhost": "/",
        "type": "classic",
        "state": "running",
        "messages": 40,
        "messages_ready": 30,
        "messages_unacknowledged": 10,
        "consumers": 2,
        "message_stats": {
            "publish_details": {"rate": 2.0},
            "deliver_get_details": {"rate": 6.0},
            "ack_details": {"rate": 5.0},
            "deliver_no_ack_details": {"rate": 1.0},
        },
    }
    return {**base, **kw}


def test_lag_entry_from_listing_document() -> None:
    entry = lag_entry(_doc(head_message_timestamp=1), [])
    assert entry.kind == "queue" and entry.group == "q" and entry.backend == "rabbitmq"
    assert entry.total_lag == 30
    assert entry.status is LagStatus.OK
    assert entry.queue is not None
    assert entry.queue.drain_seconds == 7.5  # 30 ready / (5 ack + 1 no-ack deliver - 2 in)
    assert entry.queue.unacked == 10 and entry.queue.consumers == 2
    assert entry.queue.head_age_seconds is not None and entry.queue.head_age_seconds > 0
    assert entry.max_time_lag_seconds == entry.queue.head_age_seconds
    stream = lag_entry(
        _doc(type="stream"),
        [{"offset": 90, "offset_lag": 7, "connection_details": {"name": "c1"}}],
    )
    assert stream.total_lag == 7 and stream.partitions[0].owner == "c1"
    assert stream.partitions[0].end_offset == 97


@pytest.fixture
def lag_queues(unique: str) -> Iterator[dict[str, str]]:
    names = {
        "empty": f"mqctl-test-lag-empty-{unique}",
        "stopped": f"mqctl-test-lag-stopped-{unique}",
        "lagging": f"mqctl-test-lag-slow-{unique}",
    }
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
        for name in names.values():
            http.put(f"/queues/%2F/{name}", json={"durable": True}).raise_for_status()
        for name in (names["stopped"], names["lagging"]):
            for i in range(5):
                mgmt_publish(http, name, f"m{i}", properties={"timestamp": 1_700_000_000 + i})
        yield names
        for name in names.values():
            http.delete(f"/queues/%2F/{name}")


async def _snapshot(names: list[str]) -> list[LagEntry]:
    async with Session(builtin_local_context(), timeout=5) as session:
        backend: Any = session.backend("rabbitmq")
        entries: list[LagEntry] = await backend.lag(names)
        return entries


def test_queue_lag_snapshot(lag_queues: dict[str, str]) -> None:
    import aio_pika

    async def run() -> dict[str, LagEntry]:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=1)
            queue = await channel.declare_queue(lag_queues["lagging"], passive=True)

            async def hold(message: Any) -> None:
                return None  # never acks: one unacked, the rest stay ready

            await queue.consume(hold)
            by_name: dict[str, LagEntry] = {}
            # Depth and consumers reach the management API with its next stats emission.
            for _ in range(80):
                entries = await _snapshot(list(lag_queues.values()))
                by_name = {e.group: e for e in entries}
                slow = by_name.get(lag_queues["lagging"])
                stopped = by_name.get(lag_queues["stopped"])
                if (
                    slow is not None
                    and slow.queue is not None
                    and slow.queue.consumers == 1
                    and slow.queue.unacked == 1
                    and stopped is not None
                    and stopped.total_lag == 5
                ):
                    break
                await asyncio.sleep(0.25)
            return by_name

    entries = asyncio.run(run())
    assert set(entries) == set(lag_queues.values())
    empty = entries[lag_queues["empty"]]
    assert empty.status is LagStatus.OK and empty.total_lag == 0
    assert empty.queue is not None and empty.queue.drain_seconds == 0.0
    stopped = entries[lag_queues["stopped"]]
    assert stopped.status is LagStatus.STOPPED
    assert stopped.total_lag == 5 and stopped.kind == "queue"
    assert stopped.queue is not None and stopped.queue.drain_seconds is None
    assert stopped.queue.head_age_seconds is not None  # publishers set the timestamp
    slow = entries[lag_queues["lagging"]]
    assert slow.queue is not None and slow.queue.consumers == 1
    assert slow.queue.ready == 4 and slow.queue.unacked == 1
    assert slow.status is LagStatus.LAGGING  # a consumer that does not ack: never drains


def test_lag_unknown_queue_is_empty(unique: str) -> None:
    assert asyncio.run(_snapshot([f"mqctl-test-none-{unique}"])) == []


def test_lag_cli_includes_queues(lag_queues: dict[str, str]) -> None:
    result = run_cli("lag", f"rabbitmq:{lag_queues['empty']}", "-o", "json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry["kind"] == "queue" and entry["group"] == lag_queues["empty"]
    assert entry["queue"]["queue_type"] == "classic"
