"""The doctor panel (issue 21): the core's on-call checklist (``mqctl doctor``) on the current
context, findings ordered CRIT, WARN, UNKNOWN, OK, and the evidence and "what to do" of the
highlighted finding below the table.

A run samples the brokers twice, ``interval`` seconds apart (docs/doctor.md), so it is not
repeated on every refresh tick: it runs when the screen opens and again on ``r``. The run is
a background worker; the last findings stay shown while the next run is under way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from mqctl.doctor.model import Finding
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import safe
from mqctl_tui.screens.detail_screen import DetailScreen
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.detail.summary import Summary
from mqctl_tui.widgets.header.context_header import ContextHeader

# The severity is always written out as a word: the colour only repeats it (NO_COLOR keeps
# every finding readable).
SEVERITIES = ("CRIT", "WARN", "UNKNOWN", "OK")
STYLES = {"CRIT": "bold red", "WARN": "yellow", "UNKNOWN": "magenta", "OK": "green"}
RUNNING = "running the checklist (two samples, the doctor's interval apart)…"
COLUMNS = [
    Column("severity", "Severity", sort_as="number"),
    Column("backend", "Broker", drop=1),
    Column("check", "Check"),
    Column("summary", "Summary", flex=True),
]


def severity_of(finding: Finding) -> str:
    """The severity's name; a value the core adds later is shown as it is."""
    return str(finding.severity)  # a StrEnum: its value, or a string the core adds later


def _rank(finding: Finding) -> int:
    # a severity this TUI does not know sorts with UNKNOWN: an unanswered question
    name = severity_of(finding)
    return SEVERITIES.index(name) if name in SEVERITIES else SEVERITIES.index("UNKNOWN")


def in_order(findings: Sequence[Finding]) -> list[Finding]:
    """CRIT, WARN, UNKNOWN, OK, then context, backend and check (the CLI's order)."""
    return sorted(findings, key=lambda f: (_rank(f), f.context, f.backend, f.check))


def keyed(findings: Sequence[Finding]) -> dict[str, Finding]:
    """Row keys that survive a rerun: a check may report several findings (numbered)."""
    rows: dict[str, Finding] = {}
    for f in findings:
        base = f"{f.context}|{f.backend}|{f.check}"
        n = 0
        while f"{base}|{n}" in rows:
            n += 1
        rows[f"{base}|{n}"] = f
    return rows


def counts_text(findings: Sequence[Finding]) -> Text:
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        name = severity_of(f)
        counts[name if name in counts else "UNKNOWN"] += 1
    text = Text()
    for name, n in counts.items():
        if text:
            text.append(", ")
        text.append(f"{n} {name}", style=STYLES[name] if n else "dim")
    return text


def detail_text(finding: Finding | None) -> Text:
    """The highlighted finding whole: what, the evidence, and what to do."""
    if finding is None:
        return Text("highlight a finding to see its evidence and what to do", style="dim")
    name = severity_of(finding)
    text = Text()
    text.append(name, style=STYLES.get(name, "bold"))
    where = f"{finding.context}/{finding.backend}" if finding.context else finding.backend
    text.append(safe(f"  {where} · {finding.check}"), style="bold")
    text.append("\n")
    text.append(safe(finding.summary) + "\n")
    if finding.evidence:
        text.append("evidence\n", style="dim")
        for item in finding.evidence:
            text.append(f"  - {safe(item)}\n")
    if finding.action:
        text.append("what to do\n", style="dim")
        text.append(f"  -> {safe(finding.action)}\n")
    text.rstrip()
    return text


class DoctorScreen(DetailScreen):
    """Findings of the doctor on the current context (read only)."""

    DEFAULT_CSS = """
    DoctorScreen #findings { height: 3fr; }
    DoctorScreen #finding-detail { height: 2fr; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Run again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.findings: dict[str, Finding] = {}

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        yield Summary("Doctor: the on-call checklist")
        yield LiveTable(
            COLUMNS, title="Findings", sort_by="severity", id="findings", classes="panel"
        )
        with VerticalScroll(id="finding-detail", classes="panel"):
            yield Static(detail_text(None), id="finding")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#finding-detail").border_title = "Evidence and what to do"
        self.query_one("#findings", LiveTable).table.focus()

    def on_refresh_tick(self, message: Any) -> None:
        """Not on every tick: a run takes two samples, and keeps the brokers busy meanwhile."""

    def action_rerun(self) -> None:
        if self._loading:
            self.notify("the checklist is already running", timeout=2)
            return
        self.reload()

    def reload(self) -> None:
        table = self.query_one("#findings", LiveTable)
        table.set_status(RUNNING)
        super().reload()

    async def fetch(self) -> list[Finding]:
        return await mqctl_app(self).services.doctor()

    def show(self, data: Any, *, first: bool) -> None:
        findings = in_order(data)
        self.findings = keyed(findings)
        summary = self.query_one(Summary)
        summary.remove_class("-error")
        summary.update(Text("findings  ", style="dim") + counts_text(findings))
        table = self.query_one("#findings", LiveTable)
        table.set_rows({key: self._cells(n, f) for n, (key, f) in enumerate(self.findings.items())})
        table.set_status(f"{len(findings)} finding(s) · r runs the checklist again")
        self._show_highlighted()

    def show_error(self, text: str) -> None:
        super().show_error(text)
        self.query_one("#findings", LiveTable).set_status(text, "error")

    @staticmethod
    def _cells(position: int, f: Finding) -> list[Cell]:
        name = severity_of(f)
        return [
            cell(safe(name), sort=position, style=STYLES.get(name, "")),
            cell(safe(f.backend)),
            cell(safe(f.check)),
            cell(safe(f.summary)),
        ]

    @on(LiveTable.Chosen)
    def _chosen(self, event: LiveTable.Chosen) -> None:
        """Enter on a finding: into its evidence (scrolls with the arrow keys; tab goes
        back to the list)."""
        self.query_one("#finding-detail", VerticalScroll).focus()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_highlighted()

    def _show_highlighted(self) -> None:
        key = self.query_one("#findings", LiveTable).selected_key
        finding = self.findings.get(key) if key is not None else None
        self.query_one("#finding", Static).update(detail_text(finding))


def open_doctor(app: Any) -> Callable[[], object]:
    """The palette's and the dashboard's way in."""

    def push() -> None:
        if not isinstance(app.screen, DoctorScreen):
            app.push_screen(DoctorScreen())

    return push
