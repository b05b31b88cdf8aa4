"""Pilot tests against the real brokers: browse (peek) the seeded topic, publish to a topic
this test creates (and deletes)."""

from __future__ import annotations

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.messages_screen import MessagesScreen
from mqctl_tui.screens.publish_screen import PublishScreen
from mqctl_tui.widgets.actions.body_editor import BodyEditor
from mqctl_tui.widgets.common.live_table import LiveTable
from mqctl_tui.widgets.messages.message_view import MessageView

from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import Destination
from mqctl.services import topics as topic_service
from mqctl.session import Session
from tests.tui.helpers import wait_for, wait_for_screen

SIZE = (160, 50)


@pytest.mark.kafka
async def test_browse_order_created() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        app.browse(Destination("kafka", "topic", "order.created"))
        await wait_for_screen(pilot, MessagesScreen, "browser")
        screen = app.screen
        assert isinstance(screen, MessagesScreen)
        await wait_for(pilot, lambda: screen.done, "peek to finish")
        listing = screen.query_one("#list", LiveTable)
        assert 0 < listing.total_count <= 50
        view = screen.query_one(MessageView)
        await wait_for(pilot, lambda: view.message is not None, "first message shown")
        await pilot.press("v")
        assert view.view == "text"
        await pilot.press("v")
        assert view.view == "hex"

        # start position + max: the last 2 of each partition
        screen.query_one("#start").value = "last 2"  # type: ignore[attr-defined]
        screen.query_one("#max").value = "5"  # type: ignore[attr-defined]
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.done and listing.total_count > 0, "second peek")
        assert listing.total_count <= 5


@pytest.mark.kafka
async def test_publish_to_own_topic(unique: str) -> None:
    topic = f"tui-publish-{unique}"
    context = builtin_local_context()
    async with Session(context) as session:
        await topic_service.create_topic(session, f"kafka:{topic}", partitions=1)
    try:
        app = MqctlApp(context)
        async with app.run_test(size=SIZE) as pilot:
            app.publish_to(Destination("kafka", "topic", topic))
            await wait_for_screen(pilot, PublishScreen, "form")
            screen = app.screen
            assert isinstance(screen, PublishScreen)
            editor = screen.query_one(BodyEditor)
            editor.text = '{"broken": '
            await pilot.press("ctrl+s")
            await pilot.pause(0.1)
            assert screen.worker is None  # invalid JSON is refused before anything is sent
            editor.text = '{"n": "{{seq}}"}'
            screen.query_one("#key").value = "k1"  # type: ignore[attr-defined]
            screen.query_one("#count").value = "3"  # type: ignore[attr-defined]
            screen.query_one("#headers").value = "origin=tui"  # type: ignore[attr-defined]
            screen.query_one("#template").value = True  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.finished, "publish to finish")
            assert (screen.sent, screen.failed) == (3, 0)
            await pilot.press("escape")

            app.browse(Destination("kafka", "topic", topic))
            await wait_for_screen(pilot, MessagesScreen, "browser")
            browser = app.screen
            assert isinstance(browser, MessagesScreen)
            await wait_for(pilot, lambda: browser.done, "peek")
            values = sorted((m.value or b"") for m in browser.messages.values())
            assert values == [b'{"n": "1"}', b'{"n": "2"}', b'{"n": "3"}']
            assert all(m.key == b"k1" for m in browser.messages.values())
    finally:
        async with Session(context) as session:
            await topic_service.delete_topics(session, [f"kafka:{topic}"])
