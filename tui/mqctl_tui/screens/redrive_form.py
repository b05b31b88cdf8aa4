"""The redrive form of the DLQ screen (filters, --unwrap, target, limit, rate) and the plan
shown in the confirmation: the same options and the same plan as ``mqctl dlq redrive``."""

from __future__ import annotations

import shlex

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from mqctl.dlq.grouping import UNKNOWN
from mqctl.dlq.models import RedriveSummary
from mqctl.dlq.plan import RedriveOptions, parse_filters
from mqctl.dlq.republish import check_unwrap
from mqctl.errors import UsageError
from mqctl_tui.formatting import count, safe


def filter_for(group_by: str, key: str) -> str | None:
    """The ``--filter`` expression that selects a group row (None: no filter can)."""
    if key == UNKNOWN or not key:
        return None
    if group_by in ("reason", "exception"):
        return f"{group_by}=={key}"  # the whole text: not also a longer one containing it
    return f"{group_by}={key}"  # source=…, header:NAME=…


class RedriveForm(Vertical):
    DEFAULT_CSS = """
    RedriveForm { height: auto; }
    RedriveForm Horizontal { height: 3; padding: 0 1; }
    RedriveForm Label { padding: 1 1 0 1; }
    RedriveForm Input { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="redrive-filters"):
            yield Label("filter")
            yield Input(
                id="redrive-filter",
                placeholder='all messages; e.g. reason="payment declined" source=orders',
            )
            yield Label("unwrap")
            yield Input(id="redrive-unwrap", placeholder="envelope field, e.g. payload")
        with Horizontal(id="redrive-form"):
            yield Label("to")
            yield Input(id="redrive-to", placeholder="empty: each message's original source")
            yield Label("limit")
            yield Input(id="redrive-limit", placeholder="all", type="integer")
            yield Label("rate/s")
            yield Input(id="redrive-rate", placeholder="unlimited", type="number")

    def _value(self, name: str) -> str:
        return self.query_one(f"#redrive-{name}", Input).value.strip()

    def set_filter(self, expression: str) -> None:
        self.query_one("#redrive-filter", Input).value = shlex.quote(expression)

    @property
    def filter_text(self) -> str:
        return self._value("filter")

    def options(self) -> RedriveOptions:
        """The form as redrive options; bad input is a UsageError with the field named."""
        try:
            expressions = shlex.split(self._value("filter"))
        except ValueError as exc:
            raise UsageError(f"filter: {exc}") from None
        limit_text, rate_text = self._value("limit"), self._value("rate")
        try:
            limit = int(limit_text) if limit_text else None
            rate = float(rate_text) if rate_text else None
        except ValueError:
            raise UsageError("limit and rate must be numbers") from None
        if (limit is not None and limit < 1) or (rate is not None and rate <= 0):
            raise UsageError("limit and rate must be positive")
        return RedriveOptions(
            to=self._value("to") or None,
            filters=parse_filters(expressions),
            limit=limit,
            rate=rate,
            unwrap=check_unwrap(self._value("unwrap") or None),
        )


def plan_renderable(summary: RedriveSummary, filters: str = "") -> Group:
    """The plan's numbers: per reason/source, per destination, and what stays and why."""
    rows = Table(title="Plan (dry run: nothing moved yet)", title_justify="left")
    for name in ("reason", "source", "matched", "already redriven", "to move", "loop guard"):
        rows.add_column(name, justify="left" if name in ("reason", "source") else "right")
    rows.add_column("left", justify="right")
    for row in summary.rows:
        rows.add_row(
            Text(safe(row.reason)),
            Text(safe(row.source)),
            count(row.matched),
            count(row.already_redriven),
            count(row.to_move),
            count(row.loop_guard),
            count(row.left),
        )
    destinations = Table(title="Destinations", title_justify="left")
    destinations.add_column("destination")
    destinations.add_column("messages", justify="right")
    for target, n in sorted(summary.by_destination.items()):
        destinations.add_row(Text(safe(target)), count(n))
    if not summary.by_destination:
        destinations.add_row("(nothing to move)", "0")
    lines = [
        Text(
            f"filter: {safe(filters) or '(none: every message)'} · examined "
            f"{count(summary.examined)} · to move {count(summary.moved)} · already redriven "
            f"{count(summary.already_redriven)}"
        )
    ]
    if summary.unwrap:
        lines.append(Text(f"unwrap: republishes the {safe(summary.unwrap)!r} field"))
    for reason, n in sorted(summary.skipped.items()):
        lines.append(Text(f"left {count(n)}: {safe(reason)}", style="yellow"))
    for error in summary.errors:
        lines.append(Text(f"would fail: {safe(error)}", style="red"))
    if summary.stopped_early:
        lines.append(Text(f"stops early: {safe(summary.stopped_early)}", style="yellow"))
    if summary.note:
        lines.append(Text(f"note: {safe(summary.note)}", style="yellow"))
    return Group(rows, destinations, *lines)


def result_text(result: RedriveSummary) -> tuple[str, str]:
    """(the status line after a run, its severity): the result equals the plan or says why
    it does not."""
    state = "stopped" if result.interrupted else "done"
    text = f"redrive {state}: {result.moved} moved, {result.failed} failed"
    if result.planned is not None:
        text += f" (planned {result.planned})"
    if result.plan_differs:
        return f"{text} — differs from the plan: {result.plan_differs}", "error"
    if result.failed:
        return text, "error"
    return (f"{text}, as planned" if not result.interrupted else text), "information"
