"""The guard before a write in a protected context: type the context's name to go ahead.

The TUI's counterpart of the CLI's prompt (``approve_protected_write``): only the exact
name (surrounding blanks ignored, as in the CLI) confirms; anything else, escape or cancel
refuses and nothing is written.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mqctl_tui.formatting import safe


class ProtectedWriteScreen(ModalScreen[bool]):
    """Dismissed with True only when the typed text is the context's name."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, context_name: str, action: str) -> None:
        super().__init__()
        self.context_name = context_name
        self.action_text = action

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="protected"):
            yield Label(f"Context {safe(self.context_name)} is protected", classes="title")
            yield Static(
                Text(
                    f"Type the context name to confirm {self.action_text}.\n"
                    "Anything else cancels; nothing is written."
                )
            )
            yield Input(placeholder=self.context_name, id="protected-name")
            with Horizontal(id="confirm-buttons"):
                yield Button("Confirm", variant="error", id="yes")
                yield Button("Cancel (escape)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#protected-name", Input).focus()

    @property
    def matches(self) -> bool:
        return self.query_one("#protected-name", Input).value.strip() == self.context_name

    @on(Input.Submitted, "#protected-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self.matches)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes" and self.matches)

    def action_cancel(self) -> None:
        self.dismiss(False)
