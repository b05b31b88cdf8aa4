"""The tables of ``mqctl lag``: one row per group or queue, then (``--partitions``) one per
partition. Also used by ``mqctl groups`` (time lag and owners), the fleet view and the TUI's
rule-agreement tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mqctl.output.render import Column

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from mqctl.models.lag import LagEntry


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    seconds = int(value)
    if seconds < 120:
        return f"{value:.1f}s" if value < 10 else f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:g}/s"


def _detail(entry: LagEntry) -> str:
    if entry.error and entry.kind not in ("group", "queue"):
        return entry.error  # a broker that could not be sampled: why
    q = entry.queue
    lost = f" ({entry.total_records_lost} records lost)" if entry.total_records_lost else ""
    if q is None:
        return (",".join(entry.topics) or "-") + lost
    if entry.error:
        return entry.error
    return (
        f"ready={q.ready} unacked={q.unacked} in={_rate(q.publish_rate)} "
        f"out={_rate(q.ack_rate if q.ack_rate is not None else q.deliver_rate)} "
        f"drain={fmt_seconds(q.drain_seconds) if q.drain_seconds is not None else 'never'}"
    )


def _consumers(entry: LagEntry) -> int | str:
    if entry.kind == "backend":  # a broker that could not be sampled: not known
        return "-"
    return entry.queue.consumers if entry.queue is not None else entry.members


def _total_lag(entry: LagEntry) -> int | str:
    return "-" if entry.kind == "backend" else entry.total_lag


def _status_style(item: Any) -> str | None:
    from mqctl.models.lag import LagStatus

    status = item.status
    if status is LagStatus.OK:
        return "green"
    return "yellow" if status.severity == 1 else "red"


SUMMARY_COLUMNS = [
    Column("BACKEND", lambda e: e.backend),
    Column("KIND", lambda e: e.kind),
    Column("GROUP/QUEUE", lambda e: e.group, shrink=True),
    Column("STATUS", lambda e: e.status.value, style=_status_style),
    Column("LAG", _total_lag, "right"),
    Column("TIME LAG", lambda e: fmt_seconds(e.max_time_lag_seconds), "right"),
    Column("CONSUMERS", _consumers, "right"),
    Column("STATE", lambda e: e.state),
    Column("TOPICS / QUEUE DEPTH", _detail, shrink=True),
]


def short_owner(owner: str | None) -> str | None:
    if not owner:
        return None
    _member, _, rest = owner.partition("/")
    client, _, host = rest.partition("/")
    return f"{client}@{host}" if host else client


PARTITION_COLUMNS = [
    Column("GROUP", lambda r: r[0].group),
    Column("TOPIC", lambda r: r[1].topic),
    Column("PARTITION", lambda r: r[1].partition, "right"),
    Column("COMMITTED", lambda r: r[1].committed_offset, "right"),
    Column("START", lambda r: r[1].log_start_offset, "right"),
    Column("END", lambda r: r[1].end_offset, "right"),
    Column("LAG", lambda r: r[1].lag, "right"),
    Column("TIME LAG", lambda r: fmt_seconds(r[1].time_lag_seconds), "right"),
    Column("STATUS", lambda r: r[1].status.value, style=lambda r: _status_style(r[1])),
    Column("OWNER", lambda r: short_owner(r[1].owner)),
]
ESTIMATE_COLUMN = Column(
    "EST. TIME LAG", lambda r: fmt_seconds(r[1].estimated_time_lag_seconds), "right"
)
LOST_COLUMN = Column("LOST", lambda r: r[1].records_lost, "right")


def _partition_columns(rows: list[tuple[LagEntry, Any]]) -> list[Column]:
    """Partition columns; the interpolated estimate once --watch/--window produced one, the
    records lost to retention/deletion when a partition has some."""
    columns = list(PARTITION_COLUMNS)
    if any(p.records_lost for _, p in rows):
        at = next(i for i, c in enumerate(columns) if c.header == "LAG") + 1
        columns.insert(at, LOST_COLUMN)
    if any(p.estimated_time_lag_seconds is not None for _, p in rows):
        at = next(i for i, c in enumerate(columns) if c.header == "TIME LAG") + 1
        columns.insert(at, ESTIMATE_COLUMN)
    return columns


def build_tables(entries: list[LagEntry], partitions: bool) -> list[RenderableType]:
    """Rich renderables: the summary table and, when asked, one row per partition."""
    import io

    from rich.console import Console

    from mqctl.output.render import render_table

    # render_table prints; capture into a recording console to reuse it under Live.
    out: list[RenderableType] = []
    console = Console(file=io.StringIO(), record=True, width=200)
    render_table(entries, SUMMARY_COLUMNS, console)
    if partitions:
        rows = [(e, p) for e in entries for p in e.partitions]
        if rows:
            render_table(rows, _partition_columns(rows), console)
    from rich.text import Text

    out.append(Text.from_ansi(console.export_text(styles=True)))
    return out


def render_entries(
    entries: list[LagEntry], console: Console, partitions: bool, wide: bool = False
) -> None:
    from mqctl.output.render import render_table

    if not entries:
        console.print("No consumer groups or queues found.")
        return
    render_table(entries, SUMMARY_COLUMNS, console, wide=wide)
    rows = [(e, p) for e in entries for p in e.partitions]
    if partitions and rows:
        console.print()
        render_table(rows, _partition_columns(rows), console, wide=wide)
