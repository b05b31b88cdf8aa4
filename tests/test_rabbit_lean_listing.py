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
from mqctl.models.inventory import QueuePage, QueueSummary
from mqctl.services import inventory
from mqctl.session import Session
from tests.conftest import RABBIT_MGMT, mgmt_publish

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
                    mgmt_publish(http, name, "x")
            yield depths
        finally:
            for name in depths:
                http.delete(f"/queues/%2F/{name}")


async def _listing(**kwargs: Any) -> dict[str, QueueSummary]:
    async with Session(builtin_local_context(), timeout=10) as session:
        rows = await inventory.list_queues(session, vhost="/", **kwargs)
    return {q.name: q for q in rows}


async def _settled(depths: dict[str, int], **kwargs: Any) -> dict[str, QueueSummary]:
    """The listing once the broker reports our depths (its totals lag a publish briefly) and
    states (the stats-backed listing says 'unknown' until a new queue's first stats)."""
    for _ in range(50):
        rows = await _listing(**kwargs)
        if all(
            n in rows and rows[n].messages == d and rows[n].state != "unknown"
            for n, d in depths.items()
        ):
            return rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"depths never settled: { {n: rows.get(n) for n in depths} }")


@pytest.mark.rabbitmq
async def test_lean_listing_has_depths_and_no_rates(queues: dict[str, int]) -> None:
    rows = await _settled(queues, stats=False)
    for name, depth in queues.items():
        q = rows[name]
        # The lean listing has no consumer count: not known (None), never 0.
        assert (q.messages, q.ready, q.unacked, q.consumers) == (depth, depth, 0, None)
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


