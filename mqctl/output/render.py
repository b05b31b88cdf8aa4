"""Render models for people (rich tables) or programs (json, jsonl, yaml).

JSON field names are the dataclass field names (snake_case) and are part of the public
interface (docs/output.md): add fields, never rename or remove them.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from mqctl.errors import UsageError
from mqctl.output.sanitize import safe_text

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json", "jsonl", "yaml")


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    yaml = "yaml"


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes and bytes turned into plain JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def colour_allowed(stream: IO[str] | None = None) -> bool:
    """Colour only on a terminal and only when NO_COLOR is unset (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def make_console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = colour_allowed(stream)
    return Console(
        file=stream,
        no_color=not tty,
        color_system="auto" if tty else None,
        highlight=False,
        emoji=False,
        markup=False,
        # Not a terminal: never wrap or cut table cells, whatever $COLUMNS says.
        width=None if stream.isatty() else 100_000,
        soft_wrap=not stream.isatty(),
    )


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: header text and how to get the cell from an item."""

    header: str
    get: Callable[[Any], Any]
    justify: str = "left"
    style: Callable[[Any], str | None] | None = None
    # A name column: on a terminal too narrow for the table it is cut in the middle (``…``)
    # so that the other columns (status, figures) stay visible; ``--wide`` shows it whole.
    shrink: bool = False


def field_column(name: str, header: str | None = None, justify: str = "left") -> Column:
    return Column(header or name.upper().replace("_", " "), lambda x: getattr(x, name), justify)


ELLIPSIS = "…"


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes (CJK and most emoji take two)."""
    from rich.cells import cell_len

    return cell_len(text)


def middle_truncate(text: str, width: int) -> str:
    """``text`` cut in the middle to at most ``width`` terminal cells, ``…`` marking the cut:
    both ends of a name stay readable (``orders-eu-west…-retry.dlq``), which is where names
    differ. Widths are display cells, so wide characters are never split."""
    from rich.cells import cell_len, get_character_cell_size

    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    room = width - 1
    head_room, tail_room = room - room // 2, room // 2
    head, used = [], 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > head_room:
            break
        head.append(char)
        used += size
    tail, used = [], 0
    for char in reversed(text):
        size = get_character_cell_size(char)
        if used + size > tail_room:
            break
        tail.append(char)
        used += size
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


def compact_number(value: float) -> str:
    """A count in at most 6 cells: ``3,135`` -> ``3.1k``, ``2,000,000`` -> ``2.0M`` (for
    narrow tables: a shortened number, never a cut one)."""
    sign = "-" if value < 0 else ""
    number = abs(value)
    if number < 1000:
        return f"{sign}{number:g}" if isinstance(value, float) else f"{sign}{int(number)}"
    for unit in ("k", "M", "G", "T", "P", "E"):
        number /= 1000
        if number < 999.95:
            return f"{sign}{number:.1f}{unit}" if number < 99.95 else f"{sign}{number:.0f}{unit}"
    return f"{sign}{number:.0f}E"


def format_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ",".join(format_cell(v) for v in value) or "-"
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


MIN_SHRUNK = 12  # a name column is never cut below this many cells
COLUMN_GAP = 3  # cells between two columns: padding, the box's blank separator, padding


def fit_widths(widths: list[int], shrinkable: list[bool], room: int) -> list[int]:
    """Column widths that fit ``room`` cells by narrowing the shrinkable columns, widest
    first, never below MIN_SHRUNK; the others keep their width (figures are never cut)."""
    fitted = list(widths)
    excess = sum(fitted) + COLUMN_GAP * (len(fitted) - 1) - room
    while excess > 0:
        candidates = [i for i, ok in enumerate(shrinkable) if ok and fitted[i] > MIN_SHRUNK]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: fitted[i])
        others = [fitted[i] for i in candidates if i != widest]
        floor = max([MIN_SHRUNK, *others]) if others else MIN_SHRUNK
        cut = min(excess, fitted[widest] - floor) or 1  # equal widths: narrow them in turn
        fitted[widest] -= cut
        excess -= cut
    return fitted


