"""DLQ inspect (messages grouped by reason, source or exception) and redrive: the form (or
the highlighted group row) -> dry-run plan -> confirm with the plan's numbers -> progress ->
the result, which equals the plan or says why not.

Inspect is a safe peek. ``R`` with a group row highlighted pre-fills the filter that selects
that row, then plans; ``R`` from the form plans what the form says. Escape asks a running
redrive to stop after the in-flight messages (it is cancellable).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Label, ProgressBar

from mqctl.dlq.grouping import GROUP_BY
from mqctl.dlq.models import InspectReport, RedriveSummary
from mqctl.dlq.plan import RedriveOptions
from mqctl.errors import DeclinedError, MqctlError
from mqctl.models.inventory import Destination
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import count, safe
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.screens.detail_screen import DetailScreen
from mqctl_tui.screens.redrive_form import (
    RedriveForm,
    filter_for,
    plan_renderable,
    result_text,
)
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

__all__ = ["DlqScreen", "plan_renderable"]


def group_columns(group_by: str) -> list[Column]:
    return [
        Column("reason", group_by.capitalize()),
        Column("count", "Messages", numeric=True),
        Column("first", "First seen"),
        Column("last", "Last seen"),
        Column("sample", "Sample"),
    ]


class DlqScreen(DetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "redrive", "Redrive"),
        Binding("g", "group_next", "Group by"),
        Binding("escape", "back", "Back / stop"),
    ]

    def __init__(self, destination: Destination) -> None:
        super().__init__()
        self.sub_title = f"DLQ {safe(destination.qualified)}"  # the header's breadcrumb
        self.destination = destination
        self.group_by = "reason"
        self.stop_event: asyncio.Event | None = None
        self.running = False
        self.plan: RedriveSummary | None = None
        self.result: RedriveSummary | None = None

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary(f"Dead letters in {safe(self.destination.qualified)}")
        yield LiveTable(
            group_columns("reason"),
            title="Grouped by reason (g: source, exception)",
            sort_by="count",
            reverse=True,
            id="reasons",
            classes="panel",
        )
        yield RedriveForm()
        yield ProgressBar(total=1, id="redrive-progress", show_eta=False, classes="-idle")
        yield Label(
            "R on a row redrives that group (the filter is filled in); R in the form plans it",
            id="redrive-status",
        )
        yield Footer()

    def on_refresh_tick(self, message: Any) -> None:
        if not self.running:  # inspect is a peek of up to 500 messages: not while moving them
            self.reload()

    async def fetch(self) -> InspectReport:
        services = mqctl_app(self).services
        return await services.dlq_inspect(self.destination, group_by=self.group_by)

    def show(self, data: Any, *, first: bool) -> None:
        report: InspectReport = data
        if report.group_by != self.group_by:
            return  # an answer for the grouping before the last ``g``
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
        table.set_status(
            f"{len(rows)} groups by {self.group_by} in {count(report.examined)} messages (peek)"
        )
        if first:
            table.table.focus()

    def action_group_next(self) -> None:
        self.group_by = GROUP_BY[(GROUP_BY.index(self.group_by) + 1) % len(GROUP_BY)]
        table = self.query_one("#reasons", LiveTable)
        table.clear_rows()
        table.border_title = f"Grouped by {self.group_by}"
        self.reload()

    # -- redrive ---------------------------------------------------------------------------
    def _row_filter(self) -> bool:
        """With a group row highlighted, fill the form's filter from it (False: that row
        cannot be selected by a filter, and nothing is planned)."""
        table = self.query_one("#reasons", LiveTable)
        if not isinstance(self.focused, DataTable) or self.focused is not table.table:
            return True
        key = table.selected_key
        if key is None:
            return True
        expression = filter_for(self.group_by, key)
        if expression is None:
            self.notify(
                f"no filter selects the {key} group: set one in the form", severity="warning"
            )
            return False
        self.query_one(RedriveForm).set_filter(expression)
        return True

    def action_redrive(self) -> None:
        if self.running:
            self.notify("a redrive is running (escape stops it)", severity="warning")
            return
        if not self._row_filter():
            return
        form = self.query_one(RedriveForm)
        try:
            options = form.options()
        except MqctlError as exc:
            self.notify(str(exc), title="redrive form", severity="error")
            return
        filters = form.filter_text
        mqctl_app(self).guard_write("dlq redrive", lambda: self._start(options, filters))

    def _start(self, options: RedriveOptions, filters: str) -> None:
        self.stop_event = asyncio.Event()
        self.running = True
        self._status("computing the plan (dry run)…")
        self._redrive(options, filters)

    async def _ask(self, plan: RedriveSummary, filters: str) -> None:
        """The service's confirmation: the plan's numbers in a modal; no is DeclinedError
        (the service audits it) and nothing moves."""
        self.plan = plan
        matched = sum(row.matched for row in plan.rows)
        self._status(f"plan: {plan.moved} to move of {matched} matching")
        if plan.moved == 0:
            raise DeclinedError("nothing to redrive: the plan moves no message")
        shown = f" matching {safe(filters)}" if filters else ""
        question = f"Redrive {plan.moved} messages{shown} from {safe(self.destination.qualified)}?"
        screen = ConfirmScreen(question, plan_renderable(plan, filters), confirm="Redrive")
        if not await self.app.push_screen_wait(screen):
            raise DeclinedError("redrive declined: nothing was moved")
        bar = self.query_one("#redrive-progress", ProgressBar)
        bar.remove_class("-idle")
        bar.update(total=plan.moved, progress=0)

    def _progress(self, summary: RedriveSummary, total: int | None) -> None:
        bar = self.query_one("#redrive-progress", ProgressBar)
        if total is not None:
            bar.update(total=total)
        bar.update(progress=summary.moved + summary.failed)
        self._status(f"moving… {summary.moved} moved, {summary.failed} failed (escape stops)")

    @work(exclusive=True, group="dlq-redrive")
    async def _redrive(self, options: RedriveOptions, filters: str) -> None:
        async def ask(plan: RedriveSummary) -> None:
            await self._ask(plan, filters)

        try:
            result = await mqctl_app(self).services.dlq_redrive(
                self.destination,
                options,
                progress=self._progress,
                stop=self.stop_event,
                confirm=ask,
            )
        except DeclinedError as exc:
            self.running = False
            severity = (
                "warning" if self.plan is not None and self.plan.moved == 0 else "information"
            )
            self.notify(str(exc), title="redrive", severity=severity)  # type: ignore[arg-type]
            self._status(safe(str(exc)))
            return
        except Exception as exc:
            self.running = False
            self.notify(str(exc), title="redrive", severity="error")
            self._status(f"redrive failed: {safe(exc)}")
            return
        self.running = False
        self.result = result
        self._progress(result, None)
        text, severity = result_text(result)
        self._status(safe(text))
        self.notify(safe(text), title="redrive", severity=severity)  # type: ignore[arg-type]
        self.reload()

    def action_back(self) -> None:
        if self.running and self.stop_event is not None:
            self.stop_event.set()
            self._status("stopping after the in-flight messages…")
            return
        super().action_back()

    def _status(self, text: str) -> None:
        self.query_one("#redrive-status", Label).update(text)
