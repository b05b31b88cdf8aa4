"""One message: value (pretty JSON / text / hex) and its headers and properties."""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mqctl.messages.decode import decode_value
from mqctl.messages.render import format_header_value
from mqctl.models.messages import Message
from mqctl_tui.formatting import hexdump, safe

VIEWS = ("pretty", "text", "hex")


def value_text(message: Message, view: str) -> tuple[str, str]:
    """(display text, label) of the value in ``view``; binary falls back to hex."""
    value = message.value
    if value is None:
        return "(null)", "null"
    if view == "hex":
        return hexdump(value), "hex"
    decoded = decode_value(value, "auto", message.headers)
    if decoded.format == "json" and view == "pretty":
        pretty = json.dumps(decoded.data, indent=2, ensure_ascii=False, default=str)
        return safe_block(pretty), "json"
    if decoded.format in ("base64", "hex"):
        return hexdump(value), "binary → hex"
    return safe_block(decoded.text), decoded.format


def safe_block(text: str) -> str:
    from mqctl.output.sanitize import safe_text

    return safe_text(text, keep_newlines=True)


class MessageView(VerticalScroll):
    """Value on top, then a headers/properties table."""

    DEFAULT_CSS = """
    MessageView { border: round $primary 40%; height: 1fr; }
    MessageView > Static { width: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Message"
        self.view = "pretty"
        self.message: Message | None = None
        self.body = Static("select a message", id="value")

    def compose(self) -> ComposeResult:
        yield self.body

    def show(self, message: Message | None) -> None:
        self.message = message
        self.redraw()

    def cycle_view(self) -> str:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.redraw()
        return self.view

    def redraw(self) -> None:
        message = self.message
        static = self.body
        if message is None:
            static.update("select a message")
            return
        body, label = value_text(message, self.view)
        self.border_title = f"Message · {label} · view {self.view} (v)"
        meta = Table.grid(padding=(0, 2))
        meta.add_column(style="dim", no_wrap=True)
        meta.add_column()
        position = (
            f"partition {message.partition} offset {message.offset}"
            if message.partition is not None
            else safe(f"exchange {message.exchange!r} routing key {message.routing_key!r}")
        )
        meta.add_row("position", position)
        if message.timestamp is not None:
            meta.add_row("timestamp", message.timestamp.isoformat())
        if message.key is not None:
            meta.add_row("key", safe(message.key.decode("utf-8", "replace")))
        if message.redelivered is not None:
            meta.add_row("redelivered", "yes" if message.redelivered else "no")
        headers = pairs_table("headers", header_rows(message))
        parts: list[RenderableType] = [meta, Text(""), Text(body), Text(""), headers]
        if message.properties or message.backend == "rabbitmq":
            # AMQP basic properties (content_type, message_id, delivery_mode…) are not
            # headers: the application's headers are one of them, shown above.
            props = [(safe(k), safe(v)) for k, v in message.properties.items() if k != "headers"]
            parts += [Text(""), pairs_table("AMQP properties", props)]
        static.update(Group(*parts))


def header_rows(message: Message) -> list[tuple[str, str]]:
    return [(safe(name), safe(format_header_value(value))) for name, value in message.headers]


def pairs_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", expand=False, show_edge=False)
    table.add_column("name", style="cyan")
    table.add_column("value")
    for name, value in rows:
        table.add_row(Text(name), Text(value))
    if not rows:
        table.add_row("(none)", "")
    return table
