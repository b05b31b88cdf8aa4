"""A DataTable with filter-as-you-type and sort that updates its rows in place.

Callers hand over the complete data on every refresh (:meth:`LiveTable.set_rows`); the table
diffs it against what it shows: changed cells are updated with ``update_cell``, new rows are
added, vanished (or filtered-out) rows removed. Nothing is rebuilt, so the cursor and the
scroll position survive a refresh. Sorting and fitting any width: :class:`FittedTable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from mqctl.output.render import middle_truncate
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.guard import describe
from mqctl_tui.widgets.common.cells import Cell as Cell  # (re-exported: screens use them)
from mqctl_tui.widgets.common.cells import Column as Column
from mqctl_tui.widgets.common.cells import SortText
from mqctl_tui.widgets.common.cells import cell as cell
from mqctl_tui.widgets.common.fitted_table import NAME_WIDTH, FittedTable

Rows = Mapping[str, Sequence[Cell]]


class LiveTable(FittedTable):
    """Filter input + DataTable + status line. Subclasses fill it through :meth:`set_rows`."""

    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    LiveTable > Input.filter { height: 1; border: none; padding: 0 1; background: $boost; }
    LiveTable > DataTable { height: 1fr; }
    LiveTable > .status { height: 1; color: $text-muted; padding: 0 1; }
    LiveTable > .status.-error { color: $error; }
    LiveTable > .status.-warning { color: $warning; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("escape", "escape", "Back", show=False),
    ]

    class Chosen(Message):
        """Enter on a row."""

        def __init__(self, table: LiveTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        title: str = "",
        sort_by: str | None = None,
        reverse: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(columns, sort_by=sort_by, reverse=reverse, id=id, classes=classes)
        self.border_title = title
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._search: dict[str, str] = {}
        self._terms: list[str] = []
        self._status = "loading…"
        self._selected_name = ""  # the full name of the highlighted row, when cut
        self._filter = Input(placeholder="/ filter…", classes="filter")
        self._status_line = Static("loading…", classes="status")

    def compose(self) -> ComposeResult:
        yield self._filter
        yield self._table
        yield self._status_line

    def on_mount(self) -> None:
        for column in self.visible_columns:
            self.table.add_column(self._label(column), key=column.key)
        self._sync()

    # -- public API ------------------------------------------------------------------------
    @property
    def filter_input(self) -> Input:
        return self._filter

    @property
    def row_count(self) -> int:
        """Rows currently shown (after the filter)."""
        return len(self._shown)

    @property
    def total_count(self) -> int:
        return len(self._rows)

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows shown, in display order."""
        return [str(row.key.value) for row in self.table.ordered_rows]

    def cell_text(self, key: str, column: str) -> str:
        return self.cell_at(key, column).text

    def cell_at(self, key: str, column: str) -> Cell:
        cells = self._shown.get(key) or self._rows.get(key)
        if cells is None:
            raise KeyError(key)
        return cells[self._column_index(column)]

    def set_rows(self, rows: Rows) -> None:
        """Replace the data (in place: only differences touch the DataTable)."""
        old_rows, old_search = self._rows, self._search
        self._rows = {key: tuple(cells) for key, cells in rows.items()}
        if self._rows == old_rows:
            return  # nothing changed: no filtering, diffing or sorting
        search: dict[str, str] = {}
        for key, cells in self._rows.items():
            text = old_search.get(key)
            if text is None or old_rows.get(key) != cells:
                text = " ".join(c.text for c in cells).lower()
            search[key] = text
        self._search = search
        self._sync()

    def clear_rows(self) -> None:
        self.set_rows({})

    def set_status(self, text: str, level: str = "") -> None:
        status = self._status_line
        status.set_class(level == "error", "-error")
        status.set_class(level == "warning", "-warning")
        if text == self._status:
            return  # every refresh sets it, mostly to the same words
        self._status = text
        self._show_status_line()

    def _show_status_line(self) -> None:
        """The status, then the selected row's name when the table cuts it (as much of it as
        the line holds: cut in the middle only if the line is shorter than the name)."""
        text = self._status
        if self._selected_name:
            room = self._status_line.size.width - 2 - cell_len(text) - 3
            name = middle_truncate(self._selected_name, room) if room > 0 else ""
            text = f"{text} · {name}" if name else text
        # One line of fixed height: no layout pass (a layout of the whole screen costs tens
        # of milliseconds with thousands of rows in the tables).
        self._status_line.update(Text(text), layout=False)

    @property
    def status_text(self) -> str:
        return self._status

    # -- filtering and sorting -------------------------------------------------------------
    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._terms = event.value.lower().split()
        try:
            self._sync()
        except Exception as exc:
            self.set_status(f"cannot filter: {describe(exc)}", "error")
            mqctl_app(self).report_error(exc, "filtering")

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.filter_input.focus()

    def action_escape(self) -> None:
        """Escape clears the filter, then leaves it; otherwise the screen handles it."""
        if self.filter_input.has_focus:
            self.filter_input.value = ""
            self.table.focus()
            return
        raise SkipAction()

    def action_sort_next(self) -> None:
        keys = [c.key for c in self.columns]
        current = keys.index(self.sort_by) if self.sort_by in keys else -1
        self.sort_on(keys[(current + 1) % len(keys)])

    def action_sort_reverse(self) -> None:
        self.sort_on(self.sort_by or self.columns[0].key, toggle=True)

    def sort_on(self, column: str, *, toggle: bool = False) -> None:
        """Sort by ``column`` (again: the other direction). A failure is reported, the rows
        stay as they are."""
        try:
            self._sort_on(column, toggle=toggle)
        except Exception as exc:
            self.set_status(f"cannot sort: {describe(exc)}", "error")
            mqctl_app(self).report_error(exc, "sorting")

    def _sort_on(self, column: str, *, toggle: bool = False) -> None:
        if toggle or column == self.sort_by:
            self.sort_reverse = not self.sort_reverse if column == self.sort_by else False
        else:
            self.sort_reverse = False
        self.sort_by = column
        if column not in self._visible_keys:
            self.fit()  # a column left out for the width comes back when sorted by
        self._relabel()
        self._apply_sort()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_on(str(event.column_key.value), toggle=True)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self, str(event.row_key.value)))

    # -- internals -------------------------------------------------------------------------
    def _visible(self, key: str) -> bool:
        if not self._terms:
            return True
        text = self._search.get(key, "")
        return all(term in text for term in self._terms)

    def _sync(self) -> None:
        table = self.table
        if not table.columns:
            return
        rows = self._rows
        wanted = rows if not self._terms else {k: v for k, v in rows.items() if self._visible(k)}
        removed = False
        for key in [k for k in self._shown if k not in wanted]:
            table.remove_row(key)
            del self._shown[key]
            removed = True
        first_fill = not self._shown and bool(wanted)
        if first_fill:
            # A first fill (thousands of rows, maybe): fit for them before adding them, not
            # after (which would render every name and count twice).
            self.fit(wanted.values())
        sort_index = self._column_index(self.sort_by) if self.sort_by else -1
        resort = added = False
        widest: dict[str, tuple[str, SortText]] = {}  # per column: its widest new cell
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is cells:
                continue  # the very same row tuple: unchanged
            if old is None:
                table.add_row(*self._render_cells(cells), key=key)
                resort = added = True
            elif old != cells:
                for index, (before, after) in enumerate(zip(old, cells, strict=False)):
                    column = self.columns[index]
                    if before != after and column.key in self._visible_keys:
                        text = self._render_cell(after, column)
                        # Only the widest new cell of a column widens it (below). DataTable
                        # measures every cell updated with update_width, and re-measures
                        # the whole column for a narrower one (thousands of rows x changed
                        # cells): narrower cells are noted, and _shrink_columns measures
                        # once after the sync.
                        width = table.columns[column.key].content_width  # type: ignore[index]
                        if text.cell_len > width:
                            best = widest.get(column.key)
                            if best is None or text.cell_len > best[1].cell_len:
                                widest[column.key] = (key, text)
                        elif text.cell_len < width:
                            self._narrowed.add(column.key)
                        table.update_cell(key, column.key, text)
                        resort = resort or index == sort_index
            self._shown[key] = cells
        for column_key, (key, text) in widest.items():
            table.update_cell(key, column_key, text, update_width=True)
            added = True  # (a column grew: the names may get less)
        if resort:
            self._apply_sort()
        if (added and not first_fill) or removed:
            # rows came or went, or a column grew: fit again (not on every refresh; a first
            # fill was fitted for its rows already)
            self.fit()
        if removed:
            self._shrink_columns()  # any column's widest value may have gone
        elif self._narrowed:
            self._shrink_columns(narrowed=self._narrowed)
        self._narrowed = set()

    def _after_sort(self) -> None:
        self._show_selected()  # the cursor stays on its line: another row is under it

    def _after_resize(self) -> None:
        self._show_status_line()  # (the selected name gets the line's new width)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        """A cut name of the row under the cursor is shown whole in the status line and the
        tooltip of the table."""
        key = self.selected_key
        cells = self._shown.get(key) if key is not None else None
        full = ""
        for index, column in enumerate(self.columns):
            width = self._name_widths.get(column.key, NAME_WIDTH)
            if cells is not None and column.flex and cell_len(cells[index].text) > width:
                full = cells[index].text
                break
        self.table.tooltip = full or None
        if full != self._selected_name:
            self._selected_name = full
            self._show_status_line()
