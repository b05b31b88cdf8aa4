"""A DataTable with filter-as-you-type and sort that updates its rows in place.

Callers hand over the complete data on every refresh (:meth:`LiveTable.set_rows`); the table
diffs it against what it shows: changed cells are updated with ``update_cell``, new rows are
added, vanished (or filtered-out) rows removed. Nothing is rebuilt, so the cursor and the
scroll position survive a refresh.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from mqctl_tui.app_access import mqctl_app
from mqctl_tui.guard import describe


@dataclass(frozen=True, slots=True)
class Column:
    """A column. ``numeric`` columns are right-aligned and sort by number (counts, rates,
    durations: a cell's ``sort`` value); ``sort_as`` overrides the sort type ("number" for
    a text column sorted by a number, e.g. a status by severity; "text" otherwise)."""

    key: str
    label: str
    numeric: bool = False
    sort_as: str = ""

    @property
    def sorts_numbers(self) -> bool:
        return self.sort_as == "number" or (self.numeric and self.sort_as != "text")


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: the (already safe) text, the value to sort by, and a style."""

    text: str
    sort: Any = None
    style: str = ""

    def render(self, column: Column) -> SortText:
        return SortText(
            self.text,
            style=self.style,
            justify="right" if column.numeric else "left",
            key=typed_sort_key(self.sort, self.text, numbers=column.sorts_numbers),
        )


def typed_sort_key(value: Any, text: str, *, numbers: bool) -> float | str | None:
    """The value a cell sorts by, of its column's one type; None when missing.

    A number column sorts by floats only: a cell without a number (``-``, "n/a", NaN) is
    missing, never compared with the numbers (str < float raised TypeError and killed the
    app). A text column sorts by lower-cased text (its ``sort`` value if given, else the
    shown text)."""
    if numbers:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        number = float(value)
        return None if math.isnan(number) else number
    if value is None:
        value = text
    lowered = str(value).lower()
    return lowered if lowered.strip() not in MISSING_TEXT else None


MISSING_TEXT = {"", "-"}


class SortText(Text):
    """A rich Text that carries its typed sort key (DataTable sorts on cell values)."""

    def __init__(self, text: str, *, style: str, justify: Any, key: float | str | None) -> None:
        super().__init__(text, style=style, justify=justify, no_wrap=True, overflow="ellipsis")
        self.sort_key = key


def sort_key_for(reverse: bool) -> Callable[[Any], tuple[int, float | str]]:
    """DataTable's sort key: present values by value; missing ones last in BOTH directions
    (DataTable reverses the whole order, so missing ones carry -1 when reversed)."""
    missing = -1 if reverse else 1

    def key(cell: Any) -> tuple[int, float | str]:
        value = getattr(cell, "sort_key", None)
        if value is None:
            return (missing, 0)
        return (0, value)

    return key


def cell(value: Any, *, sort: Any = None, style: str = "") -> Cell:
    return Cell(str(value), sort, style)


Rows = Mapping[str, Sequence[Cell]]


class LiveTable(Vertical):
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
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.border_title = title
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._search: dict[str, str] = {}
        self._terms: list[str] = []
        self.sort_by = sort_by
        self.sort_reverse = reverse
        self._status = "loading…"
        self._filter = Input(placeholder="/ filter…", classes="filter")
        self._table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)
        self._status_line = Static("loading…", classes="status")

    def compose(self) -> ComposeResult:
        yield self._filter
        yield self._table
        yield self._status_line

    def on_mount(self) -> None:
        for column in self.columns:
            self.table.add_column(self._label(column), key=column.key)
        self._sync()

    # -- public API ------------------------------------------------------------------------
    @property
    def table(self) -> DataTable[Any]:
        return self._table

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

    @property
    def selected_key(self) -> str | None:
        table = self.table
        if not self._shown or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def cell_text(self, key: str, column: str) -> str:
        cells = self._shown.get(key) or self._rows.get(key)
        if cells is None:
            raise KeyError(key)
        return cells[self._column_index(column)].text

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
        # One line of fixed height: no layout pass (a layout of the whole screen costs tens
        # of milliseconds with thousands of rows in the tables).
        status.update(Text(text), layout=False)

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
    def _column_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)

    def _label(self, column: Column) -> Text:
        arrow = ""
        if column.key == self.sort_by:
            arrow = " ▼" if self.sort_reverse else " ▲"
        return Text(column.label + arrow, justify="right" if column.numeric else "left")

    def _relabel(self) -> None:
        table = self.table
        for column in self.columns:
            table.columns[column.key].label = self._label(column)  # type: ignore[index]
        table.refresh()

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
        for key in [k for k in self._shown if k not in wanted]:
            table.remove_row(key)
            del self._shown[key]
        sort_index = self._column_index(self.sort_by) if self.sort_by else -1
        resort = False
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is cells:
                continue  # the very same row tuple: unchanged
            if old is None:
                table.add_row(*self._render_cells(cells), key=key)
                resort = True
            elif old != cells:
                for index, (before, after) in enumerate(zip(old, cells, strict=False)):
                    if before != after:
                        column = self.columns[index]
                        text = after.render(column)
                        # Only a wider cell widens its column. DataTable re-measures the
                        # whole column for every narrower cell updated with update_width
                        # (thousands of rows x changed cells); columns just do not shrink.
                        wider = text.cell_len > table.columns[column.key].content_width  # type: ignore[index]
                        table.update_cell(key, column.key, text, update_width=wider)
                        resort = resort or index == sort_index
            self._shown[key] = cells
        if resort:
            self._apply_sort()

    def _render_cells(self, cells: Sequence[Cell]) -> list[SortText]:
        return [c.render(col) for c, col in zip(cells, self.columns, strict=False)]

    def _apply_sort(self) -> None:
        if self.sort_by is None or not self._shown:
            return
        reverse = self.sort_reverse
        self.table.sort(self.sort_by, key=sort_key_for(reverse), reverse=reverse)
