"""How a table fits its width (no Textual): names cut before numbers, numbers compact before
columns go, the sorted column always stays."""

from __future__ import annotations

from mqctl_tui.widgets.common.cells import Cell, Column
from mqctl_tui.widgets.common.fitting import MIN_NAME_WIDTH, plan_fit, share_out

COLUMNS = [
    Column("name", "Queue", flex=True),
    Column("vhost", "Vhost", drop=2),
    Column("ready", "Ready", numeric=True),
    Column("in", "In", numeric=True, drop=1),
]
ROWS = [
    [Cell("q" * 255), Cell("/"), Cell("31,350,000", 31_350_000), Cell("2.0/s", 2.0)],
    [Cell("short"), Cell("/"), Cell("0", 0), Cell("-")],
]


def test_wide_tables_show_everything_whole() -> None:
    plan = plan_fit(COLUMNS, ROWS, 400, 1)
    assert plan.visible == ("name", "vhost", "ready", "in") and not plan.compact
    assert plan.name_widths == {"name": 255}


def test_names_are_cut_before_numbers_change() -> None:
    plan = plan_fit(COLUMNS, ROWS, 60, 1)
    assert not plan.compact and len(plan.visible) == 4
    assert MIN_NAME_WIDTH <= plan.name_widths["name"] < 255


def test_narrow_tables_compact_counts_then_leave_columns_out() -> None:
    compact = plan_fit(COLUMNS, ROWS, 38, 1)
    assert compact.compact and len(compact.visible) == 4
    narrower = plan_fit(COLUMNS, ROWS, 26, 1)
    assert narrower.compact and "vhost" not in narrower.visible and "ready" in narrower.visible
    kept = plan_fit(COLUMNS, ROWS, 26, 1, keep="vhost")
    assert "vhost" in kept.visible and "in" not in kept.visible


def test_short_names_give_their_room_to_long_ones() -> None:
    assert share_out({"group": 15, "topics": 255}, 60) == {"group": 15, "topics": 45}
    assert share_out({"a": 100, "b": 100}, 10) == {"a": MIN_NAME_WIDTH, "b": MIN_NAME_WIDTH}
