"""The TUI never dies in the user's hands (issue 18): on every screen, every bound key is
pressed and every column sorted both ways, over rows with missing figures, zero and huge
numbers, a 255-character name and a status string the TUI does not know.

The data comes from ``NastyServices`` (tests/tui/fakes.py): no broker can be asked for a
missing rate or a NaN on demand. What the brokers really return is covered by the other
Pilot tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest
from mqctl_tui.app import MqctlApp, run_app
from mqctl_tui.guard import TuiCrashed
from mqctl_tui.screens.admin_screen import AdminScreen
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.screens.context_screen import ContextPicker
from mqctl_tui.screens.dashboard_screen import DashboardScreen
from mqctl_tui.screens.dlq_screen import DlqScreen
from mqctl_tui.screens.group_screen import GroupScreen
from mqctl_tui.screens.help_screen import HelpScreen
from mqctl_tui.screens.messages_screen import MessagesScreen
from mqctl_tui.screens.offsets_screen import OffsetsScreen
from mqctl_tui.screens.protected_screen import ProtectedWriteScreen
from mqctl_tui.screens.publish_screen import PublishScreen
from mqctl_tui.screens.queue_screen import QueueScreen
from mqctl_tui.screens.topic_screen import TopicScreen
from mqctl_tui.widgets.common.live_table import LiveTable
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable

from mqctl.models.inventory import Destination
from tests.tui.fake_data import LONG, fake_context
from tests.tui.fakes import NastyServices
from tests.tui.helpers import wait_for

SKIPPED_ACTIONS = {"quit", "app.quit"}  # the one key meant to end the app
LONG_KEY = f"kafka|group||{LONG}"

SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "topic": lambda: TopicScreen(LONG),
    "queue": lambda: QueueScreen(LONG, "/"),
    "group": lambda: GroupScreen(LONG_KEY),
    "messages": lambda: MessagesScreen(Destination("kafka", "topic", LONG)),
    "publish": lambda: PublishScreen(Destination("rabbitmq", "queue", LONG, "/")),
    "dlq": lambda: DlqScreen(Destination("kafka", "topic", "order.created.dlq")),
    "offsets": lambda: OffsetsScreen(LONG),
    "help": HelpScreen,
    "admin": lambda: AdminScreen("cluster"),
    "context": lambda: ContextPicker({"staging": fake_context()}, "staging"),
    "confirm": lambda: ConfirmScreen(f"Apply to {LONG}?", LONG, "Apply"),
    "protected": lambda: ProtectedWriteScreen(LONG, f"publish to {LONG}"),
}


def nasty_app() -> MqctlApp:
    app = MqctlApp(fake_context(), refresh=3600, services_factory=NastyServices)
    app._config = None
    app.lag_history.groups[LONG_KEY] = deque([0, 10**15, 0], maxlen=60)
    return app


def bound_keys(app: MqctlApp, *, app_keys: bool = False) -> list[str]:
    """The keys active now (focused widget, its parents, the screen; the app's own keys only
    with ``app_keys``: they do the same on every screen, pressing them once is enough)."""
    return [
        key
        for key, active in app.active_bindings.items()
        if active.binding.action not in SKIPPED_ACTIONS and (app_keys or active.node is not app)
    ]


async def back_to(pilot: Pilot[None], screen: Screen[None]) -> bool:
    """Close whatever a key opened on top of ``screen``; False when ``screen`` was closed."""
    app = pilot.app
    while app.screen is not screen and screen in app.screen_stack:
        app.pop_screen()
        await pilot.pause()
    return app.screen is screen


def assert_missing_last(table: LiveTable) -> None:
    """In both directions, the rows without a value in the sort column come last."""
    assert table.sort_by is not None
    cells = table.table.get_column(table.sort_by)
    missing = [getattr(c, "sort_key", None) is None for c in cells]
    assert missing == sorted(missing), f"missing values not last in {table.id}:{table.sort_by}"


async def sort_every_column(pilot: Pilot[None], screen: Screen[None]) -> None:
    for table in screen.query(LiveTable).results(LiveTable):
        for column in table.columns:
            for toggle in (False, True):
                table.sort_on(column.key, toggle=toggle)
                await pilot.pause()
                assert_missing_last(table)


async def press_every_key(pilot: Pilot[None], open_screen: Callable[[], Screen[None]]) -> None:
    """Press every key bound where each table (or the screen) has the focus; reopen the
    screen when a key closed it."""
    app = pilot.app
    assert isinstance(app, MqctlApp)
    screen = open_screen()
    await app.push_screen(screen)
    await pilot.pause()
    table_ids = [t.id for t in screen.query(LiveTable).results(LiveTable)][:1] or [None]

    def focus_table(screen: Screen[None], table_id: str | None) -> None:
        if table_id is not None:
            screen.query_one(f"#{table_id}", LiveTable).table.focus()

    for table_id in table_ids:
        focus_table(screen, table_id)
        await pilot.pause()
        for key in bound_keys(app):
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running, f"the app stopped after {key!r} on {type(screen).__name__}"
            if not await back_to(pilot, screen):
                screen = open_screen()
                await app.push_screen(screen)
                await pilot.pause()
            focus_table(screen, table_id)
    await back_to(pilot, screen)
    if screen in app.screen_stack:
        app.pop_screen()
        await pilot.pause()


PANEL_KEYS = {"enter", "m", "p", "d", "o"}  # what they do depends on the panel's row


async def test_every_key_and_every_sort_on_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TUI_LOG", str(tmp_path / "tui.log"))
    app = nasty_app()
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        groups = dashboard.query_one("#groups", LiveTable)
        await wait_for(pilot, lambda: groups.total_count == 6, "the nasty lag rows")
        queues = dashboard.query_one("#queues", LiveTable)
        await wait_for(pilot, lambda: queues.total_count == 9, "the nasty queue rows")
        await sort_every_column(pilot, dashboard)
        # the keys of the issue: 1 then s (sorting "Max time lag" with a "-" row), 2 then s
        await pilot.press("1", *"s" * 8, *"S" * 2, "2", *"s" * 10, "S")
        for key in bound_keys(app, app_keys=True):  # the app's keys, once
            await pilot.press(key)
            await back_to(pilot, dashboard)
            groups.table.focus()
        pressed: set[str] = set()
        for panel in ("groups", "queues", "topics", "dlq"):
            table = dashboard.query_one(f"#{panel}", LiveTable)
            table.table.focus()
            for key in bound_keys(app):
                if key in pressed and key not in PANEL_KEYS:
                    continue
                pressed.add(key)
                await pilot.press(key)
                await back_to(pilot, dashboard)
                table.table.focus()
                assert app.is_running
        assert app.crashed is None
        assert app.errors_reported == 0, "an error was reported (see the notifications)"


@pytest.mark.parametrize("name", list(SCREENS))
async def test_every_key_and_every_sort_on_every_screen(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TUI_LOG", str(tmp_path / "tui.log"))
    app = nasty_app()
    open_screen = SCREENS[name]
    async with app.run_test(size=(80, 24)) as pilot:
        groups = app.screen.query_one("#groups", LiveTable)
        await wait_for(pilot, lambda: groups.total_count == 6, "the nasty lag rows")
        await press_every_key(pilot, open_screen)
        screen = open_screen()
        await app.push_screen(screen)
        await pilot.pause(0.2)
        await sort_every_column(pilot, screen)
        assert app.is_running, f"the app stopped on the {name} screen"
        assert app.crashed is None
        assert app.errors_reported == 0, "an error was reported (see the notifications)"


class ExplodingServices(NastyServices):
    """A service layer whose answer breaks the header (an unexpected type from a bug)."""

    async def broker_status(self):  # type: ignore[no-untyped-def]
        return 42  # not a list of BrokerStatus: the header cannot show it


def test_a_crash_exits_70_with_one_line_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "tui.log"
    monkeypatch.setenv("MQCTL_TUI_LOG", str(log))
    with pytest.raises(TuiCrashed) as caught:
        run_app(fake_context(), refresh=3600, services_factory=ExplodingServices, headless=True)
    error = caught.value
    assert int(error.exit_code) == 70
    assert str(log) in str(error) and "\n" not in str(error)
    assert "Traceback" in log.read_text()


def test_a_failing_service_layer_exits_70(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQCTL_TUI_LOG", str(tmp_path / "tui.log"))

    def failing(context: object, timeout: float | None) -> NastyServices:
        raise RuntimeError("injected: the service layer cannot start")

    with pytest.raises(TuiCrashed) as caught:
        run_app(fake_context(), refresh=3600, services_factory=failing, headless=True)
    assert int(caught.value.exit_code) == 70
    assert "injected" in str(caught.value)


def test_mqctl_tui_without_a_terminal_exits_2() -> None:
    from tests.conftest import run_cli

    result = run_cli("tui")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: mqctl tui needs an interactive terminal")
    assert "\x1b" not in result.output


def test_sort_keys_are_typed_per_column() -> None:
    from mqctl_tui.widgets.common.cells import Cell, Column, sort_key_for

    numbers = Column("n", "N", numeric=True)
    text = Column("t", "T")
    cells = [Cell("-", None), Cell("3", 3), Cell("nan", float("nan")), Cell("1", 1.5)]
    rendered = [c.render(numbers) for c in cells]
    for reverse in (False, True):
        ordered = sorted(rendered, key=sort_key_for(reverse), reverse=reverse)
        assert [c.plain for c in ordered][-2:] in (["-", "nan"], ["nan", "-"])
    words = [Cell("b").render(text), Cell("-").render(text), Cell("A").render(text)]
    assert [c.plain for c in sorted(words, key=sort_key_for(False))] == ["A", "b", "-"]
    assert isinstance(DataTable, type)


async def test_errors_are_notified_and_with_debug_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "tui.log"
    monkeypatch.setenv("MQCTL_TUI_LOG", str(log))
    app = MqctlApp(fake_context(), refresh=3600, services_factory=NastyServices, debug=True)
    async with app.run_test(size=(120, 40)) as pilot:
        app.report_error(RuntimeError("a bug in a panel"), "queues panel")
        await pilot.pause()
        assert app.is_running and app.errors_reported == 1
        assert "RuntimeError: a bug in a panel" in log.read_text()
        assert any("a bug in a panel" in str(n.message) for n in app._notifications)
