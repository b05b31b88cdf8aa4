"""The start screen: groups, queues, topics and DLQs of the current context, live."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from mqctl.models.inventory import Destination
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.widgets.common.data_panel import DataPanel
from mqctl_tui.widgets.common.live_table import LiveTable
from mqctl_tui.widgets.dashboard.dlq_panel import DlqPanel
from mqctl_tui.widgets.dashboard.groups_panel import GroupsPanel
from mqctl_tui.widgets.dashboard.queues_panel import QueuesPanel
from mqctl_tui.widgets.dashboard.topics_panel import TopicsPanel
from mqctl_tui.widgets.header.context_header import ContextHeader

WRITE_ACTIONS = {"publish", "reset_offsets"}
NARROW = 100  # below this many columns the dashboard shows one panel at a time
PANEL_KEYS = "1 groups · 2 queues · 3 topics · 4 DLQ"


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=False),
        Binding("m", "browse", "Messages"),
        Binding("p", "publish", "Publish"),
        Binding("d", "dlq", "DLQ"),
        Binding("o", "reset_offsets", "Offsets"),
        Binding("h", "doctor", "Doctor"),
        Binding("1", "focus_panel('groups')", "Groups", show=False),
        Binding("2", "focus_panel('queues')", "Queues", show=False),
        Binding("3", "focus_panel('topics')", "Topics", show=False),
        Binding("4", "focus_panel('dlq')", "DLQ", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        with Horizontal(id="top"):
            yield GroupsPanel(id="groups", classes="panel")
            yield QueuesPanel(id="queues", classes="panel")
        with Horizontal(id="bottom"):
            yield TopicsPanel(id="topics", classes="panel")
            yield DlqPanel(id="dlq", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#groups", DataPanel).table.focus()  # panel 1 (key 1)

    # -- narrow terminals: one panel at a time -----------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW
        self.set_class(narrow, "-narrow")
        for panel in self.query(DataPanel).results(DataPanel):
            panel.border_subtitle = PANEL_KEYS if narrow else ""
        self._show(self.panel or self.query_one("#groups", DataPanel))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        panel = self.panel
        if panel is not None:
            self._show(panel)

    def _show(self, panel: DataPanel) -> None:
        """Below NARROW columns only ``panel`` (and its row of the grid) is displayed."""
        for other in self.query(DataPanel).results(DataPanel):
            other.set_class(other is panel, "-shown")
        for row in self.query("#top, #bottom"):
            row.set_class(panel in row.children, "-shown")

    # -- which panel / row -----------------------------------------------------------------
    @property
    def panel(self) -> DataPanel | None:
        focused = self.focused
        while focused is not None and not isinstance(focused, DataPanel):
            focused = focused.parent  # type: ignore[assignment]
        return focused

    def _selected(self) -> Destination | None:
        panel = self.panel
        return panel.selected_destination if panel is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # read-only contexts hide write actions
        return not (action in WRITE_ACTIONS and mqctl_app(self).read_only)

    # -- actions ---------------------------------------------------------------------------
    def action_focus_panel(self, panel_id: str) -> None:
        panel = self.query_one(f"#{panel_id}", DataPanel)
        self._show(panel)  # (a hidden panel cannot take the focus)
        self.call_after_refresh(panel.table.focus)

    @on(LiveTable.Chosen)
    def _chosen(self, event: LiveTable.Chosen) -> None:
        panel = event.table
        if isinstance(panel, GroupsPanel):
            mqctl_app(self).open_group(event.key)
        elif isinstance(panel, DlqPanel):
            dest = panel.destination(event.key)
            if dest is not None:
                mqctl_app(self).inspect_dlq(dest)
        elif isinstance(panel, DataPanel):
            dest = panel.destination(event.key)
            if dest is not None:
                mqctl_app(self).open_destination(dest)

    def action_open(self) -> None:
        panel = self.panel
        if panel is not None and panel.selected_key is not None:
            panel.post_message(LiveTable.Chosen(panel, panel.selected_key))

    def action_browse(self) -> None:
        dest = self._selected()
        if dest is None:
            self.notify("select a topic, queue or DLQ first", severity="warning")
            return
        mqctl_app(self).browse(dest)

    def action_publish(self) -> None:
        dest = self._selected()
        if dest is None:
            self.notify("select a topic or queue first", severity="warning")
            return
        mqctl_app(self).publish_to(dest)

    def action_dlq(self) -> None:
        panel = self.query_one(DlqPanel)
        dest = self._selected() if isinstance(self.panel, DlqPanel) else None
        if dest is None:
            panel.table.focus()
            self.notify("pick a dead-letter queue or topic and press enter", timeout=3)
            return
        mqctl_app(self).inspect_dlq(dest)

    def action_reset_offsets(self) -> None:
        panel = self.panel
        if not isinstance(panel, GroupsPanel) or panel.selected_key is None:
            self.notify("select a consumer group first", severity="warning")
            return
        entry = panel.payload.get(panel.selected_key)
        if entry is not None:
            mqctl_app(self).reset_offsets(entry.group)

    def action_doctor(self) -> None:
        from mqctl_tui.screens.doctor_screen import open_doctor

        open_doctor(self.app)()

    def action_back(self) -> None:
        """Escape on the dashboard does nothing (q quits)."""
