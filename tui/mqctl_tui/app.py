"""The mqctl TUI application: refresh workers, subscriptions, context switching, actions.

Data flow: a timer ticks every ``refresh`` seconds (pausable with space); each tick starts
one background worker per data kind (broker status, topics, queues, lag). A worker awaits
one service call and posts a :class:`~mqctl_tui.data.DataUpdated` message to every widget
subscribed to that kind. The UI never awaits the network itself; failures become panel
statuses ("disconnected, retrying") and notifications, never exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from mqctl.config.schema import DEFAULT_REFRESH, Config, Context
from mqctl.errors import MqctlError
from mqctl.models.inventory import Destination
from mqctl_tui.commands import MqctlCommands
from mqctl_tui.data import (
    ContextChanged,
    DataUpdated,
    Kind,
    LagHistory,
    Outcome,
    RefreshTick,
)
from mqctl_tui.guard import ErrorGuard, TuiCrashed, describe, write_log
from mqctl_tui.services import Services, TuiServices

ServicesFactory = Callable[[Context, float | None], TuiServices]
TICK = "tick"
# What each refresh worker asks for.
LOADERS: dict[Kind, Callable[[TuiServices], Awaitable[object]]] = {
    Kind.STATUS: lambda services: services.broker_status(),
    Kind.TOPICS: lambda services: services.list_topics(),
    Kind.QUEUES: lambda services: services.list_queues(),
    Kind.LAG: lambda services: services.lag(),
}


def default_services(context: Context, timeout: float | None) -> TuiServices:
    return Services(context, timeout=timeout)


class MqctlApp(ErrorGuard):
    CSS_PATH = "app.tcss"
    TITLE = "mqctl"
    COMMANDS = App.COMMANDS | {MqctlCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark,f1", "help", "Help"),
        Binding("c", "pick_context", "Context"),
        Binding("r", "refresh", "Refresh"),
        Binding("space", "toggle_pause", "Pause"),
    ]

    paused: reactive[bool] = reactive(False)

    def __init__(
        self,
        context: Context,
        *,
        timeout: float | None = None,
        refresh: float = DEFAULT_REFRESH,
        config: Config | None = None,
        services_factory: ServicesFactory = default_services,
        debug: bool = False,
    ) -> None:
        super().__init__(debug=debug)
        self.context = context
        self.timeout = timeout
        self.refresh_seconds = refresh
        self._config = config
        self._factory = services_factory
        self.services: TuiServices = services_factory(context, timeout)
        self.generation = 0
        self.clock: Callable[[], float] = time.monotonic  # (a fixed one in snapshot tests)
        self.updated_at: float | None = None  # when the last data arrived (the header's age)
        self.latest: dict[Kind, Outcome] = {}
        self.lag_history = LagHistory()
        self.last_cycle_seconds: float | None = None
        self._subscribers: dict[str, list[Widget]] = {}
        self._inflight: set[Kind] = set()
        self._cycle_started: float | None = None
        self._failing: dict[Kind, str] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def on_mount(self) -> None:
        from mqctl_tui.screens.dashboard_screen import DashboardScreen

        self.push_screen(DashboardScreen())
        self.refresh_data()
        self.set_interval(self.refresh_seconds, self._tick, name="auto-refresh")

    async def on_unmount(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.services.close(), 3)

    @property
    def read_only(self) -> bool:
        return bool(self.context.read_only)

    @property
    def config(self) -> Config | None:
        if self._config is None:
            from mqctl.config import load_config

            try:
                self._config = load_config()
            except MqctlError as exc:
                self.notify(str(exc), title="config", severity="error")
        return self._config

    # -- subscriptions ---------------------------------------------------------------------
    def subscribe(self, kind: str, widget: Widget) -> None:
        """``widget`` gets a DataUpdated for every outcome of ``kind`` (the last one now)."""
        subscribers = self._subscribers.setdefault(str(kind), [])
        if widget not in subscribers:
            subscribers.append(widget)
        if kind != TICK and Kind(kind) in self.latest:
            widget.post_message(DataUpdated(self.latest[Kind(kind)]))

    def unsubscribe(self, widget: Widget) -> None:
        for subscribers in self._subscribers.values():
            if widget in subscribers:
                subscribers.remove(widget)

    def _publish(self, kind: str, make: Callable[[], Any]) -> None:
        for widget in list(self._subscribers.get(str(kind), ())):
            widget.post_message(make())

    # -- refreshing ------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.paused:
            return
        self.refresh_data()
        self._publish(TICK, RefreshTick)

    def refresh_data(self, kinds: list[Kind] | None = None) -> None:
        """Start a worker per kind (skipping kinds whose previous refresh is still running)."""
        wanted = [k for k in (kinds or list(Kind)) if k not in self._inflight]
        if not wanted:
            return
        if not self._inflight:
            self._cycle_started = time.perf_counter()
        for kind in wanted:
            self._inflight.add(kind)
            self._load(kind, self.generation)

    @work(group="refresh")
    async def _load(self, kind: Kind, generation: int) -> None:
        services = self.services
        started = time.perf_counter()
        try:
            data = await LOADERS[kind](services)
            outcome = Outcome(kind, data=data, generation=generation)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown in the panels and as a notification, never a crash
            outcome = Outcome(kind, error=exc, generation=generation)
        outcome.seconds = time.perf_counter() - started
        if generation != self.generation:
            return
        self._inflight.discard(kind)
        if not self._inflight and self._cycle_started is not None:
            self.last_cycle_seconds = time.perf_counter() - self._cycle_started
        more = services.queue_stats() if kind is Kind.QUEUES and outcome.ok else None
        outcome.partial = more is not None
        self.deliver(outcome)
        if more is not None:
            await self._complete(more, outcome, generation)

    async def _complete(
        self, more: Awaitable[object | None], partial: Outcome, generation: int
    ) -> None:
        """The rest of a partial outcome (the queues' stats, read after their lean listing;
        the next tick's listing does not wait for it)."""
        try:
            data = await more
            outcome = Outcome(partial.kind, data=data, generation=generation)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the rows shown keep their depths; the panel says why
            outcome = Outcome(partial.kind, error=exc, generation=generation)
        outcome.seconds = time.monotonic() - partial.at
        if outcome.ok and outcome.data is None:
            return  # superseded: a newer listing brought them
        if generation == self.generation:
            self.deliver(outcome)

    def deliver(self, outcome: Outcome) -> None:
        kind = outcome.kind
        self.latest[kind] = outcome
        if outcome.ok:
            self.updated_at = self.clock()
        if kind == Kind.LAG and outcome.ok:
            self.lag_history.add(outcome.data)
        self._notify_transition(outcome)
        self._publish(kind, lambda: DataUpdated(outcome))

    def _notify_transition(self, outcome: Outcome) -> None:
        kind = outcome.kind
        if outcome.ok:
            if self._failing.pop(kind, None) is not None and kind != Kind.STATUS:
                self.notify(f"{kind}: back to normal", title="recovered", timeout=3)
            return
        text = outcome.describe_error()
        if self._failing.get(kind) == text:
            return  # same failure as last time: the panel already says so
        self._failing[kind] = text
        self.notify(text, title=str(kind), severity="error", timeout=6)

    @property
    def refreshing(self) -> bool:
        return bool(self._inflight)

    # -- context ---------------------------------------------------------------------------
    def switch_context(self, context: Context) -> None:
        """Use another context: new Session, panels cleared, refresh now."""
        old = self.services
        self.generation += 1
        self._inflight.clear()
        self.latest.clear()
        self.updated_at = None
        self.lag_history.clear()
        self._failing.clear()
        self.context = context
        self.services = self._factory(context, self.timeout)
        self._close_later(old)
        from mqctl_tui.screens.dashboard_screen import DashboardScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, DashboardScreen):
            self.pop_screen()
        for kind in [*list(Kind), TICK]:
            self._publish(kind, ContextChanged)
        self.notify(f"switched to context {context.name}", timeout=3)
        self.refresh_bindings()
        self.refresh_data()

    @work(group="close")
    async def _close_later(self, services: TuiServices) -> None:
        with contextlib.suppress(Exception):
            await services.close()

    # -- actions ---------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.refresh_data()
        self._publish(TICK, RefreshTick)
        self.notify("refreshing…", timeout=1.5)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.notify("auto-refresh paused" if self.paused else "auto-refresh resumed", timeout=2)

    def action_help(self) -> None:
        from mqctl_tui.screens.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_pick_context(self) -> None:
        from mqctl_tui.screens.context_screen import ContextPicker

        config = self.config
        contexts = dict(config.contexts) if config is not None else {}
        contexts.setdefault(self.context.name, self.context)

        def chosen(name: str | None) -> None:
            if name and name != self.context.name:
                self.switch_context(contexts[name])

        self.push_screen(ContextPicker(contexts, self.context.name), chosen)

    def open_topic(self, name: str) -> None:
        from mqctl_tui.screens.topic_screen import TopicScreen

        self.push_screen(TopicScreen(name))

    def open_queue(self, name: str, vhost: str | None) -> None:
        from mqctl_tui.screens.queue_screen import QueueScreen

        self.push_screen(QueueScreen(name, vhost))

    def open_group(self, key: str) -> None:
        from mqctl_tui.screens.group_screen import GroupScreen

        self.push_screen(GroupScreen(key))

    def open_destination(self, destination: Destination) -> None:
        if destination.kind == "topic":
            self.open_topic(destination.name)
        else:
            self.open_queue(destination.name, destination.vhost)

    def browse(self, destination: Destination) -> None:
        from mqctl_tui.screens.messages_screen import MessagesScreen

        self.push_screen(MessagesScreen(destination))

    def guard_write(self, action: str, proceed: Callable[[], object]) -> None:
        """Run ``proceed`` (which starts a write) once the context allows it: in a protected
        context the user first types the context name in a modal; only the exact name
        approves the session's writes and goes ahead, anything else writes nothing."""
        if not self.context.protected:
            proceed()
            return
        from mqctl_tui.screens.protected_screen import ProtectedWriteScreen

        services = self.services

        def answered(confirmed: bool | None) -> None:
            if services is not self.services:
                return  # the context changed while the modal was open
            if not confirmed:
                self.notify(f"{action} cancelled: context name not confirmed", severity="warning")
                return
            services.approve_writes()
            proceed()

        self.push_screen(ProtectedWriteScreen(self.context.name, action), answered)

    def publish_to(self, destination: Destination) -> None:
        if self.read_only:
            self.notify(f"context {self.context.name} is read-only", severity="warning")
            return
        from mqctl_tui.screens.publish_screen import PublishScreen

        self.push_screen(PublishScreen(destination))

    def inspect_dlq(self, destination: Destination) -> None:
        from mqctl_tui.screens.dlq_screen import DlqScreen

        self.push_screen(DlqScreen(destination))

    def reset_offsets(self, group: str) -> None:
        if self.read_only:
            self.notify(f"context {self.context.name} is read-only", severity="warning")
            return
        from mqctl_tui.screens.offsets_screen import OffsetsScreen

        self.push_screen(OffsetsScreen(group))

    # -- command palette -------------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        from mqctl_tui.commands import palette_commands

        return palette_commands(self)


