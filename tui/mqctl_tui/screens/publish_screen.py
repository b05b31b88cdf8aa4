"""Publish form: key / routing key, headers, body with JSON validation, template, count, rate.

Messages are built by the core (``mqctl.messages.sources.build_messages``, the same code the
CLI uses) one at a time as the broker takes them, and sent through
``mqctl.services.messages.publish_tallies``: a count of 2,000,000 never becomes a list, and
the progress bar moves a few times a second, not once per message. Escape cancels a publish
in flight. The template checkbox follows the body (on when it has ``{{…}}`` placeholders)
until the user sets it, and says "on" or "off" in words.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, ProgressBar, TextArea
from textual.worker import Worker

from mqctl.errors import MqctlError, UsageError
from mqctl.messages.headers import parse_pairs
from mqctl.messages.sources import SourceSpec, build_messages
from mqctl.models.inventory import Destination
from mqctl.models.messages import OutgoingMessage, PublishOptions
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.formatting import count, safe
from mqctl_tui.services import close_stream
from mqctl_tui.widgets.actions.body_editor import BodyEditor
from mqctl_tui.widgets.header.context_header import ContextHeader

EXAMPLE = '{\n  "id": "{{seq}}",\n  "at": "{{now}}"\n}'


class PublishScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "publish", "Publish"),
        Binding("escape", "back", "Back / cancel"),
    ]

    def __init__(self, destination: Destination) -> None:
        super().__init__()
        self.sub_title = f"publish to {safe(destination.qualified)}"  # the header's breadcrumb
        self.destination = destination
        self.worker: Worker[None] | None = None
        self.sent = 0
        self.failed = 0
        self.finished = False
        self.template_touched = False  # the user set the checkbox: it no longer follows
        self._setting_template = False

    def compose(self) -> ComposeResult:
        yield ContextHeader()
        is_topic = self.destination.kind == "topic"
        yield Label(f"Publish to {safe(self.destination.qualified)}", classes="title", id="target")
        with Horizontal(id="publish-form"):
            yield Label("key" if is_topic else "routing key")
            yield Input(
                "" if is_topic else self.destination.name,
                id="key",
                placeholder="message key" if is_topic else "routing key",
            )
            yield Label("headers")
            yield Input(id="headers", placeholder="k=v; k2=v2")
            yield Label("count")
            yield Input("1", id="count", type="integer")
            yield Label("rate/s")
            yield Input(id="rate", placeholder="unlimited", type="number")
            yield Checkbox(template_label(True), value=True, id="template")
        yield BodyEditor(EXAMPLE, id="body")
        yield ProgressBar(total=1, id="progress", show_eta=False)
        yield Label("ctrl+s publishes · escape cancels / goes back", id="publish-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(BodyEditor).area.focus()

    # -- the template checkbox follows the body until the user sets it -------------------------
    @on(TextArea.Changed)
    def _body_changed(self, event: TextArea.Changed) -> None:
        if not self.template_touched:
            wanted = has_placeholders(self.query_one(BodyEditor).text)
            box = self.query_one("#template", Checkbox)
            if box.value != wanted:
                self._setting_template = True
                box.value = wanted

    @on(Checkbox.Changed, "#template")
    def _template_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = template_label(event.value)
        if self._setting_template:
            self._setting_template = False
        else:
            self.template_touched = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "publish" and mqctl_app(self).read_only)

    def action_back(self) -> None:
        if self.worker is not None and self.worker.is_running:
            self.worker.cancel()
            self._status(f"cancelled after {self.sent} sent")
            return
        self.app.pop_screen()

    def _status(self, text: str) -> None:
        self.query_one("#publish-status", Label).update(text)

    def action_publish(self) -> None:
        if self.worker is not None and self.worker.is_running:
            self.notify("a publish is already running", severity="warning")
            return
        try:
            spec, rate = self._spec()
            outgoing, total = build_messages(spec)  # lazy: built as the broker takes them
        except (MqctlError, ValueError) as exc:
            self.notify(str(exc), title="publish", severity="error")
            self._status(f"not sent: {exc}")
            return
        options = PublishOptions()
        if self.destination.kind != "topic":
            options = PublishOptions(routing_key=spec.routing_key)

        def start() -> None:
            self.sent = self.failed = 0
            self.finished = False
            self.query_one(ProgressBar).update(total=total, progress=0)
            self.worker = self._publish(outgoing, total, options, rate)

        mqctl_app(self).guard_write("publish", start)

    def _spec(self) -> tuple[SourceSpec, float | None]:
        editor = self.query_one(BodyEditor)
        problem = editor.validate()
        if problem is not None:
            raise UsageError(f"body is {problem} (fix it or do not start with {{ or [)")
        body = editor.text
        if not body:
            raise UsageError("the body is empty")
        key = self.query_one("#key", Input).value
        raw_headers = [h for h in self.query_one("#headers", Input).value.split(";") if h.strip()]
        headers = parse_pairs([h.strip() for h in raw_headers], "headers")
        count_text = self.query_one("#count", Input).value.strip() or "1"
        count = int(count_text)
        if count < 1:
            raise UsageError("count must be at least 1")
        rate_text = self.query_one("#rate", Input).value.strip()
        rate = float(rate_text) if rate_text else None
        if rate is not None and rate <= 0:
            raise UsageError("rate must be positive")
        is_topic = self.destination.kind == "topic"
        spec = SourceSpec(
            value=body,
            key=(key or None) if is_topic else None,
            routing_key=None if is_topic else (key or self.destination.name),
            headers=headers,
            count=count,
            template=self.query_one("#template", Checkbox).value,
        )
        return spec, rate

    @work(exclusive=True, group="publish")
    async def _publish(
        self,
        outgoing: Iterator[OutgoingMessage],
        total: int | None,
        options: PublishOptions,
        rate: float | None,
    ) -> None:
        bar = self.query_one(ProgressBar)
        self._status(f"publishing {count(total)}…")
        shown_at = 0.0
        try:
            results = mqctl_app(self).services.publish_tallies(
                self.destination, outgoing, options, rate
            )
            try:
                async for confirmed, failures in results:
                    self.sent += confirmed
                    self.failed += len(failures)
                    now = time.monotonic()
                    if now - shown_at >= PROGRESS_EVERY:  # not 2,000,000 repaints
                        shown_at = now
                        self._progress(bar, total)
            finally:
                await close_stream(results)
        except asyncio.CancelledError:
            self._progress(bar, total)
            self._status(f"cancelled: {self.sent:,} sent, {self.failed:,} failed")
            raise
        except Exception as exc:
            self.notify(str(exc), title="publish", severity="error")
            self._status(f"failed after {self.sent:,} sent: {safe(exc)}")
            return
        self._progress(bar, total)
        self.finished = True
        summary = f"{self.sent:,} sent, {self.failed:,} failed"
        self._status(summary)
        self.notify(summary, title="published", severity="error" if self.failed else "information")

    def _progress(self, bar: ProgressBar, total: int | None) -> None:
        bar.update(progress=self.sent + self.failed)
        of = f" of {total:,}" if total else ""
        self._status(f"publishing: {self.sent + self.failed:,}{of} (escape cancels)")


PROGRESS_EVERY = 0.1  # seconds between progress updates


def has_placeholders(body: str) -> bool:
    return "{{" in body and "}}" in body


def template_label(on: bool) -> str:
    """The checkbox's label says its state (its box looks alike on and off without colour)."""
    return "template: on" if on else "template: off"
