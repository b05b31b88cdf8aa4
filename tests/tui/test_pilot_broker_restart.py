"""A real broker stopped under the running dashboard, then started again.

The shared brokers are never stopped: this uses the separate secure RabbitMQ node of
scripts/secure-brokers.sh (AMQPS + HTTPS management, a non-admin user), which the failure
tests already restart. The dashboard must say "disconnected, retrying" while the node is
down, keep its last rows, and recover by itself (no key press) when the node is back.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.data import DISCONNECTED
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.header.context_header import DISCONNECTED_LABEL, ContextHeader

from mqctl.config import load_config
from tests.test_failures_restart import CONTEXT, Rabbit, ensure_rabbit_up, secure_rabbit
from tests.test_failures_restart import creds as creds  # a fixture
from tests.test_failures_restart import rabbit as rabbit  # a fixture
from tests.tui.helpers import wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="test brokers are Linux-only")

SIZE = (160, 50)


def _queues(app: MqctlApp) -> DataPanel:
    return app.screen.query_one("#queues", DataPanel)


def _listed(panel: DataPanel, queue: str) -> bool:
    return any(q.name == queue for q in panel.payload.values())


def _header(app: MqctlApp) -> str:
    return app.screen.query_one(ContextHeader).text


async def test_dashboard_through_a_broker_restart(
    rabbit: Rabbit, unique: str, isolated_config: Path
) -> None:
    queue = f"tui-restart-{unique}"
    await asyncio.to_thread(rabbit.declare, queue)  # Rabbit's helpers run their own loop
    try:
        config = load_config()
        context = config.contexts[CONTEXT]
        app = MqctlApp(context, config=config, refresh=1.0, timeout=3)
        async with app.run_test(size=SIZE) as pilot:
            queues = _queues(app)
            await wait_for(pilot, lambda: _listed(queues, queue), "our queue listed")

            # Stopping takes seconds: run the script off the event loop, the app keeps going.
            stopped = await asyncio.to_thread(secure_rabbit, "down")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            await wait_for(pilot, lambda: DISCONNECTED in queues.status_text, "disconnected")
            await wait_for(pilot, lambda: DISCONNECTED_LABEL in _header(app), "header says so")
            assert _listed(queues, queue)  # the last data stays on screen
            assert app.is_running

            await asyncio.to_thread(ensure_rabbit_up)
            await wait_for(
                pilot,
                lambda: DISCONNECTED not in queues.status_text and _listed(queues, queue),
                "queues recover by themselves",
            )
            await wait_for(pilot, lambda: DISCONNECTED_LABEL not in _header(app), "header recovers")
    finally:
        await asyncio.to_thread(ensure_rabbit_up)
        await asyncio.to_thread(rabbit.delete, queue)
