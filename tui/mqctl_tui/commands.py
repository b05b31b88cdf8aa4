"""Command palette entries for every action (and every topic, queue and group shown)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from mqctl.models.inventory import Destination
from mqctl_tui.data import Kind

if TYPE_CHECKING:
    from mqctl_tui.app import MqctlApp


def _guarded(app: MqctlApp, name: str, callback: Callable[[], object]) -> None:
    """Run a palette entry; an error in it is reported, the app keeps running."""
    try:
        callback()
    except Exception as exc:
        app.report_error(exc, f"command {name!r}")


PER_OBJECT = ("Open ", "Browse ", "Publish to ", "Inspect DLQ ", "Reset offsets of ")


class MqctlCommands(Provider):
    """Static actions plus one entry per object the dashboard knows about."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("MqctlApp", self.app)
        return [
            (name, partial(_guarded, app, name, callback), help_text)
            for name, callback, help_text in app.palette_commands()
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if not name.startswith(PER_OBJECT):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(callback), help=help_text)


def palette_commands(app: MqctlApp) -> list[tuple[str, Callable[[], object], str]]:
    """Every action, and open/browse/publish/inspect/reset for every object the dashboard
    knows (the DLQ entries by the core's rule, ``mqctl.rules.is_dlq_name``)."""
    from mqctl.rules import is_dlq_name
    from mqctl_tui.formatting import safe

    commands: list[tuple[str, Callable[[], object], str]] = [
        ("Refresh now", app.action_refresh, "reload every panel (r)"),
        ("Pause / resume auto-refresh", app.action_toggle_pause, "space"),
        ("Switch context", app.action_pick_context, "pick another context (c)"),
        ("Help", app.action_help, "keys and screens (?)"),
        ("Quit", app.exit, "leave mqctl (q)"),
    ]
    from mqctl_tui.screens.admin_screen import palette_entries
    from mqctl_tui.screens.doctor_screen import open_doctor

    commands.append(("Doctor", open_doctor(app), "the on-call checklist (h on the dashboard)"))
    commands += palette_entries(app)  # read-only admin views (cluster, policies, ...)
    contexts = app.config.contexts if app.config is not None else {}
    for name in sorted(contexts):
        if name != app.context.name:
            ctx = contexts[name]
            commands.append((f"Use context {name}", partial(app.switch_context, ctx), "switch"))
    topics = app.latest.get(Kind.TOPICS)
    for topic in topics.data if topics is not None and topics.ok else []:
        dest = Destination(topic.backend or "kafka", "topic", topic.name)
        label = safe(topic.name)
        commands.append((f"Open topic {label}", partial(app.open_topic, topic.name), ""))
        commands.append((f"Browse {label}", partial(app.browse, dest), "peek messages"))
        if not app.read_only:
            commands.append((f"Publish to {label}", partial(app.publish_to, dest), ""))
        if is_dlq_name(topic.name, dest.backend, app.context.dlq_patterns):
            commands.append((f"Inspect DLQ {label}", partial(app.inspect_dlq, dest), ""))
    queues = app.latest.get(Kind.QUEUES)
    for q in queues.data if queues is not None and queues.ok else []:
        dest = Destination(q.backend or "rabbitmq", "queue", q.name, q.vhost)
        label = safe(q.name if q.vhost == "/" else f"{q.vhost}/{q.name}")
        commands.append((f"Open queue {label}", partial(app.open_destination, dest), ""))
        commands.append((f"Browse {label}", partial(app.browse, dest), "peek messages"))
        if not app.read_only:
            commands.append((f"Publish to {label}", partial(app.publish_to, dest), ""))
        if is_dlq_name(q.name, dest.backend, app.context.dlq_patterns):
            commands.append((f"Inspect DLQ {label}", partial(app.inspect_dlq, dest), ""))
    lag = app.latest.get(Kind.LAG)
    from mqctl_tui.data import group_key

    for entry in lag.data if lag is not None and lag.ok else []:
        if entry.kind == "group":
            key = group_key(entry)
            label = safe(entry.group)
            commands.append((f"Open group {label}", partial(app.open_group, key), "lag"))
            if not app.read_only:
                commands.append(
                    (
                        f"Reset offsets of {label}",
                        partial(app.reset_offsets, entry.group),
                        "dry-run plan, then confirm",
                    )
                )
    return commands
