"""Pilot tests against the real local brokers: dashboard, filter/sort, drill-down, help,
palette, read-only. The seeded order scenario is only read."""

from __future__ import annotations

import dataclasses

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.group_screen import GroupScreen
from mqctl_tui.screens.help_screen import HelpScreen
from mqctl_tui.screens.queue_screen import QueueScreen
from mqctl_tui.screens.topic_screen import TopicScreen
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import LiveTable

from mqctl.config.schema import builtin_local_context
from tests.tui.helpers import wait_for, wait_for_screen

pytestmark = [pytest.mark.kafka, pytest.mark.rabbitmq]
SIZE = (160, 50)


def panel(app: MqctlApp, name: str) -> DataPanel:
    return app.screen.query_one(f"#{name}", DataPanel)


async def test_dashboard_shows_the_seeded_scenario() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: "kafka:order.created" in panel(app, "topics").payload, "topics"
        )
        await wait_for(
            pilot,
            lambda: "rabbitmq://notifications_queue" in panel(app, "queues").payload,
            "queues",
        )
        await wait_for(
            pilot, lambda: "kafka|group||inventory-group" in panel(app, "groups").payload, "groups"
        )
        dlq = panel(app, "dlq")
        await wait_for(pilot, lambda: "kafka:order.created.dlq" in dlq.payload, "DLQ topic")
        assert "rabbitmq://notifications_queue.dlq" in dlq.payload
        groups = panel(app, "groups")
        assert groups.cell_text("kafka|group||inventory-group", "status") in {
            "OK",
            "LAGGING",
            "STOPPED",
            "WARN",
            "STALL",
            "STOP",
            "REWIND",
            "ERROR",
        }
        assert "disconnected" not in panel(app, "topics").status_text

        # refresh in place: the same rows stay, a second refresh adds to the trend history
        before = len(app.lag_history.group("kafka|group||inventory-group"))
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: len(app.lag_history.group("kafka|group||inventory-group")) > before,
            "a second lag refresh",
        )


async def test_filter_as_you_type_and_sort() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        topics = panel(app, "topics")
        await wait_for(pilot, lambda: "kafka:order.created" in topics.payload, "topics")
        await pilot.press("3", "slash", *"order.created")
        await wait_for(pilot, lambda: topics.row_count >= 2, "filtered rows")
        assert all("order.created" in key for key in topics.shown_keys)
        assert topics.row_count < topics.total_count or topics.total_count == topics.row_count
        await pilot.press("escape")  # clears the filter
        assert topics.row_count == topics.total_count
        # sort: by messages, descending
        topics.sort_on("messages")
        topics.sort_on("messages", toggle=True)
        counts = [topics.payload[k].messages for k in topics.shown_keys]
        assert counts == sorted(counts, reverse=True)


async def test_drill_down_topic_queue_and_group() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        topics = panel(app, "topics")
        await wait_for(pilot, lambda: "kafka:order.created" in topics.payload, "topics")
        await pilot.press("3", "slash", *"order.created", "enter")
        topics.table.move_cursor(row=topics.shown_keys.index("kafka:order.created"))
        await pilot.press("enter")
        await wait_for_screen(pilot, TopicScreen, "topic screen")
        partitions = app.screen.query_one("#partitions", LiveTable)
        await wait_for(pilot, lambda: partitions.total_count == 6, "6 partitions of order.created")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TopicScreen), "back")

        app.open_queue("notifications_queue", "/")
        await wait_for_screen(pilot, QueueScreen, "queue screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded, "queue details")
        await pilot.press("escape")

        groups = panel(app, "groups")
        await wait_for(pilot, lambda: "kafka|group||inventory-group" in groups.payload, "groups")
        app.open_group("kafka|group||inventory-group")
        await wait_for_screen(pilot, GroupScreen, "group screen")
        group_screen = app.screen
        lag_table = group_screen.query_one("#partitions", LiveTable)
        await wait_for(pilot, lambda: lag_table.total_count == 6, "per-partition lag rows")
        await wait_for(pilot, lambda: group_screen.loaded, "group members")
        assert lag_table.cell_text("order.created/0", "topic") == "order.created"


async def test_help_palette_and_read_only_context() -> None:
    context = dataclasses.replace(builtin_local_context(), name="local-ro", read_only=True)
    app = MqctlApp(context)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: "kafka:order.created" in panel(app, "topics").payload, "topics"
        )
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        # read-only: write actions are hidden (bindings and palette) and refused
        assert app.screen.check_action("publish", ()) is False
        assert app.screen.check_action("reset_offsets", ()) is False
        names = [name for name, _, _ in app.palette_commands()]
        assert "Refresh now" in names and "Switch context" in names
        assert any(n.startswith("Browse order.created") for n in names)
        assert not any(n.startswith(("Publish to", "Reset offsets")) for n in names)
        app.publish_to(panel(app, "topics").destination("kafka:order.created"))  # type: ignore[arg-type]
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "DashboardScreen"

        await pilot.press("space")
        assert app.paused
        await pilot.press("space")
        assert not app.paused
