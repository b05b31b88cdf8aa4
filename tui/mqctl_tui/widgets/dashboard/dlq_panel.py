"""Dashboard: dead-letter topics and queues with their depth.

A topic or queue is listed when the core's DLQ rule (``mqctl.rules.is_dlq_name``: the
broker's naming conventions plus the context's ``dlq-patterns``) says so: the same rule as
``mqctl dlq list``.
"""

from __future__ import annotations

from typing import Any

from mqctl.models.inventory import Destination, QueueSummary, TopicSummary
from mqctl.rules import is_dlq_name
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import Kind
from mqctl_tui.formatting import count, safe
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import Cell, Column, cell

COLUMNS = [
    Column("name", "Dead letters", flex=True),
    Column("kind", "Kind", drop=1),
    Column("depth", "Depth", numeric=True),
]


class DlqPanel(DataPanel):
    KINDS = (Kind.TOPICS, Kind.QUEUES)
    NOUN = "DLQs"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, title="DLQ", sort_by="depth", reverse=True, **kwargs)

    def build_rows(self) -> dict[str, list[Cell]] | None:
        patterns = mqctl_app(self).context.dlq_patterns
        rows: dict[str, list[Cell]] = {}
        self.payload = {}
        topics: list[TopicSummary] = self.data.get(Kind.TOPICS) or []
        queues: list[QueueSummary] = self.data.get(Kind.QUEUES) or []
        for t in topics:
            if is_dlq_name(t.name, t.backend or "kafka", patterns):
                key = f"{t.backend}:{t.name}"
                self.payload[key] = Destination(t.backend or "kafka", "topic", t.name)
                rows[key] = self._row(t.name, "topic", t.messages)
        for q in queues:
            if is_dlq_name(q.name, q.backend or "rabbitmq", patterns):
                key = f"{q.backend}:{q.vhost}/{q.name}"
                self.payload[key] = Destination(q.backend or "rabbitmq", "queue", q.name, q.vhost)
                rows[key] = self._row(q.name, "queue", q.messages)
        return rows

    @staticmethod
    def _row(name: str, kind: str, depth: int) -> list[Cell]:
        return [
            cell(safe(name), sort=name.lower()),
            cell(kind),
            cell(count(depth), sort=depth, style="bold red" if depth else "green"),
        ]

    def destination(self, key: str | None) -> Destination | None:
        found = self.payload.get(key or "")
        return found if isinstance(found, Destination) else None
