"""Offsets reset for a consumer group: the dry-run plan first, then a confirm to apply."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select

from mqctl.errors import MqctlError, UsageError
from mqctl.lag.model import OffsetResetPlan, ResetSpec
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import Kind
from mqctl_tui.formatting import count, safe
from mqctl_tui.screens.confirm_screen import ConfirmScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.header.context_header import ContextHeader

MODES = ["earliest", "latest", "offset", "shift", "datetime", "duration"]
PLAN = [
    Column("topic", "Topic", flex=True),
    Column("partition", "Part", numeric=True),
    Column("current", "Current", numeric=True),
    Column("new", "New", numeric=True),
    Column("change", "Change", numeric=True),
    Column("range", "Log range"),
]


def build_spec(mode: str, value: str, topics: str) -> ResetSpec:
    targets = tuple((t.strip(), None) for t in topics.split(",") if t.strip())
    if not targets:
        raise UsageError("give at least one topic")
    number: int | None = None
    if mode in ("offset", "shift"):
        try:
            number = int(value)
        except ValueError:
            raise UsageError(f"{mode}: expected a whole number") from None
    elif mode == "datetime":
        from mqctl.messages.positions import parse_time

        number = int(parse_time(value).timestamp() * 1000)
    elif mode == "duration":
        from mqctl.messages.positions import parse_duration
        from mqctl.services.groups import duration_spec_value

        span = parse_duration(value)
        if span is None:
            raise UsageError("duration: expected e.g. 15m, 2h, 1d")
        number = duration_spec_value(span.total_seconds())
        mode = "datetime"
    return ResetSpec(mode=mode, targets=targets, value=number)


class OffsetsScreen(Screen[None]):
    # priority: the form's inputs have their own ctrl+d (delete) and ctrl+a (home); these
    # keys must work, and stay in the footer, wherever the focus is on this screen.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+d", "plan", "Dry run", priority=True),
        Binding("ctrl+a", "apply", "Apply…", priority=True),
        Binding("ctrl+t", "focus_plan", "Plan table", priority=True),
    ]

    def __init__(self, group: str) -> None:
        super().__init__()
        self.sub_title = f"offsets of {safe(group)}"  # the header's breadcrumb
        self.group = group
        self.plan: OffsetResetPlan | None = None

    def _group_topics(self) -> str:
        bare = self.group.split(":", 1)[-1]
        lag = mqctl_app(self).latest.get(Kind.LAG)
        for entry in lag.data if lag is not None and lag.ok else []:
            if entry.kind == "group" and entry.group == bare:
                return ",".join(entry.topics)
        return ""

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Label(f"Reset offsets of group {safe(self.group)}", classes="title", id="target")
        with Horizontal(id="offsets-form"):
            yield Label("to")
            yield Select([(m, m) for m in MODES], value="latest", allow_blank=False, id="mode")
            yield Label("value")
            yield Input(id="value", placeholder="offset / shift / ISO time / 15m")
            yield Label("topics")
            yield Input(self._group_topics(), id="topics", placeholder="topic,topic")
        yield LiveTable(PLAN, title="Plan (dry run)", sort_by="topic", id="plan", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan", LiveTable).set_status("ctrl+d computes the plan; nothing changes")

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_plan(self) -> None:
        self.query_one("#plan", LiveTable).table.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_plan()

    def action_plan(self) -> None:
        try:
            spec = build_spec(
                str(self.query_one("#mode", Select).value),
                self.query_one("#value", Input).value,
                self.query_one("#topics", Input).value,
            )
        except MqctlError as exc:
            self.notify(str(exc), severity="error")
            return
        self.plan = None
        self.query_one("#plan", LiveTable).set_status("computing the plan…")
        self._plan(spec)

    @work(exclusive=True, group="offsets")
    async def _plan(self, spec: ResetSpec) -> None:
        table = self.query_one("#plan", LiveTable)
        try:
            plan = await mqctl_app(self).services.offsets_plan(self.group, spec)
        except Exception as exc:
            table.set_status(f"plan failed: {safe(exc)}", "error")
            self.notify(str(exc), title="offsets", severity="error")
            return
        self.plan = plan
        rows: dict[str, list[Cell]] = {}
        for r in plan.rows:
            rows[f"{r.topic}/{r.partition}"] = [
                cell(safe(r.topic)),
                cell(r.partition, sort=r.partition),
                cell(count(r.current_offset), sort=r.current_offset),
                cell(count(r.new_offset), sort=r.new_offset, style="bold"),
                cell("-" if r.change is None else f"{r.change:+,}", sort=r.change),
                cell(f"{r.log_start_offset}..{r.end_offset}" + (" (clamped)" if r.clamped else "")),
            ]
        table.set_rows(rows)
        table.table.focus()  # the plan is what to look at now (no tabbing through the form)
        warnings = "; ".join(plan.warnings)
        table.set_status(
            f"{len(rows)} partitions planned · ctrl+a applies"
            + (f" · {warnings}" if warnings else ""),
            "warning" if warnings else "",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "apply" and mqctl_app(self).read_only)

    def action_apply(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("compute the plan first (ctrl+d)", severity="warning")
            return
        from rich.table import Table

        summary = Table(title=f"{len(plan.rows)} partitions", title_justify="left")
        for label in ("topic", "partition", "current", "new"):
            summary.add_column(label)
        for r in plan.rows[:50]:
            summary.add_row(
                safe(r.topic), str(r.partition), count(r.current_offset), count(r.new_offset)
            )

        def answered(yes: bool | None) -> None:
            if yes:
                mqctl_app(self).guard_write(
                    f"resetting offsets of group {self.group}", lambda: self._apply(plan)
                )

        self.app.push_screen(
            ConfirmScreen(f"Apply this reset to group {safe(self.group)}?", summary, "Apply"),
            answered,
        )

    @work(exclusive=True, group="offsets")
    async def _apply(self, plan: OffsetResetPlan) -> None:
        try:
            await mqctl_app(self).services.offsets_apply(plan)
        except Exception as exc:
            self.notify(str(exc), title="offsets", severity="error")
            return
        self.notify(f"offsets of {self.group} reset ({len(plan.rows)} partitions)", title="offsets")
        self.query_one("#plan", LiveTable).set_status("applied")
