"""Consumer group drill-down: lag chart over time, per-partition lag with owners, members."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer

from mqctl.lag.model import GroupDetail
from mqctl.models.lag import LagEntry
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import DataUpdated, Kind, group_key
from mqctl_tui.formatting import count, duration, safe, severity, sparkline, status_style
from mqctl_tui.screens.detail_screen import DetailScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.lag_chart import LagChart
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

PARTITIONS = [
    Column("topic", "Topic", flex=True),
    Column("partition", "Part", numeric=True),
    Column("committed", "Committed", numeric=True, drop=3),
    Column("end", "End", numeric=True, drop=2),
    Column("lag", "Lag", numeric=True),
    Column("time", "Time lag", numeric=True),
    Column("trend", "Trend", sort_as="number", drop=1),
    Column("status", "Status", sort_as="number"),
    Column("owner", "Owner", flex=True),
]
MEMBERS = [
    Column("client", "Client", flex=True),
    Column("host", "Host", drop=1),
    Column("assignment", "Assignment", flex=True),
]


class GroupScreen(DetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("o", "reset_offsets", "Reset offsets")]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.backend, self.kind, _, self.group = key.split("|", 3)
        self.sub_title = f"group {safe(self.group)}"  # the header's breadcrumb
        self.entry: LagEntry | None = None

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary(f"Consumer group {safe(self.group)}", name=safe(self.group))
        yield LagChart(id="chart")
        yield LiveTable(
            PARTITIONS,
            title="Partitions",
            sort_by="lag",
            reverse=True,
            id="partitions",
            classes="panel",
        )
        with Horizontal(id="members-row"):
            yield LiveTable(
                MEMBERS, title="Members", sort_by="client", id="members", classes="panel"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#partitions", LiveTable).table.focus()
        # after the first refresh of the screen, so every child has composed
        self.call_after_refresh(mqctl_app(self).subscribe, Kind.LAG, self)

    def on_data_updated(self, message: DataUpdated) -> None:
        outcome = message.outcome
        if outcome.ok:
            for entry in outcome.data:
                if group_key(entry) == self.key:
                    self.entry = entry
                    break
            else:
                self.entry = None
            self._show_lag()
        else:
            table = self.query_one("#partitions", LiveTable)
            table.set_status(outcome.describe_error(), "error")

    def _show_lag(self) -> None:
        history = mqctl_app(self).lag_history
        self.query_one(LagChart).show(history.group(self.key))
        table = self.query_one("#partitions", LiveTable)
        entry = self.entry
        if entry is None:
            table.set_status("the group is not in the last lag snapshot", "warning")
            return
        rows: dict[str, list[Cell]] = {}
        for p in entry.partitions:
            status = safe(p.status)
            trend = sparkline(history.partition(self.key, p.topic, p.partition), 10)
            rows[f"{p.topic}/{p.partition}"] = [
                cell(safe(p.topic)),
                cell(p.partition, sort=p.partition),
                cell(count(p.committed_offset), sort=p.committed_offset),
                cell(count(p.end_offset), sort=p.end_offset),
                cell(count(p.lag), sort=p.lag, style="yellow" if p.lag else ""),
                cell(duration(p.time_lag_seconds), sort=p.time_lag_seconds),
                cell(trend, sort=p.lag, style="cyan"),
                cell(status, sort=severity(p.status), style=status_style(status)),
                cell(safe(p.owner or "unassigned"), style="" if p.owner else "dim"),
            ]
        table.set_rows(rows)
        table.set_status(
            f"{len(rows)} partitions · total lag {count(entry.total_lag)} · "
            f"status {entry.status} · max time lag {duration(entry.max_time_lag_seconds)}"
        )

    async def fetch(self) -> GroupDetail:
        return await mqctl_app(self).services.describe_group(f"{self.backend}:{self.group}")

    def show(self, data: Any, *, first: bool) -> None:
        detail: GroupDetail = data
        self.query_one(Summary).show_pairs(
            [
                ("state", safe(detail.state)),
                ("type", safe(detail.type)),
                ("assignor", safe(detail.protocol or "-")),
                ("members", str(len(detail.members))),
                ("coordinator", "-" if detail.coordinator is None else str(detail.coordinator)),
                ("protocol", safe(detail.protocol_type or "-")),
            ]
        )
        rows: dict[str, list[Cell]] = {}
        for m in detail.members:
            assignment = "; ".join(
                f"{topic}[{','.join(map(str, parts))}]" for topic, parts in m.assignment.items()
            )
            rows[m.member_id] = [
                cell(safe(m.client_id)),
                cell(safe(m.host)),
                cell(safe(assignment or "-")),
            ]
        members = self.query_one("#members", LiveTable)
        members.set_rows(rows)
        members.set_status(f"{len(rows)} members")

    def show_error(self, text: str) -> None:
        super().show_error(text)
        self.query_one("#members", LiveTable).set_status(text, "error")

    def action_reset_offsets(self) -> None:
        mqctl_app(self).reset_offsets(f"{self.backend}:{self.group}")
