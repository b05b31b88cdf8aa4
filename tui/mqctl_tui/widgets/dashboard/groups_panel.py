"""Dashboard: Kafka consumer groups with status colour, lag, time lag and a trend sparkline."""

from __future__ import annotations

from typing import Any

from mqctl.models.lag import LagEntry
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import Kind, group_key
from mqctl_tui.formatting import count, duration, safe, severity, sparkline, status_style
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import Cell, Column, cell

COLUMNS = [
    Column("group", "Group", flex=True),
    Column("status", "Status", sort_as="number"),
    Column("lag", "Lag", numeric=True),
    Column("time", "Max time lag", numeric=True),
    Column("trend", "Trend", sort_as="number", drop=2),
    Column("members", "Members", numeric=True, drop=1),
    Column("topics", "Topics", flex=True),
]


class GroupsPanel(DataPanel):
    KINDS = (Kind.LAG,)
    NOUN = "groups"
    PURE = False  # the trend column moves with the lag history on every refresh

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, title="Consumer groups", sort_by="lag", reverse=True, **kwargs)

    def build_rows(self) -> dict[str, list[Cell]] | None:
        entries: list[LagEntry] = self.data.get(Kind.LAG) or []
        history = mqctl_app(self).lag_history
        rows: dict[str, list[Cell]] = {}
        self.payload = {}
        for entry in entries:
            if entry.kind != "group":
                continue
            key = group_key(entry)
            self.payload[key] = entry
            rows[key] = group_row(entry, history.group(key))
        return rows


def group_row(entry: LagEntry, trend: list[int]) -> list[Cell]:
    """One group's cells; the status is the core's (``mqctl.rules``), shown as it is."""
    status = safe(entry.status)
    return [
        cell(safe(entry.group), sort=entry.group.lower()),
        cell(status, sort=severity(entry.status), style=status_style(status)),
        cell(count(entry.total_lag), sort=entry.total_lag),
        cell(duration(entry.max_time_lag_seconds), sort=entry.max_time_lag_seconds),
        cell(sparkline(trend), sort=entry.total_lag, style="cyan"),
        cell(entry.members, sort=entry.members),
        cell(safe(", ".join(entry.topics))),
    ]
