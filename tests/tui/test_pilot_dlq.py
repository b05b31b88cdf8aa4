"""Pilot test against the real Kafka: DLQ inspect and redrive with confirm, on a DLQ set up
by this test (never the seeded one)."""

from __future__ import annotations

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.screens.dlq_screen import DlqScreen
from mqctl_tui.widgets.common.live_table import LiveTable

from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions
from mqctl.services import messages as message_service
from mqctl.services import topics as topic_service
from mqctl.session import Session
from tests.kafka_helpers import delete_groups
from tests.tui.helpers import wait_for, wait_for_screen

SIZE = (160, 50)


@pytest.mark.kafka
async def test_dlq_inspect_and_redrive_with_confirm(unique: str) -> None:
    source = f"tui-redrive-{unique}"
    dlq = f"{source}.dlq"
    context = builtin_local_context()
    async with Session(context) as session:
        await topic_service.create_topic(session, f"kafka:{source}", partitions=1)
        await topic_service.create_topic(session, f"kafka:{dlq}", partitions=1)
        dead = [
            OutgoingMessage(
                value=f'{{"n": {i}}}'.encode(),
                key=f"k{i}".encode(),
                headers=[
                    ("kafka_dlt-original-topic", source.encode()),
                    ("kafka_dlt-original-partition", b"0"),
                    ("kafka_dlt-original-offset", str(i).encode()),
                    ("kafka_dlt-exception-fqcn", b"java.lang.IllegalStateException"),
                    ("kafka_dlt-exception-message", b"bad amount"),
                ],
            )
            for i in range(4)
        ]
        results = [
            r
            async for r in message_service.publish(session, f"kafka:{dlq}", dead, PublishOptions())
        ]
        assert all(r.ok for r in results)
    try:
        app = MqctlApp(context)
        async with app.run_test(size=SIZE) as pilot:
            app.inspect_dlq(Destination("kafka", "topic", dlq))
            screen = await wait_for_screen(pilot, DlqScreen, "DLQ screen")
            assert isinstance(screen, DlqScreen)
            reasons = screen.query_one("#reasons", LiveTable)
            await wait_for(pilot, lambda: reasons.total_count >= 1, "grouped reasons")
            assert any("bad amount" in key for key in reasons.shown_keys)

            # first R: the plan is shown; cancelling moves nothing
            await pilot.press("R")
            await wait_for_screen(pilot, ConfirmScreen, "confirmation with the plan")
            await pilot.press("n")
            await wait_for(pilot, lambda: app.screen is screen, "back on the DLQ screen")
            assert screen.result is None

            await pilot.press("R")
            await wait_for_screen(pilot, ConfirmScreen, "confirmation with the plan")
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.result is not None, "redrive to finish")
            assert screen.result is not None
            assert (screen.result.moved, screen.result.failed) == (4, 0)
    finally:
        async with Session(context) as session:
            await topic_service.delete_topics(session, [f"kafka:{source}", f"kafka:{dlq}"])
        await delete_groups(f"mqctl-redrive.{dlq}")  # the redrive's progress group
