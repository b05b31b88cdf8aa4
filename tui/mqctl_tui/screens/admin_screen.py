"""Read-only admin views behind the command palette (issue 20): the Kafka cluster (brokers,
controller, per-topic leaders and health) and a broker's configs, RabbitMQ policies,
shovels, federation links, nodes with their alarms, and client connections. Each reloads on
every refresh tick like the other drill-downs; the data comes from the admin services
(mqctl.services.cluster, rabbit_admin, amqp) through the TUI's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer

from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import count, safe
from mqctl_tui.screens.detail_screen import DetailScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

Rows = dict[str, list[Cell]]
Pairs = list[tuple[str, str | Text]]


@dataclass(frozen=True)
class AdminView:
    """What one view shows and how it reads it (``fetch(session)`` -> summary, rows)."""

    title: str
    backend: str  # the broker it needs (palette entries only for contexts that have it)
    columns: list[Column]
    sort_by: str
    fetch: Callable[[Any], Awaitable[tuple[Pairs, Rows]]]


async def _cluster(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import cluster

    info = await cluster.describe_cluster(session, include_internal=True, partitions=False)
    brokers = ", ".join(
        f"{b.id}@{b.host}:{b.port}{f' rack {b.rack}' if b.rack else ''}" for b in info.brokers
    )
    health = (
        "red" if info.offline_partitions else "yellow" if info.under_replicated_partitions else ""
    )
    pairs: Pairs = [
        ("cluster", safe(info.cluster_id or "?")),
        ("controller", str(info.controller if info.controller is not None else "?")),
        ("brokers", safe(brokers)),
        ("topics", count(info.topic_count)),
        ("partitions", count(info.partition_count)),
        ("under-replicated", Text(str(info.under_replicated_partitions), style=health)),
        ("offline", Text(str(info.offline_partitions), style=health)),
    ]
    rows: Rows = {
        t.name: [
            cell(safe(t.name)),
            cell(t.partition_count, sort=t.partition_count),
            cell(t.replication_factor, sort=t.replication_factor),
            cell(" ".join(f"{b}={n}" for b, n in t.leaders.items()) or "-"),
            cell(
                t.under_replicated,
                sort=t.under_replicated,
                style="yellow" * bool(t.under_replicated),
            ),
            cell(t.offline, sort=t.offline, style="red" * bool(t.offline)),
        ]
        for t in info.topics
    }
    return pairs, rows


async def _policies(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import rabbit_admin

    found = await rabbit_admin.list_policies(session, vhost=None, all_vhosts=True, operator=None)
    rows: Rows = {
        f"{p.vhost}|{p.operator}|{p.name}": [
            cell(safe(p.vhost)),
            cell(safe(p.name)),
            cell("operator" if p.operator else "policy"),
            cell(safe(p.pattern)),
            cell(p.apply_to),
            cell(p.priority, sort=p.priority),
            cell(safe(", ".join(f"{k}={v}" for k, v in p.definition.items()))),
        ]
        for p in found
    }
    return [("policies", str(len(found)))], rows


async def _shovels(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import rabbit_admin

    found = await rabbit_admin.list_shovels(session, vhost=None, all_vhosts=True)
    rows: Rows = {
        f"{s.vhost}|{s.name}": [
            cell(safe(s.vhost)),
            cell(safe(s.name)),
            cell(s.state, style="" if s.state == "running" else "red"),
            cell(safe(s.source or "-")),
            cell(safe(s.destination or "-")),
            cell(safe(s.reason or "")),
        ]
        for s in found
    }
    running = sum(1 for s in found if s.state == "running")
    return [("shovels", str(len(found))), ("running", str(running))], rows


def _size(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


async def _nodes(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import rabbit_admin

    found = await rabbit_admin.list_nodes(session)
    rows: Rows = {}
    for n in found:
        alarms = [a for a, on in (("memory", n.memory_alarm), ("disk", n.disk_free_alarm)) if on]
        rows[n.name] = [
            cell(safe(n.name)),
            cell("yes" if n.running else "no", style="" if n.running else "red"),
            cell(safe(n.rabbitmq_version or "?")),
            cell(f"{_size(n.memory_used)} / {_size(n.memory_limit)}"),
            cell(f"{_size(n.disk_free)} (min {_size(n.disk_free_limit)})"),
            cell(",".join(alarms) or "none", style="red" if alarms else ""),
            cell(safe(",".join(n.partitions)) or "none", style="red" if n.partitions else ""),
        ]
    alarmed = sum(1 for n in found if n.memory_alarm or n.disk_free_alarm)
    return [("nodes", str(len(found))), ("with alarms", str(alarmed))], rows


async def _connections(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import amqp

    found = await amqp.list_connections(session, vhost=None, all_vhosts=True)
    rows: Rows = {
        c.name: [
            cell(safe(c.vhost)),
            cell(safe(c.user)),
            cell(safe(c.connection_name or "-")),
            cell(safe(c.client)),
            cell(safe(f"{c.peer_host}:{c.peer_port}")),
            cell(c.channels, sort=c.channels),
            cell(c.state),
        ]
        for c in found
    }
    return [("connections", str(len(found)))], rows


async def _broker_configs(session: Any) -> tuple[Pairs, Rows]:
    """The effective configs of the first broker (by id), non-defaults first by sort."""
    from mqctl.services import cluster

    info = await cluster.describe_cluster(session, include_internal=False, partitions=False)
    if not info.brokers:
        return [("brokers", "0")], {}
    broker = min(info.brokers, key=lambda b: b.id)
    found = await cluster.get_configs(session, "broker", str(broker.id), all_configs=True)
    rows: Rows = {
        e.name: [
            cell(safe(e.name)),
            cell("(sensitive)" if e.sensitive else safe(e.value if e.value is not None else "-")),
            cell(safe(e.source)),
            cell("yes" if e.is_default else "no", style="" if e.is_default else "bold"),
            cell("yes" if e.read_only else "no"),
        ]
        for e in found
    }
    changed = sum(1 for e in found if not e.is_default)
    return [("broker", str(broker.id)), ("configs", str(len(found))), ("set", str(changed))], rows


async def _federation(session: Any) -> tuple[Pairs, Rows]:
    from mqctl.services import rabbit_admin

    listing = await rabbit_admin.list_federation_links(session, vhost=None, all_vhosts=True)
    if not listing.plugin_enabled:
        return [("federation", f"the {listing.plugin or 'federation'} plugin is not enabled")], {}
    rows: Rows = {
        f"{f.vhost}|{f.upstream}|{f.type}|{f.local}": [
            cell(safe(f.vhost)),
            cell(safe(f.upstream)),
            cell(f.type),
            cell(safe(f.local)),
            cell(f.status, style="" if f.status == "running" else "red"),
            cell(safe(f.error or "")),
        ]
        for f in listing.items
    }
    running = sum(1 for f in listing.items if f.status == "running")
    return [("links", str(len(listing.items))), ("running", str(running))], rows


VIEWS: dict[str, AdminView] = {
    "cluster": AdminView(
        "Kafka cluster",
        "kafka",
        [
            Column("topic", "Topic"),
            Column("partitions", "Partitions", numeric=True),
            Column("rf", "RF", numeric=True),
            Column("leaders", "Leaders (broker=partitions)"),
            Column("urp", "Under-replicated", numeric=True),
            Column("offline", "Offline", numeric=True),
        ],
        "topic",
        _cluster,
    ),
    "configs": AdminView(
        "Kafka broker configs",
        "kafka",
        [
            Column("name", "Config"),
            Column("value", "Value"),
            Column("source", "Source"),
            Column("default", "Default"),
            Column("read_only", "Read only"),
        ],
        "name",
        _broker_configs,
    ),
    "policies": AdminView(
        "RabbitMQ policies",
        "rabbitmq",
        [
            Column("vhost", "Vhost"),
            Column("name", "Name"),
            Column("kind", "Kind"),
            Column("pattern", "Pattern"),
            Column("apply", "Apply to"),
            Column("priority", "Priority", numeric=True),
            Column("definition", "Definition"),
        ],
        "name",
        _policies,
    ),
    "shovels": AdminView(
        "RabbitMQ shovels",
        "rabbitmq",
        [
            Column("vhost", "Vhost"),
            Column("name", "Shovel"),
            Column("state", "State"),
            Column("source", "Source"),
            Column("destination", "Destination"),
            Column("reason", "Reason"),
        ],
        "name",
        _shovels,
    ),
    "federation": AdminView(
        "RabbitMQ federation links",
        "rabbitmq",
        [
            Column("vhost", "Vhost"),
            Column("upstream", "Upstream"),
            Column("type", "Type"),
            Column("local", "Exchange / queue"),
            Column("status", "Status"),
            Column("error", "Error"),
        ],
        "upstream",
        _federation,
    ),
    "nodes": AdminView(
        "RabbitMQ nodes and alarms",
        "rabbitmq",
        [
            Column("node", "Node"),
            Column("running", "Running"),
            Column("version", "Version"),
            Column("memory", "Memory"),
            Column("disk", "Disk free"),
            Column("alarms", "Alarms"),
            Column("partitions", "Partitions"),
        ],
        "node",
        _nodes,
    ),
    "connections": AdminView(
        "RabbitMQ connections",
        "rabbitmq",
        [
            Column("vhost", "Vhost"),
            Column("user", "User"),
            Column("name", "Name"),
            Column("client", "Client"),
            Column("peer", "Peer"),
            Column("channels", "Channels", numeric=True),
            Column("state", "State"),
        ],
        "name",
        _connections,
    ),
}


class AdminScreen(DetailScreen):
    """One of :data:`VIEWS`, read only."""

    def __init__(self, view: str) -> None:
        super().__init__()
        self.view = VIEWS[view]

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary(self.view.title)
        yield LiveTable(
            self.view.columns,
            title=self.view.title,
            sort_by=self.view.sort_by,
            id="admin-table",
            classes="panel",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#admin-table", LiveTable).table.focus()

    async def fetch(self) -> tuple[Pairs, Rows]:
        return await mqctl_app(self).services.call(self.view.fetch)

    def show(self, data: Any, *, first: bool) -> None:
        pairs, rows = data
        self.query_one(Summary).show_pairs(pairs)
        table = self.query_one("#admin-table", LiveTable)
        table.set_rows(rows)
        table.set_status(f"{len(rows)} row(s)")


def palette_entries(app: Any) -> list[tuple[str, Callable[[], object], str]]:
    """Command palette entries for the views this context's brokers can show."""
    from functools import partial

    def open_view(name: str) -> None:
        app.push_screen(AdminScreen(name))

    configured = set(app.services.backend_names)
    return [
        (f"View {view.title}", partial(open_view, name), "read only")
        for name, view in VIEWS.items()
        if view.backend in configured
    ]
