"""Pilot test against the real Kafka: DLQ inspect and redrive with confirm, on a DLQ set up
by this test (never the seeded one)."""

from __future__ import annotations

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.screens.dlq_screen import DlqScreen
from mqctl_tui.widgets.common.live_table import LiveTable
from textual.widgets import Input, Label

from mqctl import audit
from mqctl.config.schema import builtin_local_context
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions
from mqctl.services import messages as message_service
from mqctl.services import topics as topic_service
from mqctl.session import Session
from tests.test_dlq_support import forget_ledger, kafka_read
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
            await wait_for(pilot, lambda: not screen.running, "the declined redrive to end")
            assert screen.result is None
            declined = audit.read()[-1]
            assert (declined["action"], declined["outcome"]) == ("dlq redrive", "declined")

            await pilot.press("R")
            await wait_for_screen(pilot, ConfirmScreen, "confirmation with the plan")
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.result is not None, "redrive to finish")
            assert screen.result is not None
            assert (screen.result.moved, screen.result.failed) == (4, 0)
    finally:
        async with Session(context) as session:
            await topic_service.delete_topics(session, [f"kafka:{source}", f"kafka:{dlq}"])
        await forget_ledger(dlq)  # the redrive ledger's records of this DLQ


def _dead(source: str, i: int, message: str) -> OutgoingMessage:
    return OutgoingMessage(
        value=f'{{"n": {i}}}'.encode(),
        key=f"k{i}".encode(),
        headers=[
            ("kafka_dlt-original-topic", source.encode()),
            ("kafka_dlt-original-partition", b"0"),
            ("kafka_dlt-original-offset", str(i).encode()),
            ("kafka_dlt-exception-fqcn", b"java.lang.IllegalStateException"),
            ("kafka_dlt-exception-message", message.encode()),
        ],
    )


@pytest.mark.kafka
async def test_redrive_from_a_reason_row_moves_only_that_reason(unique: str) -> None:
    source = f"tui-row-{unique}"
    dlq = f"{source}.dlq"
    context = builtin_local_context()
    async with Session(context) as session:
        await topic_service.create_topic(session, f"kafka:{source}", partitions=1)
        await topic_service.create_topic(session, f"kafka:{dlq}", partitions=1)
        dead = [_dead(source, i, "card declined") for i in range(3)]
        dead += [_dead(source, i, "address invalid") for i in range(3, 5)]
        published = message_service.publish(session, f"kafka:{dlq}", dead, PublishOptions())
        assert all([r.ok async for r in published])
    try:
        app = MqctlApp(context)
        async with app.run_test(size=SIZE) as pilot:
            app.inspect_dlq(Destination("kafka", "topic", dlq))
            screen = await wait_for_screen(pilot, DlqScreen, "DLQ screen")
            assert isinstance(screen, DlqScreen)
            reasons = screen.query_one("#reasons", LiveTable)
            await wait_for(pilot, lambda: reasons.total_count == 2, "two reasons")
            assert reasons.shown_keys == ["card declined", "address invalid"]
            await pilot.press("down")  # highlight the second row: "address invalid"
            await wait_for(pilot, lambda: reasons.selected_key == "address invalid", "row")
            await pilot.press("R")
            confirm = await wait_for_screen(pilot, ConfirmScreen, "confirmation with the plan")
            assert screen.query_one("#redrive-filter", Input).value == "'reason==address invalid'"
            assert screen.plan is not None and screen.plan.moved == 2
            assert [(r.reason, r.to_move) for r in screen.plan.rows] == [("address invalid", 2)]
            assert confirm is app.screen
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.result is not None, "redrive to finish")
            assert screen.result is not None
            assert (screen.result.moved, screen.result.planned) == (2, 2)
            assert screen.result.plan_differs is None
            assert "as planned" in str(screen.query_one("#redrive-status", Label).render())
        moved = await kafka_read(source)
        assert sorted(r.key for r in moved) == [b"k3", b"k4"]  # only that reason's records
    finally:
        async with Session(context) as session:
            await topic_service.delete_topics(session, [f"kafka:{source}", f"kafka:{dlq}"])
        await forget_ledger(dlq)
