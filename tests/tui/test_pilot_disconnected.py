"""Broker unreachable: panels say "disconnected, retrying" and recover, never a crash.

The shared brokers are never stopped: the test contexts point at a closed loopback port.
Recovery is shown two ways: switching back to the working context from the picker, and the
address becoming reachable (a loopback forwarder to the real management API starts on the
closed port) while the app keeps retrying.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.data import DISCONNECTED
from mqctl_tui.screens.context_screen import ContextPicker
from mqctl_tui.widgets.common.data_panel import DataPanel

from mqctl.config import load_config
from tests.tui.helpers import context_config, wait_for, wait_for_screen

SIZE = (160, 50)


def panel(app: MqctlApp, name: str) -> DataPanel:
    return app.screen.query_one(f"#{name}", DataPanel)


@pytest.mark.kafka
@pytest.mark.rabbitmq
async def test_disconnected_then_switch_back(isolated_config: Path, closed_port: int) -> None:
    context_config(
        isolated_config,
        f"""
[contexts.down]
timeout = 2
[contexts.down.kafka]
bootstrap-servers = "127.0.0.1:{closed_port}"
[contexts.down.rabbitmq]
url = "amqp://guest@127.0.0.1:{closed_port}/"
management-url = "http://127.0.0.1:{closed_port}"
password = "guest"
""",
    )
    config = load_config()
    app = MqctlApp(config.contexts["down"], config=config)
    async with app.run_test(size=SIZE) as pilot:
        for name in ("topics", "queues", "groups", "dlq"):
            await wait_for(
                pilot,
                lambda n=name: DISCONNECTED in panel(app, n).status_text,  # type: ignore[misc]
                f"{name} says disconnected",
            )
        assert app.screen.query_one("ContextHeader")  # still running, no crash
        await pilot.press("c")
        picker = await wait_for_screen(pilot, ContextPicker, "context picker")
        assert isinstance(picker, ContextPicker)
        option_list = picker.query_one("OptionList")
        option_list.highlighted = sorted(picker.contexts).index("local")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.context.name == "local", "switched")
        topics = panel(app, "topics")
        await wait_for(pilot, lambda: "kafka:order.created" in topics.payload, "topics recover")
        assert DISCONNECTED not in topics.status_text
        queues = panel(app, "queues")
        await wait_for(pilot, lambda: queues.total_count > 0, "queues recover")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@pytest.mark.rabbitmq
async def test_recovers_when_the_broker_becomes_reachable(
    isolated_config: Path, closed_port: int
) -> None:
    context_config(
        isolated_config,
        f"""
[contexts.flaky]
timeout = 2
[contexts.flaky.rabbitmq]
url = "amqp://guest@127.0.0.1:{closed_port}/"
management-url = "http://127.0.0.1:{closed_port}"
password = "guest"
""",
    )
    config = load_config()
    app = MqctlApp(config.contexts["flaky"], config=config, refresh=1.0)
    async with app.run_test(size=SIZE) as pilot:
        queues = panel(app, "queues")
        await wait_for(pilot, lambda: DISCONNECTED in queues.status_text, "disconnected")

        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 15672)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

        server = await asyncio.start_server(forward, "127.0.0.1", closed_port)
        try:
            # no key press: the auto-refresh retries by itself
            await wait_for(pilot, lambda: queues.total_count > 0, "queues recover by themselves")
            assert DISCONNECTED not in queues.status_text
        finally:
            server.close()
