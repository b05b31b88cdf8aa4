"""MeasuredTable sizes its columns for new rows exactly as Textual's DataTable does (it
skips DataTable's per-cell console round trip, see mqctl_tui/widgets/common/fitted_table.py):
a Textual upgrade that changes how DataTable measures shows up here."""

from __future__ import annotations

from typing import Any

from mqctl_tui.widgets.common.cells import SortText
from mqctl_tui.widgets.common.fitted_table import MeasuredTable
from mqctl_tui.widgets.common.live_table import Column, LiveTable, cell
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

ROWS: list[list[Any]] = [
    ["orders", "31,350,000", "2.0/s", "?"],
    ["名前の長いキュー", "0", "-", "キュー"],  # wide characters: two cells each
    ["q" * 120, "1.2K", "never", "ok"],
]


def _cells(row: list[Any]) -> list[SortText]:
    return [SortText(text, style="", justify="left", key=None) for text in row]


class Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(id="stock")
        yield MeasuredTable(id="measured")


async def test_column_widths_match_datatable() -> None:
    app = Tables()
    async with app.run_test(size=(200, 40)) as pilot:
        widths = {}
        for name in ("stock", "measured"):
            table = app.query_one(f"#{name}", DataTable)
            for label in ("Queue", "Ready", "In", "Note"):
                table.add_column(Text(label), key=label)
            for index, row in enumerate(ROWS):
                table.add_row(*_cells(row), key=str(index))
            table.add_row("plain", "str", "cells", "too", key="other")  # DataTable's own way
            await pilot.pause()
            widths[name] = [c.content_width for c in table.ordered_columns]
            assert table.virtual_size.width > 0
        assert widths["measured"] == widths["stock"]
        assert widths["stock"][0] == 120 and widths["stock"][3] == 6


class Live(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable([Column("name", "Name"), Column("rate", "In", numeric=True)], id="live")


async def test_updated_cells_widen_their_column_to_the_widest() -> None:
    """Thousands of cells updated at once (the queue stats landing): the column gets the
    width of the widest, measured once, not once per cell."""
    app = Live()
    async with app.run_test(size=(120, 40)) as pilot:
        live = app.query_one(LiveTable)
        live.set_rows({f"q{i}": [cell(f"q{i}"), cell("?")] for i in range(300)})
        await pilot.pause()
        rate = live.table.columns[ColumnKey("rate")]
        assert rate.content_width == len("In")
        live.set_rows({f"q{i}": [cell(f"q{i}"), cell(f"{i * 1000:,}.0/s")] for i in range(300)})
        await pilot.pause()
        assert rate.content_width == len("299,000.0/s")
        live.set_rows({f"q{i}": [cell(f"q{i}"), cell("1.0/s")] for i in range(300)})
        await pilot.pause()
        assert rate.content_width == len("1.0/s")  # and narrower again when they all shrink