def render_table(
    items: Sequence[Any],
    columns: Sequence[Column],
    console: Console,
    title: str | None = None,
    *,
    wide: bool = False,
) -> None:
    """``items`` as a table. On a terminal narrower than the table, name columns
    (``shrink``) are cut in the middle so every column stays visible, unless ``wide``;
    off a terminal (a pipe, a file) nothing is ever cut."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=title,
        box=box.SIMPLE_HEAD if console.is_terminal else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold" if console.is_terminal else "",
    )
    for column in columns:
        table.add_column(column.header, justify=column.justify, no_wrap=True)  # type: ignore[arg-type]
    rows = [[safe_text(format_cell(column.get(item))) for column in columns] for item in items]
    if console.is_terminal and not wide and any(c.shrink for c in columns):
        widths = [
            max([display_width(c.header), *(display_width(row[i]) for row in rows)])
            for i, c in enumerate(columns)
        ]
        fitted = fit_widths(widths, [c.shrink for c in columns], console.width)
        for i, width in enumerate(fitted):
            if width < widths[i]:
                for row in rows:
                    row[i] = middle_truncate(row[i], width)
    for item, row in zip(items, rows, strict=True):
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = Text(value)
            style = column.style(item) if column.style else None
            if style:
                text.stylize(style)
            cells.append(text)
        table.add_row(*cells)
    if wide and console.is_terminal:
        # Rich would squeeze the columns to the terminal: let the rows be as long as they are.
        width = console.width
        options = console.options.update(max_width=100_000)
        console.width = max(width, console.measure(table, options=options).maximum)
        try:
            console.print(table)
        finally:
            console.width = width
        return
    console.print(table)


# What JSON leaves unescaped with ensure_ascii=False but must not reach a terminal: C1
# controls (CSI 0x9b), line separators, bidi overrides, lone surrogates (names from brokers;
# a UTF-8 stdout cannot even write the last).
JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def terminal_safe_json(text: str) -> str:
    """JSON text with the characters of JSON_UNSAFE written as \\u escapes (same document)."""
    # Most output is plain ASCII without DEL: two C-speed checks instead of a regex scan.
    if text.isascii() and "\x7f" not in text:
        return text
    return JSON_UNSAFE.sub(_escape, text)


def json_text(data: Any, *, pretty: bool) -> str:
    """JSON of plain data: indented by two spaces, or compact (``,`` and ``:``); non-ASCII
    characters as they are. orjson writes it (the standard library pretty-prints in pure
    Python: ~0.15 s for a 3 MB lag document, orjson a few milliseconds); what orjson
    refuses (a lone surrogate, an integer beyond 64 bits) goes to the standard library,
    which writes the same text."""
    import orjson

    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
    except TypeError:  # orjson.JSONEncodeError
        if pretty:
            return json.dumps(data, indent=2, ensure_ascii=False)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_json(data: Any, out: IO[str], *, pretty: bool = True) -> None:
    """Plain data (JSON types only, see :func:`to_jsonable`) as terminal-safe JSON + newline."""
    out.write(terminal_safe_json(json_text(data, pretty=pretty)))
    out.write("\n")


def dump_json(data: Any, out: IO[str]) -> None:
    write_json(to_jsonable(data), out)


def dump_jsonl(items: Iterable[Any], out: IO[str]) -> None:
    for item in items:
        write_json(to_jsonable(item), out, pretty=False)


def dump_yaml(data: Any, out: IO[str]) -> None:
    import yaml

    yaml.safe_dump(to_jsonable(data), out, sort_keys=False, allow_unicode=True)


def render(
    data: Any,
    fmt: str,
    *,
    columns: Sequence[Column] | None = None,
    title: str | None = None,
    table: Callable[[Any, Console], None] | None = None,
    wide: bool = False,
) -> None:
    """Render ``data`` (a list of models, or one model) in the requested format (``wide``:
    never cut name columns to the terminal's width)."""
    out = sys.stdout
    if fmt == "json":
        dump_json(data, out)
    elif fmt == "jsonl":
        dump_jsonl(data if isinstance(data, list) else [data], out)
    elif fmt == "yaml":
        dump_yaml(data, out)
    elif fmt == "table":
        console = make_console()
        if table is not None:
            table(data, console)
        else:
            assert columns is not None
            items = data if isinstance(data, list) else [data]
            render_table(items, columns, console, title, wide=wide)
    else:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
