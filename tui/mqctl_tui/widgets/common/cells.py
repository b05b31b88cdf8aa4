"""Table cells: what a row shows, how it sorts (typed per column), how it fits its width.

A :class:`Cell` keeps the full text; :meth:`Cell.render` makes what the DataTable shows:
name columns (``flex``) cut in the middle to the width the table gives them, counts in
numeric columns in compact form (``3.1k``) when the table is too narrow for them whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from mqctl.output.render import compact_number, middle_truncate

COMPACT_FROM = 10_000  # counts from here on have a compact form (3,135 stays whole)


@dataclass(frozen=True, slots=True)
class Column:
    """A column. ``numeric`` columns are right-aligned and sort by number (counts, rates,
    durations: a cell's ``sort`` value); ``sort_as`` overrides the sort type ("number" for
    a text column sorted by a number, e.g. a status by severity; "text" otherwise)."""

    key: str
    label: str
    numeric: bool = False
    sort_as: str = ""
    # A name column: cut in the middle (``…``) to what the table can give it, so the other
    # columns stay visible; the full name is in the row's tooltip and status line.
    flex: bool = False
    # Left out when the table is too narrow for every column: higher numbers go first
    # (0: always shown).
    drop: int = 0

    @property
    def sorts_numbers(self) -> bool:
        return self.sort_as == "number" or (self.numeric and self.sort_as != "text")


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: the (already safe) text, the value to sort by, and a style."""

    text: str
    sort: Any = None
    style: str = ""

    @property
    def compactable(self) -> bool:
        value = self.sort
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= COMPACT_FROM

    def shown(self, column: Column, width: int | None = None, compact: bool = False) -> str:
        """The shown text: cut in the middle to ``width`` in a flex column; a count in
        compact form with ``compact`` in a numeric column (never a cut number)."""
        if column.flex and width is not None:
            return middle_truncate(self.text, width)
        if compact and column.numeric and self.compactable:
            return compact_number(self.sort)
        return self.text

    def render(self, column: Column, width: int | None = None, compact: bool = False) -> SortText:
        return SortText(
            self.shown(column, width, compact),
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
        value = cell.sort_key if isinstance(cell, SortText) else None
        if value is None:
            return (missing, 0)
        return (0, value)

    return key


def cell(value: Any, *, sort: Any = None, style: str = "") -> Cell:
    return Cell(str(value), sort, style)