@pytest.fixture
def paged_vhost(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """A vhost of our own with five queues, listed two per page."""
    from mqctl.backends.rabbitmq import inventory as rabbit_inventory

    monkeypatch.setattr(rabbit_inventory, "PAGE_SIZE", 2)
    vhost = f"mqctl-pages-{uuid.uuid4().hex[:8]}"
    names = [f"q{i}" for i in range(5)]
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=10) as http:
        http.put(f"/vhosts/{vhost}").raise_for_status()
        try:
            http.put(
                f"/permissions/{vhost}/guest",
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
            for name in names:
                http.put(f"/queues/{vhost}/{name}", json={"durable": False}).raise_for_status()
            yield vhost, names
        finally:
            http.delete(f"/vhosts/{vhost}")


@pytest.mark.rabbitmq
async def test_queue_pages_cover_the_listing(paged_vhost: tuple[str, list[str]]) -> None:
    vhost, names = paged_vhost
    async with Session(builtin_local_context(), timeout=10) as session:
        assert inventory.has_queue_pages(session)
        pages = [await inventory.list_queue_page(session, n, vhost=vhost) for n in (1, 2, 3)]
        past_the_end = await inventory.list_queue_page(session, 7, vhost=vhost)
    assert [(p.page, p.page_count, len(p.queues)) for p in pages] == [
        (1, 3, 2),
        (2, 3, 2),
        (3, 3, 1),
    ]
    assert [q.name for p in pages for q in p.queues] == names  # stable order, no gaps
    assert all(q.vhost == vhost and q.backend == "rabbitmq" for p in pages for q in p.queues)
    # Rows with stats: what the lean listing lacks (a consumer count, rate fields present).
    assert all(q.consumers == 0 for p in pages for q in p.queues)
    # A page past the end (the listing shrank since the caller counted) answers page 1.
    assert (past_the_end.page, [q.name for q in past_the_end.queues]) == (1, names[:2])


# -- the TUI adapter: the first listing is lean and the full one (stats) is read right
# after it; then with many queues, every refresh lists all depths (lean); after each lean
# listing the next STATS_PAGES pages with stats are read in the background, and the next
# refresh puts their rates on its rows


def _row(i: int, rate: float | None, consumers: int | None = 0) -> QueueSummary:
    return QueueSummary(
        vhost="/", name=f"q{i}", type="classic", durable=True, state="running", messages=i,
        ready=i, unacked=0, consumers=consumers, publish_rate=rate, deliver_rate=rate,
        ack_rate=rate,
        policy=None, dead_letter_exchange=None, dead_letter_routing_key=None, backend="rabbitmq",
    )  # fmt: skip


@pytest.mark.parametrize("count", [5, 1500])
async def test_tui_cadence(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter's bookkeeping over a stand-in listing (the real pages are tested above)."""
    from mqctl_tui import queue_listing
    from mqctl_tui import services as tui_services

    page_size = 400
    page_count = -(-count // page_size)
    listings: list[bool] = []
    pages_asked: list[int] = []
    refresh = [0]  # rates grow with each refresh, so a row shows which refresh it came from

    async def fake_list(session: Session, *, all_vhosts: bool, stats: bool = True) -> list[Any]:
        listings.append(stats)
        if stats:
            return [_row(i, 0.0, consumers=2) for i in range(count)]
        return [_row(i, None, consumers=None) for i in range(count)]

    async def fake_page(session: Session, page: int, *, all_vhosts: bool) -> QueuePage:
        pages_asked.append(page)
        page = page if page <= page_count else 1
        rows = range((page - 1) * page_size, min(count, page * page_size))
        return QueuePage([_row(i, float(refresh[0]), consumers=3) for i in rows], page, page_count)

    monkeypatch.setattr(inventory, "list_queues", fake_list)
    monkeypatch.setattr(inventory, "list_queue_page", fake_page)
    monkeypatch.setattr(queue_listing, "STATS_PAGES", 2)
    svc = tui_services.Services(builtin_local_context())
    seen = []
    try:
        # The first listing: lean (consumers not known), the full one read after it.
        first = await svc.list_queues()
        assert all(q.consumers is None and q.publish_rate is None for q in first)
        assert listings == [False]
        more = svc.queue_stats()
        assert more is not None
        completed = await more
        assert completed is not None and listings == [False, True]
        assert [q.messages for q in completed] == [q.messages for q in first]
        assert all(q.consumers == 2 and q.publish_rate == 0.0 for q in completed)
        for refresh[0] in range(1, 7):
            seen.append(await svc.list_queues())
            assert svc.queue_stats() is None  # every row has its stats: nothing to wait for
            for _ in range(5):  # the pause between two refreshes: the pages are read
                await asyncio.sleep(0)
    finally:
        await svc.close()
    assert all(len(rows) == count for rows in seen)
    assert all(q.messages == int(q.name[1:]) for rows in seen for q in rows)  # depths: always
    if count <= queue_listing.LEAN_QUEUES_ABOVE:
        assert listings == [False] + [True] * 7 and pages_asked == []  # then full listings
        assert all(q.consumers == 2 for rows in seen for q in rows)
        return
    # Then lean listings, each followed by reading pages 1+2, 3+4, 1+2, ... (their rates
    # tell after which refresh they were read).
    assert listings == [False, True] + [False] * 6
    assert pages_asked == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]
    assert all(q.consumers == 2 and q.publish_rate == 0.0 for q in seen[0])  # the full read
    # Refresh 3 shows pages 3+4 (queues 800-1499) read after refresh 2, and pages 1+2 read
    # after refresh 1 (kept from refresh 2).
    assert {q.publish_rate for q in seen[2][:800]} == {1.0}
    assert {q.publish_rate for q in seen[2][800:]} == {2.0}
    assert all(q.consumers == 3 for q in seen[2])


async def test_tui_first_stats_superseded_or_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full listing that comes before the first stats landed supersedes them (None: no
    older depths delivered after newer ones); stats that fail raise, and are read again."""
    from mqctl_tui import services as tui_services

    gate = asyncio.Event()
    fail = [False]

    async def fake_list(session: Session, *, all_vhosts: bool, stats: bool = True) -> list[Any]:
        if stats:
            await gate.wait()
            if fail[0]:
                raise RuntimeError("stats broke")
            return [_row(i, 1.0, consumers=1) for i in range(3)]
        return [_row(i, None, consumers=None) for i in range(3)]

    monkeypatch.setattr(inventory, "list_queues", fake_list)
    svc = tui_services.Services(builtin_local_context())
    try:
        await svc.list_queues()
        more = svc.queue_stats()
        assert more is not None
        waiting = asyncio.ensure_future(more)
        # Small broker: the next refresh is the full listing, which supersedes the reading.
        listing = asyncio.ensure_future(svc.list_queues())
        assert await waiting is None
        gate.set()
        rows = await listing
        assert all(q.consumers == 1 for q in rows) and svc.queue_stats() is None
    finally:
        await svc.close()

    gate.clear()
    fail[0] = True
    svc = tui_services.Services(builtin_local_context())
    try:
        await svc.list_queues()
        more = svc.queue_stats()
        assert more is not None
        waiting = asyncio.ensure_future(more)
        gate.set()
        with pytest.raises(RuntimeError, match="stats broke"):
            await waiting
    finally:
        await svc.close()
