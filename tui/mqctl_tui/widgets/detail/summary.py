"""A key: value block at the top of detail screens."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static


class Summary(Static):
    DEFAULT_CSS = "Summary { height: auto; }"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("loading…", id=id, classes="detail-summary")
        self.border_title = title

    def show_pairs(self, pairs: list[tuple[str, str | Text]]) -> None:
        self.remove_class("-error")
        grid = Table.grid(padding=(0, 2))
        columns = 3
        for _ in range(columns):
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(no_wrap=True)
        row: list[str | Text] = []
        for key, value in pairs:
            row.extend([key, value if isinstance(value, Text) else Text(value)])
            if len(row) == columns * 2:
                grid.add_row(*row)
                row = []
        if row:
            grid.add_row(*row)
        self.update(grid)
