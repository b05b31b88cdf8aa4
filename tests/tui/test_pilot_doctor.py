"""The doctor panel (issue 21) against the real local brokers: opened from the command palette
and the dashboard key, the seeded stopped group shows as a CRIT ``groups`` finding with its
evidence; a broker that does not answer is a finding on the panel, never a crash. The
"every key" stress of the panel runs on the fake (NastyServices), like the other screens'.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mqctl_tui.app import MqctlApp
from mqctl_tui.screens.doctor_screen import RUNNING, DoctorScreen
from mqctl_tui.widgets.common.live_table import LiveTable
from textual.widgets import Static

from mqctl.config import load_config
from mqctl.config.schema import builtin_local_context
from tests.tui.helpers import context_config, wait_for, wait_for_screen
from tests.tui.test_pilot_never_crashes import nasty_app, press_every_key, sort_every_column

SIZE = (160, 50)


def findings_table(app: MqctlApp) -> LiveTable:
    return app.screen.query_one("#findings", LiveTable)


def detail(app: MqctlApp) -> str:
    return str(app.screen.query_one("#finding", Static).render())


def checked(app: MqctlApp) -> bool:
    table = findings_table(app)
    return table.total_count > 0 and table.status_text != RUNNING


def row_of(app: MqctlApp, backend: str, check: str) -> str:
    keys = [k for k in findings_table(app).shown_keys if k.split("|")[1:3] == [backend, check]]
    assert keys, f"no {backend} {check} finding in {findings_table(app).shown_keys}"
    return keys[0]


async def highlight(app: MqctlApp, pilot: object, key: str) -> None:
    table = findings_table(app)
    table.table.move_cursor(row=table.shown_keys.index(key))
    await pilot.pause()  # type: ignore[attr-defined]


@pytest.mark.kafka
@pytest.mark.rabbitmq
async def test_doctor_panel_shows_the_seeded_stopped_group() -> None:
    app = MqctlApp(builtin_local_context())
    async with app.run_test(size=SIZE) as pilot:
        entries = {name: callback for name, callback, _ in app.palette_commands()}
        entries["Doctor"]()
        await wait_for_screen(pilot, DoctorScreen, "the doctor screen")
        await wait_for(pilot, lambda: checked(app), "the findings")

        table = findings_table(app)
        severities = [table.cell_text(k, "severity") for k in table.shown_keys]
        ranks = ["CRIT", "WARN", "UNKNOWN", "OK"]
        assert [ranks.index(s) for s in severities] == sorted(ranks.index(s) for s in severities)

        groups = row_of(app, "kafka", "groups")
        assert table.cell_text(groups, "severity") == "CRIT"
        await highlight(app, pilot, groups)
        assert "analytics-group: STOP" in detail(app)
        assert "what to do" in detail(app)
        await pilot.press("enter")  # into the evidence (it scrolls)
        assert app.focused is not None and app.focused.id == "finding-detail"
        await pilot.press("shift+tab")
        assert app.focused is findings_table(app).table

        reachable = row_of(app, "kafka", "reachable")
        assert table.cell_text(reachable, "severity") == "OK"

        await pilot.press("r")  # run again: the rows stay while it runs, then come back
        await wait_for(pilot, lambda: checked(app), "the second run")
        assert findings_table(app).cell_text(row_of(app, "kafka", "groups"), "severity") == "CRIT"

        await pilot.press("escape")
        await pilot.press("h")  # the dashboard's key
        await wait_for_screen(pilot, DoctorScreen, "the doctor screen from the dashboard")
        assert app.errors_reported == 0


@pytest.mark.kafka
async def test_a_broker_down_is_a_finding_not_a_crash(
    isolated_config: Path, closed_port: int
) -> None:
    context_config(
        isolated_config,
        f"""
[contexts.half]
timeout = 2
[contexts.half.doctor]
interval = 1
[contexts.half.kafka]
bootstrap-servers = "127.0.0.1:9092"
[contexts.half.rabbitmq]
url = "amqp://guest@127.0.0.1:{closed_port}/"
management-url = "http://127.0.0.1:{closed_port}"
password = "guest"
""",
    )
    config = load_config()
    app = MqctlApp(config.contexts["half"], config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for_screen(pilot, DoctorScreen, "the doctor screen")
        await wait_for(pilot, lambda: checked(app), "the findings")
        table = findings_table(app)
        down = row_of(app, "rabbitmq", "reachable")
        assert table.cell_text(down, "severity") == "CRIT"
        assert "UNREACHABLE" in table.cell_text(down, "summary")
        not_run = row_of(app, "rabbitmq", "checks")
        assert table.cell_text(not_run, "severity") == "UNKNOWN"
        await highlight(app, pilot, not_run)
        assert "not run" in detail(app)
        # the broker that answers is still checked
        assert table.cell_text(row_of(app, "kafka", "reachable"), "severity") == "OK"
        assert app.is_running and app.crashed is None


async def test_every_key_on_the_doctor_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQCTL_TUI_LOG", str(tmp_path / "tui.log"))
    app = nasty_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press_every_key(pilot, DoctorScreen)
        screen = DoctorScreen()
        await app.push_screen(screen)
        await wait_for(pilot, lambda: checked(app), "the nasty findings")
        await sort_every_column(pilot, screen)
        table = findings_table(app)
        for n in range(table.row_count):  # every finding in the detail area
            table.table.move_cursor(row=n)
            await pilot.pause()
        assert "\x1b" not in detail(app)
        assert app.is_running and app.crashed is None
        assert app.errors_reported == 0, "an error was reported (see the notifications)"


@pytest.mark.kafka
async def test_a_bad_doctor_threshold_is_shown_on_the_panel(isolated_config: Path) -> None:
    context_config(
        isolated_config,
        """
[contexts.typo]
[contexts.typo.doctor]
unacked-ration = 0.5
[contexts.typo.kafka]
bootstrap-servers = "127.0.0.1:9092"
""",
    )
    config = load_config()
    app = MqctlApp(config.contexts["typo"], config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for_screen(pilot, DoctorScreen, "the doctor screen")
        table = findings_table(app)
        await wait_for(pilot, lambda: "unacked-ration" in table.status_text, "the config error")
        assert "unknown doctor threshold" in table.status_text
        summary = str(app.screen.query_one(".detail-summary", Static).render())
        assert "unacked-ration" in summary
        assert app.is_running and app.crashed is None
