"""Pilot test against the real brokers: a write in a protected context asks for the context
name; a wrong name writes nothing, the exact name lets the publish go through (to a topic
this test creates and deletes)."""

from __future__ import annotations

import dataclasses

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.messages_screen import MessagesScreen
from mqctl_tui.screens.protected_screen import ProtectedWriteScreen
from mqctl_tui.screens.publish_screen import PublishScreen
from mqctl_tui.widgets.actions.body_editor import BodyEditor

from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import Destination
from mqctl.services import topics as topic_service
from mqctl.session import Session
from tests.tui.helpers import wait_for, wait_for_screen

SIZE = (160, 50)


@pytest.mark.kafka
async def test_protected_publish_needs_the_context_name(unique: str) -> None:
    topic = f"tui-protected-{unique}"
    local = builtin_local_context()
    context = dataclasses.replace(local, name=f"prod-{unique}", protected=True)
    async with Session(local) as session:
        await topic_service.create_topic(session, f"kafka:{topic}", partitions=1)
    try:
        app = MqctlApp(context)
        async with app.run_test(size=SIZE) as pilot:
            app.publish_to(Destination("kafka", "topic", topic))
            form = await wait_for_screen(pilot, PublishScreen, "form")
            assert isinstance(form, PublishScreen)
            form.query_one(BodyEditor).text = '{"n": 1}'

            # a wrong name: refused, nothing is sent and the session stays unapproved
            await pilot.press("ctrl+s")
            modal = await wait_for_screen(pilot, ProtectedWriteScreen, "name prompt")
            assert isinstance(modal, ProtectedWriteScreen)
            modal.query_one("#protected-name").value = "prod"  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for_screen(pilot, PublishScreen, "back to the form")
            assert form.worker is None and form.sent == 0
            assert not app.services.session.writes_approved

            # the exact name: the publish goes through
            await pilot.press("ctrl+s")
            modal = await wait_for_screen(pilot, ProtectedWriteScreen, "name prompt again")
            modal.query_one("#protected-name").value = context.name  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(pilot, lambda: form.finished, "publish to finish")
            assert (form.sent, form.failed) == (1, 0)
            assert app.services.session.writes_approved
            await pilot.press("escape")

            app.browse(Destination("kafka", "topic", topic))
            browser = await wait_for_screen(pilot, MessagesScreen, "browser")
            assert isinstance(browser, MessagesScreen)
            await wait_for(pilot, lambda: browser.done, "peek")
            assert [m.value for m in browser.messages.values()] == [b'{"n": 1}']
    finally:
        async with Session(local) as session:
            await topic_service.delete_topics(session, [f"kafka:{topic}"])
