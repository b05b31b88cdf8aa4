"""Topic drill-down: partitions (leader, replicas, ISR, offsets) and configs."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer

from mqctl.models.inventory import Destination, TopicDetail
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import count, safe
from mqctl_tui.screens.detail_screen import DestinationScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

PARTITIONS = [
    Column("partition", "Part", numeric=True),
    Column("leader", "Leader", numeric=True, drop=1),
    Column("replicas", "Replicas", drop=4),
    Column("isr", "ISR"),
    Column("start", "Start", numeric=True, drop=3),
    Column("end", "End", numeric=True, drop=2),
    Column("messages", "Messages", numeric=True),
]
CONFIGS = [
    Column("name", "Config", flex=True),
    Column("value", "Value", flex=True),
    Column("source", "Source", drop=1),
]


class TopicScreen(DestinationScreen):
    def __init__(self, name: str, backend: str = "kafka") -> None:
        super().__init__(Destination(backend, "topic", name))
        self.sub_title = f"topic {safe(name)}"  # the header's breadcrumb
        self.topic = name

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary(f"Topic {safe(self.topic)}", name=safe(self.topic))
        with Horizontal():
            yield LiveTable(
                PARTITIONS,
                title="Partitions",
                sort_by="partition",
                id="partitions",
                classes="panel",
            )
            yield LiveTable(
                CONFIGS, title="Configs (non-default first)", id="configs", classes="panel"
            )
        yield Footer()

    async def fetch(self) -> TopicDetail:
        return await mqctl_app(self).services.describe_topic(self.topic)

    def show(self, data: Any, *, first: bool) -> None:
        detail: TopicDetail = data
        self.query_one(Summary).show_pairs(
            [
                ("partitions", str(len(detail.partitions))),
                ("replication", str(detail.replication_factor)),
                ("messages", count(detail.messages)),
                ("internal", "yes" if detail.internal else "no"),
                (
                    "under-replicated",
                    str(sum(len(p.isr) < len(p.replicas) for p in detail.partitions)),
                ),
            ]
        )
        rows: dict[str, list[Cell]] = {}
        for p in detail.partitions:
            short_isr = len(p.isr) < len(p.replicas)
            rows[str(p.partition)] = [
                cell(p.partition, sort=p.partition),
                cell(
                    "-" if p.leader is None else p.leader,
                    sort=p.leader,
                    style="" if p.leader is not None else "red",
                ),
                cell(",".join(map(str, p.replicas))),
                cell(",".join(map(str, p.isr)), style="yellow" if short_isr else ""),
                cell(count(p.log_start_offset), sort=p.log_start_offset),
                cell(count(p.end_offset), sort=p.end_offset),
                cell(count(p.messages), sort=p.messages),
            ]
        partitions = self.query_one("#partitions", LiveTable)
        partitions.set_rows(rows)
        partitions.set_status(f"{len(rows)} partitions")
        configs = self.query_one("#configs", LiveTable)
        config_rows: dict[str, list[Cell]] = {}
        for entry in detail.configs:
            value = (
                "***" if entry.sensitive else safe(entry.value if entry.value is not None else "-")
            )
            config_rows[entry.name] = [
                cell(safe(entry.name), sort=(entry.is_default, entry.name).__str__()),
                cell(value, style="dim" if entry.is_default else "bold"),
                cell(safe(entry.source)),
            ]
        configs.set_rows(config_rows)
        configs.set_status(f"{sum(not c.is_default for c in detail.configs)} overridden")
        if first:
            configs.sort_on("name")
            partitions.table.focus()
