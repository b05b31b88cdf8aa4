"""Pilot tests against the real brokers: the read-only admin views of the command palette
(Kafka cluster and broker configs, RabbitMQ policies, shovels, federation links, nodes,
connections)."""

from __future__ import annotations

import httpx
import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.admin_screen import AdminScreen
from mqctl_tui.widgets.common.live_table import LiveTable

from mqctl.config.schema import builtin_local_context
from tests.conftest import RABBIT_MGMT
from tests.tui.helpers import wait_for, wait_for_screen

pytestmark = [pytest.mark.kafka, pytest.mark.rabbitmq]
SIZE = (160, 50)


def table(app: MqctlApp) -> LiveTable:
    return app.screen.query_one("#admin-table", LiveTable)


async def open_view(app: MqctlApp, pilot: object, title: str) -> AdminScreen:
    entries = {name: callback for name, callback, _ in app.palette_commands()}
    entries[f"View {title}"]()
    screen = await wait_for_screen(pilot, AdminScreen, title)  # type: ignore[arg-type]
    assert isinstance(screen, AdminScreen)
    return screen


async def test_admin_views_from_the_palette(unique: str) -> None:
    vhost = f"tui-admin-{unique}"
    async with httpx.AsyncClient(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
        (await http.put(f"/vhosts/{vhost}", json={})).raise_for_status()
        (
            await http.put(
                f"/policies/{vhost}/cap-{unique}",
                json={"pattern": "^x", "definition": {"max-length": 5}, "apply-to": "queues"},
            )
        ).raise_for_status()
        try:
            app = MqctlApp(builtin_local_context())
            async with app.run_test(size=SIZE) as pilot:
                names = [name for name, _, _ in app.palette_commands()]
                for title in ("Kafka cluster", "RabbitMQ policies", "RabbitMQ nodes and alarms"):
                    assert f"View {title}" in names

                await open_view(app, pilot, "Kafka cluster")
                await wait_for(
                    pilot, lambda: "order.created" in table(app).shown_keys, "the topics"
                )
                assert table(app).cell_text("order.created", "partitions") == "6"
                await pilot.press("escape")

                await open_view(app, pilot, "RabbitMQ policies")
                key = f"{vhost}|False|cap-{unique}"
                await wait_for(pilot, lambda: key in table(app).shown_keys, "the policy")
                assert "max-length=5" in table(app).cell_text(key, "definition")
                await pilot.press("escape")

                await open_view(app, pilot, "RabbitMQ nodes and alarms")
                await wait_for(pilot, lambda: table(app).row_count >= 1, "a node")
                (node,) = table(app).shown_keys[:1]
                assert table(app).cell_text(node, "alarms") == "none"
                await pilot.press("escape")

                await open_view(app, pilot, "Kafka broker configs")
                await wait_for(
                    pilot, lambda: "log.retention.hours" in table(app).shown_keys, "the configs"
                )
                await pilot.press("escape")

                await open_view(app, pilot, "RabbitMQ federation links")
                await wait_for(pilot, lambda: "row" in table(app).status_text, "the listing")
                await pilot.press("escape")

                await open_view(app, pilot, "RabbitMQ shovels")
                await wait_for(pilot, lambda: "row" in table(app).status_text, "the listing")
                await pilot.press("escape")
                await open_view(app, pilot, "RabbitMQ connections")
                await wait_for(pilot, lambda: "row" in table(app).status_text, "the listing")
        finally:
            await http.delete(f"/vhosts/{vhost}")
