"""A key: value block at the top of detail screens (and the full name, when it is long)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import Static

from mqctl.output.render import middle_truncate

LONG_NAME = 40  # longer names are also written out whole (wrapped) above the figures
TALL = 30  # screens at least this high also show a long name whole (it takes lines)
PAIR_WIDTH = 36  # cells one key: value pair needs; as many pairs per line as fit (1-3)


class Summary(Static):
    DEFAULT_CSS = "Summary { height: auto; }"

    def __init__(self, title: str, *, name: str = "", id: str | None = None) -> None:
        super().__init__("loading…", id=id, classes="detail-summary")
        self.title = title
        self.border_title = title
        self.name_shown = name  # the object's full name (already safe)
        self._pairs: list[tuple[str, str | Text]] | None = None

    def on_resize(self, event: events.Resize) -> None:
        # Border titles are cut at their end: cut long ones in the middle instead, so both
        # ends of a name show; the whole name is in the block itself.
        self.border_title = middle_truncate(self.title, max(10, event.size.width - 8))
        if self._pairs is not None:
            # after this layout pass, so that the new height is laid out too
            self.call_after_refresh(self.show_pairs, self._pairs)

    def show_pairs(self, pairs: list[tuple[str, str | Text]]) -> None:
        self._pairs = pairs
        self.remove_class("-error")
        width = self.size.width or 120
        columns = max(1, min(3, width // PAIR_WIDTH))
        keys = max((len(k) for k, _ in pairs), default=0)
        room = max(8, width // columns - keys - 6)  # a value's share of the line
        grid = Table.grid(padding=(0, 2))
        for _ in range(columns):
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(no_wrap=True)
        row: list[str | Text] = []
        for key, value in pairs:
            text = value if isinstance(value, Text) else Text(value)
            if text.cell_len > room:  # a long name as a value (DL key…): both ends shown
                text = Text(middle_truncate(text.plain, room), style=text.style)
            row.extend([key, text])
            if len(row) == columns * 2:
                grid.add_row(*row)
                row = []
        if row:
            grid.add_row(*row)
        parts: list[RenderableType] = [grid]
        tall = self.screen.size.height >= TALL
        if len(self.name_shown) > LONG_NAME and tall:
            parts.insert(0, Text(self.name_shown, style="bold", overflow="fold"))
        self.update(Group(*parts))
