"""Snapshots of the doctor panel (issue 21) with the fake's fixed findings, at a small
terminal and a laptop's. The tests run with NO_COLOR (tests/conftest.py), as every TUI
snapshot: the severity is a word, readable without colour; one snapshot is in colour (the
colour repeats the severity). Update after an intended visual change:
pytest tests/tui/test_snapshots_doctor.py --snapshot-update
"""

from __future__ import annotations

import pytest
from mqctl_tui.screens.doctor_screen import DoctorScreen
from mqctl_tui.widgets.common.live_table import LiveTable
from textual.pilot import Pilot

from tests.tui.test_snapshots import make_app, settle

SIZES = [(80, 24), (120, 40)]


async def open_doctor(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("h")
    while not isinstance(pilot.app.screen, DoctorScreen):
        await pilot.pause(0.05)
    table = pilot.app.screen.query_one("#findings", LiveTable)
    while table.total_count == 0:
        await pilot.pause(0.05)
    await pilot.press("down")  # the detail area shows the second finding (a WARN)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_doctor(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=open_doctor)


def test_doctor_in_colour(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=open_doctor)
