"""Parsing of the durations, datetimes, topic selections and plan files users type."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime

from mqctl.errors import UsageError

MAX_DURATION = 1e10  # seconds (~317 years)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_ISO = re.compile(
    r"P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def _finite(seconds: float, text: str, what: str) -> float:
    """NaN, infinity and durations past ~300 years are refused: no sleep, timer or clock
    computation may receive them (``--watch inf`` would wait forever)."""
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise UsageError(f"invalid {what} {text!r}: not a finite duration of at most 1e10 s")
    return seconds


def parse_duration(text: str, what: str = "duration") -> float:
    """Seconds from ``90``, ``30s``, ``5m``, ``1h30m``, ``2d`` or ISO 8601 ``PT1H``."""
    raw = text.strip().lower()
    if not raw:
        raise UsageError(f"empty {what}")
    if len(raw) > 64:  # the unit regexes backtrack quadratically on long digit runs
        raise UsageError(f"invalid {what} {text[:20]!r}...: longer than 64 characters")
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        if value < 0:
            raise UsageError(f"{what} must not be negative: {text!r}")
        return _finite(value, text, what)
    if raw.startswith("p"):
        match = _ISO.fullmatch(raw.upper())
        if match and any(match.groupdict().values()):
            g = {k: float(v or 0) for k, v in match.groupdict().items()}
            return _finite(g["d"] * 86400 + g["h"] * 3600 + g["m"] * 60 + g["s"], text, what)
    else:
        parts = _PART.findall(raw)
        if parts and "".join(n + u for n, u in parts) == raw:
            return _finite(sum(float(n) * _UNITS[u] for n, u in parts), text, what)
    raise UsageError(
        f"invalid {what} {text!r}", hint="use e.g. 30s, 5m, 1h30m, 2d or ISO 8601 like PT1H"
    )


def parse_datetime_ms(text: str) -> int:
    """Epoch ms from ISO 8601; without a zone the local time zone is meant (as Kafka's tool)."""
    raw = text.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"invalid datetime {text!r}", hint="use ISO 8601, e.g. 2024-05-01T12:00:00Z"
        ) from None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # local time, like kafka-consumer-groups --to-datetime
        ms = int(parsed.astimezone(UTC).timestamp() * 1000)
    except (OverflowError, ValueError, OSError):  # e.g. 0001-01-01 east of UTC
        raise UsageError(f"invalid datetime {text!r}: outside the supported range") from None
    return checked_epoch_ms(ms, f"datetime {text!r}")


def checked_epoch_ms(ms: int, what: str) -> int:
    """Record timestamps are epoch milliseconds and never negative: a time before 1970 is bad
    input (exit 2) here, not a broker's cryptic refusal (Kafka answers ListOffsets for a
    negative timestamp with UNSUPPORTED_VERSION)."""
    if ms < 0:
        raise UsageError(
            f"{what} is before 1970-01-01T00:00:00Z, the earliest time a record can have",
            hint="use a later time, or start at the beginning (--from-beginning / --to-earliest)",
        )
    return ms


def parse_topic_selection(text: str) -> tuple[str, tuple[int, ...] | None]:
    """``orders`` -> all partitions; ``orders:0,2`` -> partitions 0 and 2."""
    topic, sep, parts = text.rpartition(":")
    if not sep:
        return text, None
    if not topic:
        raise UsageError(f"invalid --topic {text!r}: empty topic name")
    try:
        partitions = tuple(sorted({int(p) for p in parts.split(",") if p.strip()}))
    except ValueError:
        # A colon that is not followed by partition numbers belongs to the name.
        return text, None
    if not partitions or any(p < 0 for p in partitions):
        raise UsageError(f"invalid partitions in --topic {text!r}")
    return topic, partitions


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_plan_csv(text: str, source: str) -> tuple[tuple[str, int, int], ...]:
    """Rows ``topic,partition,offset`` (kafka-consumer-groups' format; a header is allowed)."""
    rows: list[tuple[str, int, int]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        numbered = list(enumerate(reader, start=1))
    except csv.Error as exc:  # e.g. a field larger than csv's limit
        raise UsageError(f"{source}:{reader.line_num}: not a valid CSV plan ({exc})") from None
    for number, row in numbered:
        shown = _shorten(",".join(row))
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() == "topic":
            continue
        try:
            topic, partition, offset = row[0].strip(), int(row[1]), int(row[2])
        except (IndexError, ValueError):
            raise UsageError(
                f"{source}:{number}: expected topic,partition,offset, got {shown!r}"
            ) from None
        if not topic or partition < 0 or offset < 0:
            raise UsageError(f"{source}:{number}: invalid row {shown!r}")
        rows.append((topic, partition, offset))
    if not rows:
        raise UsageError(f"{source}: no offsets in the plan file")
    return tuple(rows)


def write_plan_csv(rows: list[tuple[str, int, int]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
