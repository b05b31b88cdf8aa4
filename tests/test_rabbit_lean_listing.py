"""The lean queue listing (``stats=False``: depths without per-queue message stats) against
the real broker, the full listing beside it, and the TUI adapter's cadence of the two."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import QueueSummary
from mqctl.services import inventory
from mqctl.session import Session
from tests.conftest import RABBIT_MGMT

AUTH = ("guest", "guest")


@pytest.fixture(scope="module")
def queues() -> Iterator[dict[str, int]]:
    """Three queues of our own in vhost '/' holding 0, 2 and 5 messages."""
    tag = uuid.uuid4().hex[:8]
    depths = {f"mqctl-lean-{tag}-{i}": n for i, n in enumerate((0, 2, 5))}
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=10) as http:
        try:
            for name, count in depths.items():
                http.put(f"/queues/%2F/{name}", json={"durable": False}).raise_for_status()
                for _ in range(count):
                    http.post(
                        "/exchanges/%2F/amq.default/publish",
                        json={
                            "properties": {},
                            "routing_key": name,
                            "payload": "x",
                            "payload_encoding": "string",
                        },
                    ).raise_for_status()
            yield depths
        finally:
            for name in depths:
                http.delete(f"/queues/%2F/{name}")


async def _listing(**kwargs: Any) -> dict[str, QueueSummary]:
    async with Session(builtin_local_context(), timeout=10) as session:
        rows = await inventory.list_queues(session, vhost="/", **kwargs)
    return {q.name: q for q in rows}


async def _settled(depths: dict[str, int], **kwargs: Any) -> dict[str, QueueSummary]:
    """The listing once the broker reports our depths (its totals lag a publish briefly)."""
    for _ in range(50):
        rows = await _listing(**kwargs)
        if all(n in rows and rows[n].messages == d for n, d in depths.items()):
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"depths never settled: { {n: rows.get(n) for n in depths} }")


@pytest.mark.rabbitmq
async def test_lean_listing_has_depths_and_no_rates(queues: dict[str, int]) -> None:
    rows = await _settled(queues, stats=False)
    for name, depth in queues.items():
        q = rows[name]
        assert (q.messages, q.ready, q.unacked, q.consumers) == (depth, depth, 0, 0)
        assert (q.publish_rate, q.deliver_rate, q.ack_rate) == (None, None, None)
        assert (q.vhost, q.type, q.backend, q.durable) == ("/", "classic", "rabbitmq", False)


@pytest.mark.rabbitmq
async def test_full_listing_unchanged(queues: dict[str, int]) -> None:
    full = await _settled(queues)
    default = await _settled(queues, stats=True)
    lean = await _settled(queues, stats=False)
    for name, depth in queues.items():
        assert full[name].messages == depth == default[name].messages
        # Apart from the rates, lean and full rows agree.
        keep = ("vhost", "name", "type", "durable", "state", "messages", "ready", "unacked")
        assert [getattr(lean[name], k) for k in keep] == [getattr(full[name], k) for k in keep]


# -- the TUI adapter: lean listings with many queues, a full one every FULL_STATS_EVERY-th


def _row(i: int, rate: float | None, consumers: int = 0) -> QueueSummary:
    return QueueSummary(
        vhost="/", name=f"q{i}", type="classic", durable=True, state="running", messages=i,
        ready=i, unacked=0, consumers=consumers, publish_rate=rate, deliver_rate=rate,
        ack_rate=rate,
        policy=None, dead_letter_exchange=None, dead_letter_routing_key=None, backend="rabbitmq",
    )  # fmt: skip


@pytest.mark.parametrize("count", [5, 1500])
async def test_tui_cadence(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from mqctl_tui import services as tui_services

    calls: list[bool] = []

    async def fake(session: Session, *, all_vhosts: bool, stats: bool = True) -> list[Any]:
        calls.append(stats)
        if stats:
            return [_row(i, 1.5, consumers=2) for i in range(count)]
        return [_row(i, None) for i in range(count)]

    monkeypatch.setattr(inventory, "list_queues", fake)
    svc = tui_services.Services(builtin_local_context())
    try:
        seen = [await svc.list_queues() for _ in range(2 * tui_services.FULL_STATS_EVERY + 1)]
    finally:
        await svc.close()
    every = tui_services.FULL_STATS_EVERY
    if count <= tui_services.LEAN_QUEUES_ABOVE:
        assert all(calls)
    else:
        assert calls == [i % every == 0 for i in range(2 * every + 1)]
    # Between full listings, every row shows the rates and consumers of the last full one.
    assert all(q.publish_rate == q.ack_rate == 1.5 for rows in seen for q in rows)
    assert all(q.consumers == 2 for rows in seen for q in rows)
    assert all(len(rows) == count for rows in seen)