def run_app(
    context: Context,
    *,
    timeout: float | None = None,
    refresh: float | None = None,
    config: Config | None = None,
    debug: bool = False,
    services_factory: ServicesFactory = default_services,
    headless: bool = False,
) -> None:
    """Entry point used by ``mqctl tui``; raises :class:`TuiCrashed` (exit 70) when the app
    stopped on an error."""
    import logging

    from mqctl import gc_tuning

    gc_tuning.for_a_dashboard()

    # Client libraries log connection failures; with no handler Python would print them to
    # stderr, right over the dashboard. The panels and notifications report them instead.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        app = MqctlApp(
            context,
            timeout=timeout,
            refresh=refresh or DEFAULT_REFRESH,
            config=config,
            services_factory=services_factory,
            debug=debug,
        )
        app.run(headless=headless)
    except MqctlError:
        raise
    except Exception as exc:  # before the app's loop ran (e.g. the services failed to start)
        raise crashed(exc, write_log(exc, "starting the app")) from exc
    if app.crashed is not None:
        raise crashed(app.crashed, app.crash_log)


def crashed(error: BaseException, log: Path | None) -> TuiCrashed:
    where = f"traceback in {log}" if log else "the TUI log could not be written"
    return TuiCrashed(
        f"the TUI stopped on an unexpected {describe(error)} ({where})",
        hint="this is a bug in mqctl; please report it with the log",
    )
