"""Small, pure helpers that turn service data into short display strings.

Every piece of broker data shown in the TUI goes through :func:`safe` first, so escape
sequences in names, keys, headers or values never reach the terminal raw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mqctl.models.lag import LagStatus
from mqctl.output.sanitize import safe_text

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def safe(value: object) -> str:
    """Untrusted text made safe for the terminal (control characters escaped)."""
    return safe_text("" if value is None else str(value))


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def rate(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f}/s"


def duration(seconds: float | None) -> str:
    """``None`` -> "-", otherwise a compact human duration (``3m 05s``, ``2h 10m``, ``4d 3h``)."""
    if seconds is None or math.isnan(seconds):
        return "-"
    if math.isinf(seconds):
        return "never"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def drain_time(seconds: float | None) -> str:
    """A drain estimate of ``mqctl.rules.drain_seconds``: None means it never drains at the
    current rates (the CLI's "never")."""
    return "never" if seconds is None else duration(seconds)


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """A text sparkline of the last ``width`` values, scaled from a baseline of 0 to the
    largest value: a lag going from 1,000 to 1,010 stays a flat line, not a cliff (scaling
    from the smallest value would draw a 1 % change as full height)."""
    data = [v if math.isfinite(v) and v > 0 else 0.0 for v in list(values)[-width:]]
    if not data:
        return ""
    high = max(data)
    if high <= 0:
        return SPARK_CHARS[0] * len(data)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round(v / high * top)] for v in data)


def trend(values: Sequence[float]) -> str:
    """An arrow for the direction of the last two values."""
    if len(values) < 2 or values[-1] == values[-2]:
        return "→"
    return "↑" if values[-1] > values[-2] else "↓"


def status_style(status: str) -> str:
    """Colour for a LagStatus value (OK green, WARN/LAGGING yellow, STOP/ERROR red)."""
    return {
        "OK": "green",
        "LAGGING": "yellow",
        "WARN": "yellow",
        "REWIND": "magenta",
        "STALL": "red",
        "STOPPED": "bold red",
        "STOP": "bold red",
        "ERROR": "bold red",
    }.get(status, "")


def severity(status: object) -> int | None:
    """How bad a status is, for sorting; None for a status this TUI does not know (the
    core may add new ones, e.g. UNKNOWN when a broker cannot be asked: shown, never fatal)."""
    return status.severity if isinstance(status, LagStatus) else None


def hexdump(data: bytes, limit: int = 4096) -> str:
    """``offset  hex bytes  |ascii|`` lines (non-printable bytes as ``.``)."""
    lines = []
    for start in range(0, min(len(data), limit), 16):
        chunk = data[start : start + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start:08x}  {hexes:<47}  |{text}|")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes")
    return "\n".join(lines)
