"""Dashboard: Kafka topics."""

from __future__ import annotations

from typing import Any

from mqctl.models.inventory import Destination, TopicSummary
from mqctl_tui.data import Kind
from mqctl_tui.formatting import count, safe
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import Cell, Column, cell

COLUMNS = [
    Column("name", "Topic", flex=True),
    Column("partitions", "Parts", numeric=True),
    Column("rf", "RF", numeric=True, drop=1),
    Column("messages", "Messages", numeric=True),
]


class TopicsPanel(DataPanel):
    KINDS = (Kind.TOPICS,)
    NOUN = "topics"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, title="Topics", sort_by="name", **kwargs)

    def build_rows(self) -> dict[str, list[Cell]] | None:
        topics: list[TopicSummary] = self.data.get(Kind.TOPICS) or []
        rows: dict[str, list[Cell]] = {}
        self.payload = {}
        for topic in topics:
            key = f"{topic.backend}:{topic.name}"
            self.payload[key] = topic
            rows[key] = [
                cell(safe(topic.name), sort=topic.name.lower()),
                cell(topic.partitions, sort=topic.partitions),
                cell(topic.replication_factor, sort=topic.replication_factor),
                cell(count(topic.messages), sort=topic.messages),
            ]
        return rows

    def destination(self, key: str | None) -> Destination | None:
        topic = self.payload.get(key or "")
        if topic is None:
            return None
        return Destination(topic.backend or "kafka", "topic", topic.name)
