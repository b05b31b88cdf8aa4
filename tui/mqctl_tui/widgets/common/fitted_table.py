"""The DataTable side of a LiveTable: typed sorting, and fitting the table to its width.

Name columns (``Column.flex``) get the width left by the other columns and are cut in the
middle; when even that is too little, counts switch to their compact form, then optional
columns are left out (:mod:`~mqctl_tui.widgets.common.fitting` decides). A column shrinks
again when its widest value goes (DataTable only ever widens by itself). Applying a new fit
touches only the cells whose text changes: tables hold thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from mqctl_tui.widgets.common.cells import Cell, Column, SortText, sort_key_for
from mqctl_tui.widgets.common.fitting import plan_fit

NAME_WIDTH = 40  # a name column's width before the table knows its own


def text_width(text: Text) -> int:
    """What Textual's ``measure`` answers for a Text (its widest line), without the
    console round trip."""
    return max(map(cell_len, text.plain.splitlines()), default=0)


class MeasuredTable(DataTable[Any]):
    """A DataTable that sizes its columns for new rows of SortText cells itself.

    DataTable measures every cell of every new row through the console, which builds the
    console's options and asks the OS for the terminal size for each cell: at 5,000 queues
    that was about a third of the app's CPU time to its first full paint (cProfile; see
    docs/benchmarks.md, "TUI first paint"). Our cells are one-line SortText whose width is
    their text's; any other row (a label, a height other than 1, another cell type) is left
    to DataTable. tests/tui/test_fitting.py checks the widths against DataTable's own."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        others: list[RowKey] = []
        columns = self.ordered_columns
        for row_key in new_rows:
            cells = self._data.get(row_key)
            row = self.rows.get(row_key)
            if cells is None or row is None:
                continue  # removed before the table was idle (as DataTable does)
            values = [cells.get(column.key) for column in columns]
            if (
                row.label is not None
                or row.height != 1
                or row.auto_height
                or not all(isinstance(value, SortText) for value in values)
            ):
                others.append(row_key)
                continue
            for column, value in zip(columns, values, strict=True):
                width = text_width(value)  # type: ignore[arg-type]
                if width > column.content_width:
                    column.content_width = width
        super()._update_dimensions(others)  # (and the table's size, as after any rows)


class FittedTable(Vertical):
    """Holds the DataTable, the columns, the rows shown and how they fit."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        sort_by: str | None = None,
        reverse: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.sort_by = sort_by
        self.sort_reverse = reverse
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._name_widths: dict[str, int] = {c.key: NAME_WIDTH for c in self.columns if c.flex}
        self._compact = False
        self._visible_keys = tuple(c.key for c in self.columns)  # (fit() may leave some out)
        self._narrowed: set[str] = set()  # columns where a value got narrower (may shrink)
        self._table: DataTable[Any] = MeasuredTable(cursor_type="row", zebra_stripes=True)

    def _after_sort(self) -> None:
        """Called after every sort (the row under the cursor may be another one)."""

    def _after_resize(self) -> None:
        """Called after a resize was fitted."""

    @property
    def table(self) -> DataTable[Any]:
        return self._table

    @property
    def selected_key(self) -> str | None:
        table = self.table
        if not self._shown or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

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
        self._after_resize()

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

    def _apply_sort(self) -> None:
        if self.sort_by is None or not self._shown:
            return
        reverse = self.sort_reverse
        self.table.sort(self.sort_by, key=sort_key_for(reverse), reverse=reverse)
        self._after_sort()
