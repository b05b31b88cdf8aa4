"""CLI tables on a terminal: long names are cut in the middle so STATUS and LAG stay visible
(issue 18); ``--wide`` and pipes show everything; widths count wide characters as two."""

from __future__ import annotations

import io

from rich.console import Console

from mqctl.cli.lag_tables import SUMMARY_COLUMNS
from mqctl.models.lag import LagEntry, LagStatus
from mqctl.output.render import compact_number, display_width, middle_truncate, render_table

LONG = "q" * 120 + "-middle-" + "z" * 127  # 255 characters


def _terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=True, color_system=None), out


def _entries() -> list[LagEntry]:
    return [
        LagEntry("kafka", "group", LONG, LagStatus.LAGGING, 3135, 12.0, [LONG], 1, "Stable"),
        LagEntry("kafka", "group", "東京-orders-😀", LagStatus.OK, 0, None, ["t"], 2, "Stable"),
    ]


def test_lag_on_a_200_column_terminal_keeps_status_and_lag() -> None:
    console, out = _terminal(200)
    render_table(_entries(), SUMMARY_COLUMNS, console)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert all(display_width(line) <= 200 for line in lines)
    header = lines[0]
    assert "STATUS" in header and "LAG" in header and "CONSUMERS" in header
    row = next(line for line in lines if "LAGGING" in line)
    assert "3135" in row and "…" in row
    assert row.lstrip().startswith("kafka")
    assert "qqq" in row and "zzz" in row  # both ends of the name stay readable
    assert "東京-orders-😀" in out.getvalue()  # short wide names are not cut


def test_wide_and_pipes_show_whole_names() -> None:
    console, out = _terminal(200)
    render_table(_entries(), SUMMARY_COLUMNS, console, wide=True)
    assert LONG in out.getvalue()
    piped = io.StringIO()
    render_table(_entries(), SUMMARY_COLUMNS, Console(file=piped, width=100_000))
    assert LONG in piped.getvalue()


def test_middle_truncation_counts_display_cells() -> None:
    assert middle_truncate("abcdefghij", 5) == "ab…ij"
    assert middle_truncate("short", 10) == "short"
    cut = middle_truncate("東京大阪名古屋札幌福岡", 9)
    assert display_width(cut) <= 9 and cut.startswith("東京") and cut.endswith("福岡")
    assert display_width(middle_truncate("😀" * 50, 11)) <= 11


def test_compact_numbers_never_cut() -> None:
    assert compact_number(3135) == "3.1k"
    assert compact_number(2_000_000) == "2.0M"
    assert compact_number(999) == "999"
    assert compact_number(0) == "0"
    assert compact_number(10**15) == "1.0P"
