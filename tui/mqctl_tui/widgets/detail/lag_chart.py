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
        self.sparkline.data = [float(v) for v in values]
        if values:
            legend = (
                f"now {count(values[-1])}  min {count(min(values))}  max {count(max(values))}"
                f"  over {len(values)} refreshes"
            )
        else:
            legend = "waiting for refreshes…"
        self.legend.update(legend)
