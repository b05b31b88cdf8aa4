"""Queue drill-down: depth, rates, policy, dead-lettering, consumers and bindings."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer

from mqctl.models.inventory import Destination, QueueDetail
from mqctl.rules import queue_drain_seconds
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import count, drain_time, duration, rate, safe
from mqctl_tui.screens.detail_screen import DestinationScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

CONSUMERS = [
    Column("tag", "Consumer", flex=True),
    Column("host", "Client", drop=2),
    Column("ack", "Ack", drop=1),
    Column("prefetch", "Prefetch", numeric=True),
    Column("active", "Active"),
]
BINDINGS = [
    Column("source", "Exchange", flex=True),
    Column("key", "Routing key", flex=True),
    Column("args", "Arguments", drop=1),
]


class QueueScreen(DestinationScreen):
    def __init__(self, name: str, vhost: str | None, backend: str = "rabbitmq") -> None:
        super().__init__(Destination(backend, "queue", name, vhost))
        self.sub_title = f"queue {safe(name)}"  # the header's breadcrumb
        self.queue = name
        self.vhost = vhost

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        where = "" if self.vhost in (None, "/") else f"{self.vhost}/"
        yield Summary(f"Queue {safe(where + self.queue)}", name=safe(self.queue))
        with Horizontal():
            yield LiveTable(
                CONSUMERS, title="Consumers", sort_by="tag", id="consumers", classes="panel"
            )
            yield LiveTable(
                BINDINGS, title="Bindings", sort_by="source", id="bindings", classes="panel"
            )
        yield Footer()

    async def fetch(self) -> QueueDetail:
        return await mqctl_app(self).services.describe_queue(self.queue, self.vhost)

    def show(self, data: Any, *, first: bool) -> None:
        detail: QueueDetail = data
        q = detail.queue
        self.query_one(Summary).show_pairs(
            [
                ("type", safe(q.type)),
                ("state", safe(q.state)),
                ("durable", "yes" if q.durable else "no"),
                ("ready", count(q.ready)),
                ("unacked", count(q.unacked)),
                ("consumers", "?" if q.consumers is None else str(q.consumers)),
                ("publish", rate(q.publish_rate)),
                ("deliver", rate(q.deliver_rate)),
                ("ack", rate(q.ack_rate)),
                ("drain", drain_time(queue_drain_seconds(q))),
                ("head age", duration(detail.head_message_age_seconds)),
                ("node", safe(detail.node or "-")),
                ("policy", safe(q.policy or "-")),
                ("DLX", safe(q.dead_letter_exchange or "-")),
                ("DL key", safe(q.dead_letter_routing_key or "-")),
                (
                    "delivery limit",
                    "-" if detail.delivery_limit is None else str(detail.delivery_limit),
                ),
            ]
        )
        consumers: dict[str, list[Cell]] = {}
        for c in detail.consumer_details:
            consumers[f"{c.channel}/{c.consumer_tag}"] = [
                cell(safe(c.consumer_tag)),
                cell(safe(c.client_host or c.connection or "-")),
                cell("manual" if c.ack_required else "auto"),
                cell(c.prefetch_count, sort=c.prefetch_count),
                cell("yes" if c.active else "no", style="" if c.active else "yellow"),
            ]
        table = self.query_one("#consumers", LiveTable)
        table.set_rows(consumers)
        table.set_status(f"{len(consumers)} consumers")
        bindings: dict[str, list[Cell]] = {}
        for index, b in enumerate(detail.bindings_in):
            bindings[f"{index}:{b.source}:{b.routing_key}"] = [
                cell(safe(b.source or "(default)")),
                cell(safe(b.routing_key)),
                cell(safe(b.arguments or "")),
            ]
        btable = self.query_one("#bindings", LiveTable)
        btable.set_rows(bindings)
        btable.set_status(f"{len(bindings)} bindings")
        if first:
            table.table.focus()
