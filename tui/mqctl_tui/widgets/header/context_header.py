"""The header: context name, read-only badge, each broker's connection state, refresh state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mqctl.models.inventory import BrokerStatus
from mqctl.output.render import middle_truncate
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import ContextChanged, DataUpdated, Kind
from mqctl_tui.formatting import safe


class ContextHeader(Static):
    DEFAULT_CSS = """
    ContextHeader { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__("")
        self.statuses: list[BrokerStatus] | None = None
        self.error: str | None = None
        self._shown: Text | None = None

    @property
    def text(self) -> str:
        """What the header shows, as plain text."""
        return self._shown.plain if self._shown is not None else ""

    def on_mount(self) -> None:
        mqctl_app(self).subscribe(Kind.STATUS, self)
        self.watch(self.app, "paused", lambda _: self.redraw(), init=False)
        self.set_interval(1.0, self.redraw, name="header-age")  # "updated Ns ago" moves on
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def on_unmount(self) -> None:
        mqctl_app(self).unsubscribe(self)

    def on_data_updated(self, message: DataUpdated) -> None:
        outcome = message.outcome
        if outcome.ok:
            self.statuses = list(outcome.data)
            self.error = None
        else:
            self.error = outcome.describe_error()
        self.redraw()

    def on_context_changed(self, message: ContextChanged) -> None:
        self.statuses = None
        self.error = None
        self.redraw()

    def redraw(self) -> None:
        app = mqctl_app(self)
        context = app.context
        text = Text()
        text.append("mqctl ", style="bold")
        text.append("context ", style="dim")
        text.append(safe(context.name), style="bold cyan")
        if context.read_only:
            text.append(" [read-only]", style="bold yellow")
        crumb = self.screen.sub_title  # where we are (set by each drill-down screen)
        if crumb:
            text.append(f" › {middle_truncate(crumb, 40)}", style="bold")
        wide = self.size.width >= WIDE  # (addresses only where they fit)
        if self.statuses is not None:
            for status in self.statuses:
                text.append("  ")
                if status.reachable:
                    text.append("● ", style="green")
                    where = f" {safe(status.address)}" if wide else ""
                    text.append(f"{status.backend}{where}")
                else:
                    text.append("● ", style="red")
                    text.append(f"{status.backend} {DISCONNECTED_LABEL}", style="red")
        elif self.error is not None:
            text.append(f"  broker status unknown ({safe(self.error)})", style="yellow")
        else:
            for name in app.services.backend_names:
                text.append(f"  ○ {name} connecting…", style="dim")
        if app.updated_at is not None:
            age = max(0, int(app.clock() - app.updated_at))
            stale = age > 3 * app.refresh_seconds  # refreshes failing: say so in colour
            text.append(f"  updated {age}s ago", style="yellow" if stale else "dim")
        if app.paused:
            text.append("  ⏸ paused", style="bold yellow")
        else:
            text.append(f"  ⟳ {app.refresh_seconds:g}s", style="dim")
        if text == self._shown:
            return  # the usual refresh: the same brokers in the same state
        self._shown = text
        self.update(text, layout=False)  # one line of fixed height: no layout pass


DISCONNECTED_LABEL = "disconnected, retrying"
WIDE = 120  # below this many columns the header leaves the broker addresses out
