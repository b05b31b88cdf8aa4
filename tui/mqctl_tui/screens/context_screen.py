"""Pick the context to look at (c)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from mqctl.config.schema import Context
from mqctl_tui.formatting import safe


class ContextPicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, contexts: dict[str, Context], current: str) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Switch context", classes="title")
            options = []
            for name in sorted(self.contexts):
                ctx = self.contexts[name]
                text = Text(("● " if name == self.current else "  ") + safe(name), style="bold")
                brokers = ", ".join(ctx.backends) or "no brokers"
                text.append(f"  {brokers}", style="dim")
                if ctx.read_only:
                    text.append("  read-only", style="yellow")
                if ctx.description:
                    text.append(f"  {safe(ctx.description)}", style="dim italic")
                options.append(Option(text, id=name))
            yield OptionList(*options)

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        names = sorted(self.contexts)
        if self.current in names:
            option_list.highlighted = names.index(self.current)
        option_list.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
