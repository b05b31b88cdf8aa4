"""Shared behaviour of drill-down screens: reload on every refresh tick in a worker."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from mqctl.errors import ConnectError, MqctlError
from mqctl.models.inventory import Destination
from mqctl.rules import is_dlq_name
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import DISCONNECTED, ContextChanged, RefreshTick

WRITE_ACTIONS = {"publish", "reset_offsets", "redrive"}


class DetailScreen(Screen[None]):
    """Subclasses implement :meth:`fetch` (service calls) and :meth:`show` (widgets)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        self.failure: str | None = None
        self._loading = False

    def on_mount(self) -> None:
        mqctl_app(self).subscribe("tick", self)
        self.reload()

    def on_unmount(self) -> None:
        mqctl_app(self).unsubscribe(self)

    def on_refresh_tick(self, message: RefreshTick) -> None:
        self.reload()

    def on_context_changed(self, message: ContextChanged) -> None:
        self.dismiss_screen()

    def dismiss_screen(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # read-only contexts hide write actions
        return not (action in WRITE_ACTIONS and mqctl_app(self).read_only)

    def action_back(self) -> None:
        self.app.pop_screen()

    def reload(self) -> None:
        if not self._loading:
            self._loading = True
            self._reload()

    @work(group="detail")
    async def _reload(self) -> None:
        try:
            data = await self.fetch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._loading = False
            self._failed(exc)
            return
        self._loading = False
        first = not self.loaded
        self.loaded = True
        if self.failure is not None:
            self.failure = None
        self.show(data, first=first)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ConnectError):
            text = f"{DISCONNECTED}: {exc}"
        elif isinstance(exc, MqctlError):
            text = str(exc)
        else:
            text = f"{type(exc).__name__}: {exc}"
        if text != self.failure:
            self.notify(text, severity="error", timeout=6)
        self.failure = text
        self.show_error(text)

    async def fetch(self) -> Any:
        raise NotImplementedError

    def show(self, data: Any, *, first: bool) -> None:
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        for summary in self.query(".detail-summary").results(Static):
            summary.add_class("-error")
            summary.update(Text(text))
            break


class DestinationScreen(DetailScreen):
    """Drill-down of a topic or queue: browse its messages, publish to it, and inspect it as a
    dead-letter queue (offered only when its name looks like one)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "browse", "Messages"),
        Binding("p", "publish", "Publish"),
        Binding("d", "dlq", "DLQ inspect"),
    ]

    def __init__(self, destination: Destination) -> None:
        super().__init__()
        self.destination = destination

    def action_browse(self) -> None:
        mqctl_app(self).browse(self.destination)

    def action_publish(self) -> None:
        mqctl_app(self).publish_to(self.destination)

    def action_dlq(self) -> None:
        mqctl_app(self).inspect_dlq(self.destination)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dlq":
            patterns = mqctl_app(self).context.dlq_patterns
            dest = self.destination
            if not is_dlq_name(dest.name, dest.backend, patterns):
                return False
        return super().check_action(action, parameters)
