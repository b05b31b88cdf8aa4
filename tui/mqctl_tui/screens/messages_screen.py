"""Message browser (peek): start position, filters, list, value view, headers panel.

Reading is the shared safe peek (``mqctl.services.messages.peek``): nothing is consumed,
acknowledged or committed. Messages are added to the list as they arrive.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from mqctl.errors import MqctlError, UsageError
from mqctl.messages.decode import decode_value
from mqctl.messages.filters import MessageFilter, build_filter
from mqctl.messages.positions import parse_offset, parse_time
from mqctl.models.inventory import Destination
from mqctl.models.messages import Message, PeekOptions, StartPosition
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import DISCONNECTED
from mqctl_tui.formatting import safe
from mqctl_tui.services import close_stream
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable, cell
from mqctl_tui.widgets.header.context_header import ContextHeader
from mqctl_tui.widgets.messages.message_view import MessageView

COLUMNS = [
    Column("n", "#", numeric=True),
    Column("position", "Position", sort_as="number"),
    Column("time", "Timestamp"),
    Column("key", "Key"),
    Column("size", "Size", numeric=True),
    Column("value", "Value"),
]


def parse_position(text: str) -> StartPosition:
    """``beginning`` / ``end`` / ``last N`` / an offset / ``15m`` or an ISO time."""
    word = text.strip().lower()
    if not word:
        return StartPosition("beginning")
    parts = word.split()
    if parts[0] == "last" and len(parts) == 2:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise UsageError("last N: N must be a positive number")
        return StartPosition("last", int(parts[1]))
    if word.isdigit() or word in ("first", "beginning", "earliest", "last", "next", "end"):
        return parse_offset(word)
    when = parse_time(text)
    return StartPosition("timestamp", int(when.timestamp() * 1000))


class MessagesScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("v", "cycle_view", "View"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self, destination: Destination) -> None:
        super().__init__()
        self.sub_title = f"messages of {safe(destination.qualified)}"  # the header's breadcrumb
        self.destination = destination
        self.messages: dict[str, Message] = {}
        self.done = False

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        with Horizontal(id="peek-form"):
            yield Label("start")
            yield Input("beginning", id="start", placeholder="beginning|end|last N|offset|15m")
            yield Label("max")
            yield Input("50", id="max", type="integer")
            yield Label("key")
            yield Input(id="key", placeholder="exact key")
            yield Label("grep")
            yield Input(id="grep", placeholder="regex on value/key")
            yield Label("header")
            yield Input(id="header", placeholder="name=value")
        with Horizontal(id="browser"):
            yield LiveTable(
                COLUMNS,
                title=f"Messages of {safe(self.destination.qualified)}",
                id="list",
                classes="panel",
            )
            yield MessageView(id="view")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#list", LiveTable).table.focus()
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cycle_view(self) -> None:
        view = self.query_one(MessageView).cycle_view()
        self.notify(f"view: {view}", timeout=1.5)

    @on(Input.Submitted, "#peek-form Input")
    def _form_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        try:
            start = parse_position(self.query_one("#start", Input).value)
            raw_max = self.query_one("#max", Input).value.strip() or "50"
            limit = max(1, min(int(raw_max), 5000))
            header = self.query_one("#header", Input).value.strip()
            filters = build_filter(
                key=self.query_one("#key", Input).value or None,
                grep=self.query_one("#grep", Input).value or None,
                headers=[header] if header else None,
            )
        except (MqctlError, ValueError) as exc:
            self.notify(str(exc), title="peek", severity="error")
            return
        options = PeekOptions(max_messages=limit, start=start, idle_timeout=1.5)
        self.messages.clear()
        table = self.query_one("#list", LiveTable)
        table.clear_rows()
        table.set_status("reading…")
        self.done = False
        self._peek(options, filters)

    @work(exclusive=True, group="peek")
    async def _peek(self, options: PeekOptions, filters: MessageFilter | None) -> None:
        table = self.query_one("#list", LiveTable)
        rows: dict[str, list[Cell]] = {}
        try:
            stream = mqctl_app(self).services.peek(self.destination, options, filters)
            try:
                async for message in stream:
                    key = str(len(rows) + 1)
                    self.messages[key] = message
                    rows[key] = self._row(int(key), message)
                    if len(rows) % 20 == 1:
                        table.set_rows(rows)
                        self._select_first()
            finally:
                await close_stream(stream)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            text = f"{DISCONNECTED}: {exc}" if _is_connect(exc) else str(exc)
            table.set_rows(rows)
            table.set_status(f"peek failed: {text}", "error")
            self.notify(text, title="peek", severity="error")
            return
        table.set_rows(rows)
        table.set_status(f"{len(rows)} messages (peek: nothing consumed)")
        self.done = True
        self._select_first()

    def _select_first(self) -> None:
        view = self.query_one(MessageView)
        if view.message is None and self.messages:
            view.show(self.messages[next(iter(self.messages))])

    @staticmethod
    def _row(n: int, m: Message) -> list[Cell]:
        if m.partition is not None:  # a log: partition and offset
            position = f"{m.partition}:{m.offset}"
            sort: object = (m.partition or 0) * 10**12 + (m.offset or 0)
        else:  # a queue: the place from its head, as peeked (redelivery is in the detail)
            position = f"#{n} in queue"
            sort = n
        key = "" if m.key is None else safe(m.key.decode("utf-8", "replace"))
        preview = "(null)"
        if m.value is not None:
            decoded = decode_value(m.value, "auto", m.headers)
            binary = decoded.format in ("base64", "hex")
            preview = f"binary {m.value[:24].hex(' ')}" if binary else decoded.text
        return [
            cell(n, sort=n),
            cell(position, sort=sort),
            cell(m.timestamp.strftime("%Y-%m-%d %H:%M:%S") if m.timestamp else "-"),
            cell(key),
            cell(f"{m.size:,}", sort=m.size),
            cell(safe(preview[:200])),
        ]

    @on(LiveTable.Chosen)
    def _chosen(self, event: LiveTable.Chosen) -> None:
        self.query_one(MessageView).show(self.messages.get(event.key))

    def on_data_table_row_highlighted(self, event: object) -> None:
        key = self.query_one("#list", LiveTable).selected_key
        if key is not None and key in self.messages:
            self.query_one(MessageView).show(self.messages[key])


def _is_connect(exc: BaseException) -> bool:
    from mqctl.errors import ConnectError

    return isinstance(exc, ConnectError)
