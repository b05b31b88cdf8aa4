"""Dashboard: RabbitMQ queues with depth, consumers, rates and a drain estimate."""

from __future__ import annotations

import math
from typing import Any

from mqctl.models.inventory import Destination, QueueSummary
from mqctl.rules import queue_drain_seconds
from mqctl_tui.data import Kind
from mqctl_tui.formatting import count, drain_time, rate, safe
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import Cell, Column, cell

COLUMNS = [
    Column("name", "Queue", flex=True),
    Column("vhost", "Vhost", drop=4),
    Column("type", "Type", drop=3),
    Column("ready", "Ready", numeric=True),
    Column("unacked", "Unacked", numeric=True, drop=2),
    Column("consumers", "Cons", numeric=True),
    Column("in", "In", numeric=True, drop=1),
    Column("out", "Out", numeric=True),
    Column("drain", "Drain", numeric=True),
]


def queue_key(queue: QueueSummary) -> str:
    return f"{queue.backend}:{queue.vhost}/{queue.name}"


UNKNOWN = "?"  # not known yet (a lean listing's row), never 0 or "never"


def _lean_row(q: QueueSummary) -> list[Cell]:
    """A row of the lean listing: the depths; consumers, rates and so the drain estimate
    are not known until the stats are read (no starving style: nobody knows it starves)."""
    return [
        cell(safe(q.name), sort=q.name.lower()),
        cell(safe(q.vhost)),
        cell(safe(q.type)),
        cell(count(q.ready), sort=q.ready, style="yellow" if q.ready else ""),
        cell(count(q.unacked), sort=q.unacked),
        cell(UNKNOWN, style="dim"),
        cell(UNKNOWN, style="dim"),
        cell(UNKNOWN, style="dim"),
        cell(UNKNOWN, style="dim"),
    ]


class QueuesPanel(DataPanel):
    KINDS = (Kind.QUEUES,)
    NOUN = "queues"
    PARTIAL = "consumers and rates loading…"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, title="Queues", sort_by="name", **kwargs)
        self._built: dict[str, list[Cell]] = {}

    def build_rows(self) -> dict[str, list[Cell]] | None:
        queues: list[QueueSummary] = self.data.get(Kind.QUEUES) or []
        rows: dict[str, list[Cell]] = {}
        previous = self.payload
        self.payload = {}
        built = self._built
        self._built = {}
        for q in queues:
            key = queue_key(q)
            self.payload[key] = q
            cells = built.get(key)
            if cells is None or previous.get(key) != q:  # only changed queues cost cells
                cells = self._row(q)
            rows[key] = self._built[key] = cells
        return rows

    @staticmethod
    def _row(q: QueueSummary) -> list[Cell]:
        if q.consumers is None:
            return _lean_row(q)
        out = q.ack_rate if q.ack_rate is not None else q.deliver_rate
        drain = queue_drain_seconds(q)  # the CLI's and the exporter's rule
        starving = q.ready > 0 and q.consumers == 0
        return [
            cell(safe(q.name), sort=q.name.lower()),
            cell(safe(q.vhost)),
            cell(safe(q.type)),
            cell(count(q.ready), sort=q.ready, style="yellow" if q.ready else ""),
            cell(count(q.unacked), sort=q.unacked),
            cell(q.consumers, sort=q.consumers, style="red" if starving else ""),
            cell(rate(q.publish_rate), sort=q.publish_rate),
            cell(rate(out), sort=out),
            cell(drain_time(drain), sort=math.inf if drain is None else drain),
        ]

    def destination(self, key: str | None) -> Destination | None:
        q = self.payload.get(key or "")
        if q is None:
            return None
        return Destination(q.backend or "rabbitmq", "queue", q.name, q.vhost)
