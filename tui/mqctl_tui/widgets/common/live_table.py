"""A DataTable with filter-as-you-type and sort that updates its rows in place.

Callers hand over the complete data on every refresh (:meth:`LiveTable.set_rows`); the table
diffs it against what it shows: changed cells are updated with ``update_cell``, new rows are
added, vanished (or filtered-out) rows removed. Nothing is rebuilt, so the cursor and the
scroll position survive a refresh.

Any size: name columns (``Column.flex``) get the width left by the other columns and are
cut in the middle; when even that is too little, counts switch to their compact form. A
column shrinks again when its widest value goes (DataTable only ever widens by itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from mqctl.output.render import middle_truncate
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.guard import describe
from mqctl_tui.widgets.common.cells import (
    Cell as Cell,
)
from mqctl_tui.widgets.common.cells import (
    Column as Column,
)
from mqctl_tui.widgets.common.cells import (
    SortText,
    sort_key_for,
)
from mqctl_tui.widgets.common.cells import (
    cell as cell,
)
from mqctl_tui.widgets.common.fitting import plan_fit

NAME_WIDTH = 40  # a name column's width before the table knows its own


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
        self._name_widths: dict[str, int] = {c.key: NAME_WIDTH for c in self.columns if c.flex}
        self._compact = False
        self._visible_keys = tuple(c.key for c in self.columns)  # (fit() may leave some out)
        self._narrowed: set[str] = set()  # columns where a value got narrower (may shrink)
        self._selected_name = ""  # the full name of the highlighted row, when cut
        self._filter = Input(placeholder="/ filter…", classes="filter")
        self._table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)
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
        for column in self.visible_columns:
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
        removed = False
        for key in [k for k in self._shown if k not in wanted]:
            table.remove_row(key)
            del self._shown[key]
            removed = True
        if not self._shown and wanted:
            # A first fill (thousands of rows, maybe): fit for them before adding them, not
            # after (which would render every name and count twice).
            self.fit(wanted.values())
        sort_index = self._column_index(self.sort_by) if self.sort_by else -1
        resort = added = False
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
                        # Only a wider cell widens its column here. DataTable re-measures
                        # the whole column for every narrower cell updated with
                        # update_width (thousands of rows x changed cells): narrower cells
                        # are noted, and _shrink_columns measures once after the sync.
                        width = table.columns[column.key].content_width  # type: ignore[index]
                        wider = text.cell_len > width
                        added = added or wider  # (a column grew: the names may get less)
                        if text.cell_len < width:
                            self._narrowed.add(column.key)
                        table.update_cell(key, column.key, text, update_width=wider)
                        resort = resort or index == sort_index
            self._shown[key] = cells
        if resort:
            self._apply_sort()
        if added or removed:
            # rows came or went, or a column grew: fit again (not on every refresh)
            self.fit()
        if removed:
            self._shrink_columns()  # any column's widest value may have gone
        elif self._narrowed:
            self._shrink_columns(narrowed=self._narrowed)
        self._narrowed = set()

    def _render_cell(self, cell: Cell, column: Column) -> SortText:
        return cell.render(column, self._name_widths.get(column.key), self._compact)

    def _render_cells(self, cells: Sequence[Cell]) -> list[SortText]:
        visible = self._visible_keys
        return [
            self._render_cell(c, col)
            for c, col in zip(cells, self.columns, strict=False)
            if col.key in visible
        ]

    # -- fitting the width -----------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self.fit()
        self._show_status_line()  # (the selected name gets the line's new width)

    def fit(self, rows: Iterable[Sequence[Cell]] | None = None) -> None:
        """Columns shown, name width and compact counts for the current width
        (:func:`~mqctl_tui.widgets.common.fitting.plan_fit`) over the shown rows (or
        ``rows``, about to be shown); applied when they change."""
        table = self.table
        room = self.size.width - 2  # the vertical scrollbar
        if room <= 0 or not table.columns:
            return
        plan = plan_fit(
            self.columns,
            self._shown.values() if rows is None else rows,
            room,
            table.cell_padding,
            keep=self.sort_by,
        )
        if plan.visible != self._visible_keys:
            self._visible_keys = plan.visible
            self._name_widths, self._compact = plan.name_widths, plan.compact
            self._rebuild()
        elif (plan.name_widths, plan.compact) != (self._name_widths, self._compact):
            before = (dict(self._name_widths), self._compact)
            self._name_widths, self._compact = plan.name_widths, plan.compact
            self._rerender(*before)

    @property
    def visible_columns(self) -> list[Column]:
        return [c for c in self.columns if c.key in self._visible_keys]

    def _rebuild(self) -> None:
        """The DataTable again with the columns now visible (after a resize: rare)."""
        table = self.table
        selected = self.selected_key
        table.clear(columns=True)
        for column in self.visible_columns:
            table.add_column(self._label(column), key=column.key)
        for key, cells in self._shown.items():
            table.add_row(*self._render_cells(cells), key=key)
        self._apply_sort()
        if selected is not None and selected in self._shown:
            table.move_cursor(row=table.get_row_index(selected))

    def _rerender(self, widths: dict[str, int], compact: bool) -> None:
        """The names and counts whose shown text changes with the new widths (names longer
        than the narrower of the two widths; compactable counts when ``compact`` flipped),
        and only those: at thousands of rows most names are short."""
        table = self.table
        changing = [
            (self._column_index(c.key), c, min(widths.get(c.key, 0), self._name_widths[c.key]))
            for c in self.visible_columns
            if c.flex and widths.get(c.key) != self._name_widths.get(c.key)
        ]
        if compact != self._compact:
            changing += [
                (self._column_index(c.key), c, 0) for c in self.visible_columns if c.numeric
            ]
        for key, cells in self._shown.items():
            for index, column, fits in changing:
                shown = cells[index]
                if column.flex and cell_len(shown.text) <= fits:
                    continue  # shown whole before and after
                if column.numeric and not shown.compactable:
                    continue
                table.update_cell(key, column.key, self._render_cell(shown, column))
        self._shrink_columns(only={column.key for _, column, _ in changing})

    def _shrink_columns(
        self, *, only: set[str] | None = None, narrowed: set[str] | None = None
    ) -> None:
        """Columns wider than their widest value now (it went away, or got narrower) are
        measured again: DataTable re-measures a column when one of its cells is updated
        with update_width and is narrower than the column. ``narrowed``: just these columns;
        ``only``: just these, whose width may have changed either way (a new name width,
        compact counts)."""
        table = self.table
        first = next(iter(self._shown), None)
        if first is None:
            return
        compact = self._compact
        for column in self.visible_columns:
            if (only is not None and column.key not in only) or (
                narrowed is not None and column.key not in narrowed
            ):
                continue
            width = self._name_widths.get(column.key)
            index = self._column_index(column.key)
            shown = table.columns.get(column.key)  # type: ignore[call-overload]
            if shown is None:
                continue
            texts = (c[index].shown(column, width, compact) for c in self._shown.values())
            needed = max([cell_len(str(shown.label)), *map(cell_len, texts)])
            if needed < shown.content_width or (only is not None and needed != shown.content_width):
                text = self._render_cell(self._shown[first][index], column)
                table.update_cell(first, column.key, text, update_width=True)

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

    def _apply_sort(self) -> None:
        if self.sort_by is None or not self._shown:
            return
        reverse = self.sort_reverse
        self.table.sort(self.sort_by, key=sort_key_for(reverse), reverse=reverse)
        self._show_selected()  # the cursor stays on its line: another row is under it
