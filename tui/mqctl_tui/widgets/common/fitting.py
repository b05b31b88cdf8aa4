"""How a table fits its width: which columns show, how wide the name columns are, whether
counts are compact. Pure (no Textual), so the rules are plain to read and test.

Preference, best first: every column with whole numbers; every column with compact counts
(``3.1k``); then the ``optional`` columns left out one by one (highest ``drop`` first) until
the name columns get at least MIN_NAME_WIDTH. Numbers are never cut: a column is shown
whole or not at all. The sorted column is always shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from mqctl.output.render import compact_number
from mqctl_tui.widgets.common.cells import Cell, Column

MIN_NAME_WIDTH = 12  # below this a name says too little
ARROW = 2  # room for the sort arrow in a header


@dataclass(frozen=True, slots=True)
class Fit:
    visible: tuple[str, ...]  # column keys shown, in order
    name_widths: dict[str, int]  # each shown name column's width
    compact: bool


def share_out(wanted: dict[str, int], room: int) -> dict[str, int]:
    """``room`` cells among name columns: none more than it wants, none below MIN_NAME_WIDTH,
    and what a short one does not need goes to the others."""
    widths: dict[str, int] = {}
    left = room
    for n, key in enumerate(sorted(wanted, key=lambda k: wanted[k])):
        fair = left // (len(wanted) - n)
        widths[key] = max(MIN_NAME_WIDTH, min(wanted[key], fair))
        left -= widths[key]
    return widths


def column_widths(
    columns: Sequence[Column], rows: Iterable[Sequence[Cell]], sorted_by: str | None = None
) -> tuple[list[int], list[int]]:
    """(whole, compact) content widths of each column over ``rows`` (headers included)."""
    whole = [len(c.label) + (ARROW if c.key == sorted_by else 0) for c in columns]
    compact = list(whole)
    for cells in rows:
        for i, (column, shown) in enumerate(zip(columns, cells, strict=False)):
            width = cell_len(shown.text)
            whole[i] = max(whole[i], width)
            if column.numeric and shown.compactable:
                width = len(compact_number(shown.sort))
            compact[i] = max(compact[i], width)
    return whole, compact


def plan_fit(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    room: int,
    padding: int,
    keep: str | None = None,
) -> Fit:
    """The best way to show ``columns`` in ``room`` cells (``padding`` on each side of every
    cell); ``keep``: a column that stays (the sorted one)."""
    whole, compact = column_widths(columns, rows, keep)
    flex = [i for i, c in enumerate(columns) if c.flex]
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.drop and c.key != keep and not c.flex),
        key=lambda i: -columns[i].drop,
    )
    attempts: list[tuple[bool, set[int]]] = [(False, set()), (True, set())]
    dropped: set[int] = set()
    for i in droppable:
        dropped = dropped | {i}
        attempts.append((True, dropped))
    wanted = {columns[i].key: whole[i] for i in flex}
    for use_compact, hidden in attempts:
        widths = compact if use_compact else whole
        shown = [i for i in range(len(columns)) if i not in hidden]
        others = sum(widths[i] + 2 * padding for i in shown if i not in flex)
        names_room = room - others - 2 * padding * len(flex)
        fits = names_room >= MIN_NAME_WIDTH * len(flex) if flex else others <= room
        if fits or (use_compact, hidden) == attempts[-1]:
            keys = tuple(columns[i].key for i in shown)
            return Fit(keys, share_out(wanted, names_room), use_compact)
    raise AssertionError("unreachable: the last attempt always returns")
