"""Snapshot tests of the main screens, with deterministic data from a fake service layer.

Only these tests use the fake (tests/tui/fakes.py); everything that depends on broker
behaviour is covered by the Pilot tests against the real brokers.
Update after an intended visual change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections import deque

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.data import Kind
from textual.pilot import Pilot

from mqctl.models.inventory import Destination
from tests.tui.fake_data import HISTORY, LONG, fake_context
from tests.tui.fakes import FakeServices, LeanFirstServices

SIZE = (160, 45)
SIZES = [(80, 24), (120, 40), (200, 50)]  # a small terminal, a laptop, a big screen
LONG_GROUP = f"kafka|group||{LONG}"


def make_app(*, read_only: bool = False, services: type[FakeServices] = FakeServices) -> MqctlApp:
    context = fake_context(read_only=read_only)
    app = MqctlApp(context, refresh=3600, services_factory=services)
    app._config = None  # the picker is not part of these screenshots
    app.clock = lambda: 1000.0  # "updated 0s ago" whatever the machine's load
    for key, values in HISTORY.items():
        app.lag_history.groups[key] = deque(values[:-1], maxlen=60)
    return app


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, MqctlApp)
    while app.refreshing or len(app.latest) < len(Kind):
        await pilot.pause(0.05)
    await pilot.pause(0.2)
    app.clear_notifications()
    await pilot.pause(0.05)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


def test_dashboard_queue_stats_loading(snap_compare) -> None:
    """The first (lean) listing on screen: consumers, rates and drain '?', never 0, never
    the red "no consumers" style; the status line says the stats are loading."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("2")  # the queues panel
        await pilot.pause(0.1)

    app = make_app(services=LeanFirstServices)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _opening(open_screen):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        open_screen(pilot.app)
        await pilot.pause(0.5)

    return run_before


DETAILS = {
    "topic": lambda app: app.open_topic(LONG),
    "queue": lambda app: app.open_queue(LONG, "/"),
    "group": lambda app: app.open_group(LONG_GROUP),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(DETAILS))
def test_detail_with_a_255_character_name(snap_compare, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=_opening(DETAILS[screen]))


def test_dashboard_read_only_filtered(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("3", "slash", *"order", "enter")
        await pilot.pause(0.1)

    assert snap_compare(make_app(read_only=True), terminal_size=SIZE, run_before=run_before)


def test_topic_detail(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.open_topic("order.created")  # type: ignore[attr-defined]
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_group_detail(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.open_group("kafka|group||notification-group")  # type: ignore[attr-defined]
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_message_browser(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.browse(Destination("kafka", "topic", "order.created"))  # type: ignore[attr-defined]
        await pilot.pause(0.5)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_dlq_inspect(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.inspect_dlq(Destination("kafka", "topic", "order.created.dlq"))  # type: ignore[attr-defined]
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=settle, press=["question_mark"])
