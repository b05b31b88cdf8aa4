"""Forms that do what they show (issue 18), against the real brokers: the publish form's
template follows the body and says its state; a large count streams with progress and
cancels; the offsets screen's keys work from any focus (a dry-run plan only)."""

from __future__ import annotations

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.offsets_screen import OffsetsScreen
from mqctl_tui.screens.publish_screen import PublishScreen
from mqctl_tui.widgets.actions.body_editor import BodyEditor
from mqctl_tui.widgets.common.live_table import LiveTable
from textual.widgets import Checkbox, Input

from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import Destination
from mqctl.services import topics as topic_service
from mqctl.session import Session
from tests.tui.helpers import wait_for, wait_for_screen

SIZE = (160, 50)


@pytest.mark.kafka
async def test_template_follows_the_body_and_a_big_count_streams_and_cancels(
    unique: str,
) -> None:
    topic = f"tui-forms-{unique}"
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
            box = screen.query_one("#template", Checkbox)
            # the pre-filled body has placeholders: the template is on, and says so
            assert box.value is True and str(box.label) == "template: on"
            editor = screen.query_one(BodyEditor)
            editor.text = "plain body"
            await wait_for(pilot, lambda: box.value is False, "template off without {{…}}")
            assert str(box.label) == "template: off"
            editor.text = "tui-{{seq}}"
            await wait_for(pilot, lambda: box.value is True, "template back on")

            # 2,000,000 at 400/s: streamed (never a list), progress moves, escape cancels
            screen.query_one("#count", Input).value = "2000000"
            screen.query_one("#rate", Input).value = "400"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.sent >= 50, "some messages confirmed")
            await pilot.press("escape")
            worker = screen.worker
            assert worker is not None
            await wait_for(pilot, lambda: not worker.is_running, "the publish to stop")
            assert 50 <= screen.sent < 2_000_000 and not screen.finished
            status = str(screen.query_one("#publish-status").render())
            assert "cancelled" in status
    finally:
        async with Session(context) as session:
            await topic_service.delete_topics(session, [f"kafka:{topic}"])


@pytest.mark.kafka
async def test_offsets_keys_work_from_the_form_inputs() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        app.reset_offsets("analytics-group")  # (inactive: its plan can be computed)
        await wait_for_screen(pilot, OffsetsScreen, "offsets screen")
        screen = app.screen
        assert isinstance(screen, OffsetsScreen)
        topics = screen.query_one("#topics", Input)
        topics.value = "order.created"
        topics.focus()
        await pilot.pause()
        keys = {key for key in app.active_bindings}
        assert {"ctrl+d", "ctrl+a"} <= keys  # in the footer while an input has the focus
        await pilot.press("ctrl+d")
        plan = screen.query_one("#plan", LiveTable)
        await wait_for(pilot, lambda: plan.total_count == 6, "the dry-run plan")
        assert topics.value == "order.created"  # ctrl+d did not delete in the input
        assert app.focused is plan.table  # the plan has the focus, no tabbing needed
