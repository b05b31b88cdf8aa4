"""Message body editor with live JSON validation."""

from __future__ import annotations

import json

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, TextArea


def json_problem(text: str) -> str | None:
    """None if ``text`` is valid JSON, else a one-line reason with line and column."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    return None


class BodyEditor(Vertical):
    DEFAULT_CSS = """
    BodyEditor { height: 1fr; border: round $primary 40%; }
    BodyEditor > TextArea { height: 1fr; border: none; }
    BodyEditor > .validity { height: 1; padding: 0 1; }
    BodyEditor > .validity.-bad { color: $error; }
    BodyEditor > .validity.-good { color: $success; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Body (templates: {{seq}} {{uuid}} {{now}} {{randint 1 9}})"
        self.area = TextArea(text, language=None, soft_wrap=True, show_line_numbers=True)
        self.validity = Label("", classes="validity")

    def compose(self) -> ComposeResult:
        yield self.area
        yield self.validity

    def on_mount(self) -> None:
        self.validate()

    @property
    def text(self) -> str:
        return self.area.text

    @text.setter
    def text(self, value: str) -> None:
        self.area.text = value
        self.validate()

    @property
    def looks_like_json(self) -> bool:
        return self.text.lstrip()[:1] in ("{", "[")

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        self.validate()

    def validate(self) -> str | None:
        """The JSON problem of the body if it looks like JSON (None: fine or plain text)."""
        label = self.validity
        problem = json_problem(self.text) if self.looks_like_json else None
        label.set_class(problem is not None, "-bad")
        label.set_class(problem is None and self.looks_like_json, "-good")
        if problem is not None:
            label.update(problem)
        elif self.looks_like_json:
            label.update("valid JSON")
        else:
            label.update("plain text (start with { or [ for JSON validation)")
        return problem
