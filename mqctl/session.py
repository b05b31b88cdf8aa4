"""A session: one context's backends, created lazily and closed together.

Both views (CLI and TUI) hold a Session and call the service functions in
:mod:`mqctl.services` with it; nothing else creates backends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from mqctl import registry
from mqctl.backend import Backend
from mqctl.config.schema import Context
from mqctl.errors import ConfigError, NotSupportedError, UsageError, WriteRefused
from mqctl.invocation import Invocation

T = TypeVar("T")


class Session:
    def __init__(
        self,
        context: Context,
        *,
        timeout: float | None = None,
        write_approval: Callable[[str, Context], None] | None = None,
        invocation: Invocation | None = None,
    ) -> None:
        self.context = context
        self.timeout = timeout if timeout is not None else context.timeout
        # Called before the first write on a protected context; raises to refuse.
        self.write_approval = write_approval
        # What the view was asked to do (the audit log's command line).
        self.invocation = invocation if invocation is not None else Invocation()
        self._approved: set[str] = set()
        self._backends: dict[str, Backend] = {}

    @property
    def backend_names(self) -> list[str]:
        """Configured broker sections of this context, in config order."""
        return list(self.context.backends)

    def backend(self, name: str) -> Backend:
        """The backend for a configured section (created on first use)."""
        if name in self._backends:
            return self._backends[name]
        if name not in self.context.backends:
            configured = ", ".join(self.backend_names) or "none"
            raise UsageError(
                f"context {self.context.name!r} has no {name} broker (configured: {configured})"
            )
        # Only this section's class: a built-in without scanning the installed plugins.
        cls = registry.backend_class(name)
        if cls is None:
            installed = ", ".join(sorted(registry.backends().objects)) or "none"
            raise ConfigError(
                f"config {self.context.source}: contexts.{self.context.name}.{name}: "
                f"no backend named {name!r} is installed "
                f"(installed: {installed})"
            )
        try:
            backend: Backend = cls.from_config(
                self.context.backends[name], context=self.context.name, timeout=self.timeout
            )
        except ConfigError as exc:
            if exc.message.startswith("config "):
                raise
            raise ConfigError(f"config {self.context.source}: {exc.message}") from exc
        self._backends[name] = backend
        return backend

    def backends(self) -> list[Backend]:
        return [self.backend(name) for name in self.backend_names]

    def backends_with(self, capability: type[T], what: str) -> list[tuple[Backend, T]]:
        """Configured backends offering ``capability`` (a runtime-checkable Protocol), each
        paired with itself typed as the capability; none at all is a clear error."""
        found: list[tuple[Backend, T]] = []
        for backend in self.backends():
            capable: object = backend
            if isinstance(capable, capability):
                found.append((backend, capable))
        if not found:
            configured = ", ".join(self.backend_names) or "no brokers"
            raise NotSupportedError(
                f"{what}: context {self.context.name!r} has no broker that supports it "
                f"(configured: {configured})"
            )
        return found

    def backend_for(
        self, capability: type[T], what: str, *, backend: str | None = None
    ) -> tuple[Backend, T]:
        """The one configured backend offering ``capability`` (a runtime-checkable Protocol),
        returned as itself and typed as the capability. ``backend`` picks one by name (a
        ``kafka:``/``rabbitmq:`` prefix the user typed); several candidates without a name
        are ambiguous (exit 2), none at all is "not supported" (exit 2)."""
        if backend is not None:
            chosen = self.backend(backend)
            if not isinstance(chosen, capability):
                raise NotSupportedError(f"{what} is not supported by the {backend} backend")
            return chosen, chosen
        found = self.backends_with(capability, what)
        if len(found) > 1:
            names = ", ".join(b.name for b, _ in found)
            raise UsageError(
                f"{what}: several brokers can do it ({names})",
                hint="prefix the name with the broker, e.g. kafka:NAME or rabbitmq:NAME",
            )
        return found[0]

    def approve_writes(self) -> None:
        """The view confirmed writes to this protected context (e.g. the TUI's modal where
        the user typed the context name): later writes of this session go ahead."""
        self._approved.add(self.context.name)

    @property
    def writes_approved(self) -> bool:
        """Whether writes need no further confirmation (not protected, or approved)."""
        return not self.context.protected or self.context.name in self._approved

    def check_writable(self, action: str) -> None:
        """Every write goes through here first: read-only contexts refuse, protected ones
        need the view's explicit approval (the CLI asks for the context name). Raises
        :class:`WriteRefused` (or the approval's :class:`DeclinedError`); the calling
        service's audit records that outcome."""
        if self.context.read_only:
            raise WriteRefused(
                f"context {self.context.name!r} is read-only: {action} refused",
                hint="set read-only = false in the config to allow writes",
            )
        if self.context.protected and self.context.name not in self._approved:
            if self.write_approval is None:
                raise WriteRefused(
                    f"context {self.context.name!r} is protected: {action} needs confirmation",
                    hint=f"confirm with --yes --context {self.context.name}",
                )
            self.write_approval(action, self.context)
            self._approved.add(self.context.name)

    async def close(self) -> None:
        for backend in self._backends.values():
            with contextlib.suppress(Exception):  # closing must never hide the real outcome
                await backend.close()
        self._backends.clear()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
