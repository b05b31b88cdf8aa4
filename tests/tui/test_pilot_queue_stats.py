"""The queues panel against the real RabbitMQ (issue 19): the first listing is the lean one
(depths only), so the panel fills fast; a queue's consumers show as not known ('?', never
the red "starving" style) until the full listing read after it lands, then the real count.

The full listing is held back by the test (a gate around the service function) so the
in-between state is seen for certain, not by luck of timing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.data import Kind
from mqctl_tui.widgets.dashboard.queues_panel import QueuesPanel

from mqctl.config.schema import builtin_local_context
from mqctl.services import inventory
from tests.conftest import RABBIT_MGMT, mgmt_publish
from tests.tui.helpers import DEADLINE, wait_for

pytestmark = [pytest.mark.rabbitmq]
AUTH = ("guest", "guest")


@pytest.fixture
def queues() -> Iterator[tuple[str, str]]:
    """(a queue for a consumer, a queue holding 2 messages nobody consumes)."""
    tag = uuid.uuid4().hex[:8]
    served, starving = f"mqctl-stats-{tag}-served", f"mqctl-stats-{tag}-starving"
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=AUTH, timeout=10) as http:
        try:
            for name in (served, starving):
                http.put(f"/queues/%2F/{name}", json={"durable": False}).raise_for_status()
            for _ in range(2):
                mgmt_publish(http, starving, "x")
            yield served, starving
        finally:
            for name in (served, starving):
                http.delete(f"/queues/%2F/{name}")


@pytest.fixture
async def consumer(queues: tuple[str, str]) -> AsyncIterator[None]:
    """One consumer on the served queue, until the broker's listing reports it."""
    import aio_pika

    async def ignore(message: Any) -> None:
        return None

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queues[0], passive=True)
        await queue.consume(ignore)
        async with httpx.AsyncClient(base_url=f"{RABBIT_MGMT}/api", auth=AUTH) as http:
            for _ in range(int(DEADLINE / 0.2)):
                doc = (await http.get(f"/queues/%2F/{queues[0]}")).json()
                ready = (await http.get(f"/queues/%2F/{queues[1]}")).json()
                if doc.get("consumers") == 1 and ready.get("messages_ready") == 2:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the broker never reported the consumer and depths")
        yield


async def test_consumers_unknown_until_the_stats_land(
    queues: tuple[str, str], consumer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, starving = (f"rabbitmq://{name}" for name in queues)  # rows: backend:vhost/name
    listings: list[bool] = []  # stats asked for, per listing
    gate = asyncio.Event()
    real_list = inventory.list_queues

    async def gated(session: Any, **kwargs: Any) -> Any:
        listings.append(kwargs.get("stats", True))
        if kwargs.get("stats", True):
            await gate.wait()
        return await real_list(session, **kwargs)

    monkeypatch.setattr(inventory, "list_queues", gated)
    app = MqctlApp(builtin_local_context(), refresh=3600)  # no timer refresh meanwhile
    async with app.run_test(size=(160, 50)) as pilot:
        panel = app.screen.query_one("#queues", QueuesPanel)
        await wait_for(pilot, lambda: {served, starving} <= panel.payload.keys(), "lean rows")
        assert listings[0] is False  # the first listing is the lean one
        assert app.latest[Kind.QUEUES].partial
        for key in (served, starving):
            assert panel.payload[key].consumers is None  # not known, not 0
            assert panel.cell_text(key, "consumers") == "?"
            assert panel.cell_text(key, "drain") == "?"  # no "never" either
            assert "red" not in panel.cell_at(key, "consumers").style
        assert panel.cell_text(starving, "ready") == "2"  # the depths are there at once
        assert "consumers and rates loading" in panel.status_text

        gate.set()
        await wait_for(pilot, lambda: panel.cell_text(served, "consumers") == "1", "stats")
        assert listings[:2] == [False, True]
        assert panel.payload[served].consumers == 1
        assert panel.cell_text(starving, "consumers") == "0"
        assert "red" in panel.cell_at(starving, "consumers").style  # now it is known
        assert not app.latest[Kind.QUEUES].partial
        await wait_for(pilot, lambda: "loading" not in panel.status_text, "status settled")
