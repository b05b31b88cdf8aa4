"""Command palette entries for every action (and every topic, queue and group shown)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from mqctl_tui.app import MqctlApp


def _guarded(app: MqctlApp, name: str, callback: Callable[[], object]) -> None:
    """Run a palette entry; an error in it is reported, the app keeps running."""
    try:
        callback()
    except Exception as exc:
        app.report_error(exc, f"command {name!r}")


PER_OBJECT = ("Open ", "Browse ", "Publish to ", "Inspect DLQ ", "Reset offsets of ")


class MqctlCommands(Provider):
    """Static actions plus one entry per object the dashboard knows about."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("MqctlApp", self.app)
        return [
            (name, partial(_guarded, app, name, callback), help_text)
            for name, callback, help_text in app.palette_commands()
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if not name.startswith(PER_OBJECT):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(callback), help=help_text)
