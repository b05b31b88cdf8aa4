"""Helpers for the TUI Pilot tests (real brokers, real service layer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

DEADLINE = 45.0  # generous: a deadline for the broker to answer, never a timing assertion


async def wait_for(pilot: Pilot[object], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition()`` holds (fails after a generous deadline)."""
    waited = 0.0
    while not condition():
        if waited >= DEADLINE:
            raise AssertionError(f"gave up waiting for: {what}")
        await pilot.pause(0.1)
        waited += 0.1


def context_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


async def wait_for_screen(pilot: Pilot[object], screen_type: type, what: str) -> object:
    """Wait until a screen of ``screen_type`` is on top and mounted; return it."""
    app = pilot.app
    await wait_for(
        pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted, what
    )
    await pilot.pause()
    return app.screen
