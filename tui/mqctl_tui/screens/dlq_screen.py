"""DLQ inspect (messages grouped by reason) and redrive: dry-run plan -> confirm -> progress.

Inspect is a safe peek. Redrive first computes the plan with the service's dry run, shows
it in a confirmation modal, then runs ``mqctl.services.dlq.redrive`` with a live progress
bar; escape asks the redrive to stop after the current message (it is cancellable).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Label, ProgressBar

from mqctl.dlq.models import InspectReport, RedriveSummary
from mqctl.dlq.plan import RedriveOptions
from mqctl.models.inventory import Destination
from mqctl_tui.formatting import count, safe
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.screens.detail_screen import DetailScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

GROUPS = [
    Column("reason", "Reason"),
    Column("count", "Messages", numeric=True),
    Column("first", "First seen"),
    Column("last", "Last seen"),
    Column("sample", "Sample"),
]


def plan_renderable(summary: RedriveSummary) -> Group:
    table = Table(title="Plan (dry run: nothing moved yet)", title_justify="left")
    table.add_column("destination")
    table.add_column("messages", justify="right")
    for target, n in sorted(summary.by_destination.items()):
        table.add_row(Text(safe(target)), count(n))
    if not summary.by_destination:
        table.add_row("(nothing to move)", "0")
    lines = [
        Text(f"examined {count(summary.examined)} · would move {count(summary.moved)}"),
    ]
    for reason, n in sorted(summary.skipped.items()):
        lines.append(Text(f"skipped {count(n)}: {safe(reason)}", style="yellow"))
    if summary.stopped_early:
        lines.append(Text(f"stops early: {safe(summary.stopped_early)}", style="yellow"))
    return Group(table, *lines)


class DlqScreen(DetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "redrive", "Redrive"),
        Binding("escape", "back", "Back / stop"),
    ]

    def __init__(self, destination: Destination) -> None:
        super().__init__()
        self.destination = destination
        self.stop_event: asyncio.Event | None = None
        self.running = False
        self.result: RedriveSummary | None = None

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary(f"Dead letters in {safe(self.destination.qualified)}")
        yield LiveTable(
            GROUPS,
            title="Grouped by reason",
            sort_by="count",
            reverse=True,
            id="reasons",
            classes="panel",
        )
        with Horizontal(id="redrive-form"):
            yield Label("redrive to")
            yield Input(id="redrive-to", placeholder="empty: each message's original source")
            yield Label("limit")
            yield Input(id="redrive-limit", placeholder="all", type="integer")
        yield ProgressBar(total=1, id="redrive-progress", show_eta=False, classes="-idle")
        yield Label("R plans a redrive (dry run first, then confirm)", id="redrive-status")
        yield Footer()

    def on_refresh_tick(self, message: Any) -> None:
        if not self.running:  # inspect is a peek of up to 500 messages: not while moving them
            self.reload()

    async def fetch(self) -> InspectReport:
        return await self.app.services.dlq_inspect(self.destination)  # type: ignore[attr-defined, no-any-return]

    def show(self, data: Any, *, first: bool) -> None:
        report: InspectReport = data
        formats = ", ".join(f"{k} {v}" for k, v in sorted(report.formats.items())) or "-"
        self.query_one(Summary).show_pairs(
            [
                ("examined", count(report.examined)),
                ("groups", str(len(report.groups))),
                ("metadata", safe(formats)),
            ]
        )
        rows: dict[str, list[Cell]] = {}
        for g in report.groups:
            sample = g.samples[0].preview if g.samples else ""
            rows[g.key] = [
                cell(safe(g.key or "(unknown)")),
                cell(count(g.count), sort=g.count, style="bold red" if g.count else ""),
                cell(g.first_seen.strftime("%Y-%m-%d %H:%M") if g.first_seen else "-"),
                cell(g.last_seen.strftime("%Y-%m-%d %H:%M") if g.last_seen else "-"),
                cell(safe(sample[:120])),
            ]
        table = self.query_one("#reasons", LiveTable)
        table.set_rows(rows)
        table.set_status(f"{len(rows)} reasons in {count(report.examined)} messages (peek)")
        if first:
            table.table.focus()

    # -- redrive ---------------------------------------------------------------------------
    def _options(self) -> RedriveOptions:
        to = self.query_one("#redrive-to", Input).value.strip() or None
        limit_text = self.query_one("#redrive-limit", Input).value.strip()
        return RedriveOptions(to=to, limit=int(limit_text) if limit_text else None)

    def action_redrive(self) -> None:
        if self.running:
            self.notify("a redrive is running (escape stops it)", severity="warning")
            return
        try:
            options = self._options()
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self._status("computing the plan (dry run)…")
        self._plan(options)

    @work(exclusive=True, group="dlq-plan")
    async def _plan(self, options: RedriveOptions) -> None:
        try:
            plan = await self.app.services.dlq_plan(self.destination, options)  # type: ignore[attr-defined]
        except Exception as exc:
            self.notify(str(exc), title="redrive plan", severity="error")
            self._status(f"plan failed: {safe(exc)}")
            return
        self._status(f"plan: {plan.moved} to move")
        if plan.moved == 0:
            self.notify("nothing to redrive", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.guard_write(  # type: ignore[attr-defined]
                    "dlq redrive", lambda: self._run(options, plan.moved)
                )
            else:
                self._status("redrive cancelled before it started")

        self.app.push_screen(
            ConfirmScreen(
                f"Redrive {plan.moved} messages from {safe(self.destination.qualified)}?",
                plan_renderable(plan),
                confirm="Redrive",
            ),
            answered,
        )

    def _run(self, options: RedriveOptions, expected: int) -> None:
        self.stop_event = asyncio.Event()
        self.running = True
        bar = self.query_one("#redrive-progress", ProgressBar)
        bar.remove_class("-idle")
        bar.update(total=expected, progress=0)
        self._redrive(options)

    def _progress(self, summary: RedriveSummary, total: int | None) -> None:
        bar = self.query_one("#redrive-progress", ProgressBar)
        if total is not None:
            bar.update(total=total)
        bar.update(progress=summary.moved + summary.failed + sum(summary.skipped.values()))
        self._status(f"moving… {summary.moved} moved, {summary.failed} failed (escape stops)")

    @work(exclusive=True, group="dlq-redrive")
    async def _redrive(self, options: RedriveOptions) -> None:
        try:
            result = await self.app.services.dlq_redrive(  # type: ignore[attr-defined]
                self.destination, options, progress=self._progress, stop=self.stop_event
            )
        except Exception as exc:
            self.running = False
            self.notify(str(exc), title="redrive", severity="error")
            self._status(f"redrive failed: {safe(exc)}")
            return
        self.running = False
        self.result = result
        self._progress(result, None)
        state = "stopped" if result.interrupted else "done"
        text = f"redrive {state}: {result.moved} moved, {result.failed} failed"
        self._status(text)
        self.notify(text, title="redrive", severity="error" if result.failed else "information")
        self.reload()

    def action_back(self) -> None:
        if self.running and self.stop_event is not None:
            self.stop_event.set()
            self._status("stopping after the current message…")
            return
        super().action_back()

    def _status(self, text: str) -> None:
        self.query_one("#redrive-status", Label).update(text)
