"""A LiveTable fed by the app's refresh workers (one or more data kinds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from mqctl.models.inventory import Destination
from mqctl_tui.app_access import mqctl_app
from mqctl_tui.data import DISCONNECTED, ContextChanged, DataUpdated, Kind, Outcome
from mqctl_tui.guard import describe
from mqctl_tui.widgets.common.live_table import Cell, Column, LiveTable

_NONE = object()


class DataPanel(LiveTable):
    """Subscribes to ``KINDS``; keeps the last good data when a refresh fails."""

    KINDS: ClassVar[tuple[Kind, ...]] = ()
    NOUN: ClassVar[str] = "rows"
    # The status line's note while a partial outcome's rest is being read (Outcome.partial).
    PARTIAL: ClassVar[str] = "more loading…"
    # Rows depend on the data only (not on history): unchanged data skips the rebuild.
    PURE: ClassVar[bool] = True

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        super().__init__(columns, **kwargs)
        self.data: dict[Kind, Any] = {}
        self.failures: dict[Kind, Outcome] = {}
        self.partial: set[Kind] = set()  # kinds whose last data has more coming
        self.payload: dict[str, Any] = {}

    def on_mount(self) -> None:
        for kind in self.KINDS:
            mqctl_app(self).subscribe(kind, self)

    def on_unmount(self) -> None:
        mqctl_app(self).unsubscribe(self)

    def on_data_updated(self, message: DataUpdated) -> None:
        try:
            self._take(message.outcome)
        except Exception as exc:  # a bug in a panel: say so there, keep the app alive
            self.set_status(f"error showing {self.NOUN}: {describe(exc)}", "error")
            mqctl_app(self).report_error(exc, f"{self.NOUN} panel")

    def _take(self, outcome: Outcome) -> None:
        if outcome.ok and outcome.partial:
            self.partial.add(outcome.kind)
        else:  # (after a failure the rest is not coming: the next refresh asks again)
            self.partial.discard(outcome.kind)
        if outcome.ok and self.PURE and self.data.get(outcome.kind, _NONE) == outcome.data:
            # Same data as shown (the usual case at rest): no rows to build, nothing to diff.
            self.failures.pop(outcome.kind, None)
            self._show_status()
            return
        if outcome.ok:
            self.data[outcome.kind] = outcome.data
            self.failures.pop(outcome.kind, None)
        else:
            self.failures[outcome.kind] = outcome
        if outcome.ok or outcome.kind not in self.data:
            rows = self.build_rows()
            if rows is not None:
                self.set_rows(rows)
        self._show_status()

    def on_context_changed(self, message: ContextChanged) -> None:
        self.data.clear()
        self.failures.clear()
        self.partial.clear()
        self.payload.clear()
        self.clear_rows()
        self.set_status("loading…")

    def _show_status(self) -> None:
        if self.failures:
            outcome = next(iter(self.failures.values()))
            if outcome.disconnected:
                kept = " (showing last data)" if self.total_count else ""
                self.set_status(f"{DISCONNECTED}{kept}", "error")
            else:
                self.set_status(f"error, retrying: {outcome.describe_error()}", "error")
            return
        if any(kind not in self.data for kind in self.KINDS):
            self.set_status("loading…")
            return
        shown, total = self.row_count, self.total_count
        counted = f"{total} {self.NOUN}" if shown == total else f"{shown} of {total} {self.NOUN}"
        self.set_status(f"{counted} · {self.PARTIAL}" if self.partial else counted)

    def _sync(self) -> None:
        super()._sync()
        if self.is_mounted and not self.failures and self.data:
            self._show_status()

    # -- for subclasses --------------------------------------------------------------------
    def build_rows(self) -> dict[str, list[Cell]] | None:
        """Rows from ``self.data`` (fill ``self.payload[key]`` with the object of each row)."""
        return None

    def destination(self, key: str | None) -> Destination | None:
        """The topic/queue a row stands for (for browse / publish / DLQ actions)."""
        return None

    @property
    def selected_destination(self) -> Destination | None:
        return self.destination(self.selected_key)
