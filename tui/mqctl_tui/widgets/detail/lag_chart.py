"""Total lag of one group over the refresh history, as a Sparkline with min/max labels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from mqctl_tui.formatting import count


class LagChart(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Lag over time"
        self.sparkline = Sparkline([], summary_function=max)
        self.legend = Label("waiting for refreshes…", classes="chart-legend")

    def compose(self) -> ComposeResult:
        yield self.sparkline
        yield self.legend

    def show(self, values: list[int]) -> None:
        # A baseline 0 bar first: Textual scales between the smallest and largest value, and
        # with 0 among them a 1 % change no longer fills the whole height.
        self.sparkline.data = [0.0, *(float(v) for v in values)] if values else []
        if values:
            low, high = min(values), max(values)
            change = ""
            if values[0]:
                change = f"  change {(values[-1] - values[0]) / values[0]:+.1%}"
            legend = (
                f"now {count(values[-1])}  range {count(low)}–{count(high)} (from 0)"
                f"{change}  over {len(values)} refreshes"
            )
        else:
            legend = "waiting for refreshes…"
        self.legend.update(legend)
