"""AMQP 0-9-1 connections (aio-pika), one per vhost, with broker errors as one-line errors.

The management API cannot publish with confirms or peek safely, so messages go through AMQP.
Every failure is mapped here to an :class:`~mqctl.errors.MqctlError` whose text names the
redacted address (``amqp://guest@127.0.0.1:5672/``) and never the password: client library
messages are not reused verbatim because some of them echo the connection URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.backends.rabbitmq.settings import RabbitSettings
from mqctl.config.schema import tls_context, tls_error_reason, tls_hint
from mqctl.config.secrets import scrub
from mqctl.errors import (
    AuthError,
    BrokerError,
    BrokerTimeout,
    ConnectError,
    MqctlError,
    NotFoundError,
    UsageError,
)

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection


def reply_text(exc: BaseException) -> str:
    """The broker's reply text of a closed connection/channel (``NOT_FOUND - no queue 'x' ...``)."""
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, str) and arg:
            return scrub(arg)
        text = getattr(arg, "reply_text", None)
        if isinstance(text, str) and text:
            return scrub(text)
    return type(exc).__name__


class AmqpConnections:
    """Lazily opened AMQP connections of one backend, keyed by vhost."""

    def __init__(
        self,
        settings: RabbitSettings,
        timeout: float,
        context: str,
        api: ManagementClient | None = None,
    ) -> None:
        self.settings = settings
        self.api = api  # to tell "no such vhost" from "no access" (AMQP does not say which)
        self.timeout = timeout
        self.context = context
        self._connections: dict[str, AbstractConnection] = {}
        self._lock = asyncio.Lock()

    def where(self, vhost: str) -> str:
        """The redacted address, with the vhost when it is not the default one."""
        base = self.settings.address
        return base if vhost == "/" else f"{base} (vhost {vhost!r})"

    async def connection(self, vhost: str) -> AbstractConnection:
        async with self._lock:
            existing = self._connections.get(vhost)
            if existing is not None and not existing.is_closed:
                return existing
            connection = await self._connect(vhost)
            self._connections[vhost] = connection
            return connection

    async def channel(self, vhost: str, *, confirms: bool = False) -> AbstractChannel:
        """A new channel (the caller closes it): a channel error only breaks that channel."""
        connection = await self.connection(vhost)
        try:
            return await asyncio.wait_for(
                connection.channel(publisher_confirms=confirms), self.timeout
            )
        except Exception as exc:
            raise self.map_error(exc, vhost) from None

    async def _connect(self, vhost: str) -> AbstractConnection:
        import aio_pika

        from mqctl.backends.rabbitmq.aiormq_internals import allow_any_names

        allow_any_names()  # every AMQP use starts here: names outside ASCII work from now on
        s = self.settings
        ssl_context = tls_context(s.tls) if s.tls.enabled else None
        # What aio_pika.connect() does, with the connection closed when opening it fails:
        # left to its __del__, the close is scheduled on a loop about to end and never runs.
        connection = aio_pika.Connection(
            aio_pika.connection.make_url(
                host=s.host,
                port=s.port,
                login=s.username,
                password=s.password.reveal() if s.password else "",
                virtualhost=vhost,
                ssl=s.tls.enabled,
            ),
            ssl_context=ssl_context,
            client_properties={"connection_name": f"mqctl ({self.context})"},
        )
        try:
            await asyncio.wait_for(connection.connect(timeout=self.timeout), self.timeout)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await connection.close()
            if not isinstance(exc, Exception):
                raise
            if _refused_at_open(exc):
                raise await self._vhost_error(vhost) from None
            raise self.map_error(exc, vhost) from None
        return connection

    async def _vhost_error(self, vhost: str) -> MqctlError:
        """The broker closed the connection at ``connection.open``: the vhost is missing or
        the user may not use it. Ask the management API which, when it answers."""
        if self.api is not None:
            try:
                await self.api.ensure_vhost(vhost)
            except NotFoundError:
                return NotFoundError(
                    f"vhost {vhost!r} not found on RabbitMQ at {self.settings.address}"
                )
            except MqctlError:
                pass
            else:
                return AuthError(
                    f"user {self.settings.username!r} has no access to vhost {vhost!r} on "
                    f"RabbitMQ at {self.settings.address}",
                    hint="grant it with rabbitmqctl set_permissions or the management UI",
                )
        return NotFoundError(
            f"RabbitMQ at {self.settings.address} refused to open vhost {vhost!r}: it does "
            f"not exist or user {self.settings.username!r} has no access to it"
        )

    def map_error(self, exc: BaseException, vhost: str, what: str = "") -> MqctlError:
        """One clear error for anything aio-pika/aiormq raises (``what`` names the object)."""
        import aiormq.exceptions as amqp_errors

        if isinstance(exc, MqctlError):
            return exc
        where = self.where(vhost)
        text = reply_text(exc)
        if isinstance(exc, asyncio.TimeoutError | TimeoutError):
            return BrokerTimeout(f"RabbitMQ at {where} did not answer within {self.timeout:g}s")
        if isinstance(
            exc, amqp_errors.ProbableAuthenticationError | amqp_errors.AuthenticationError
        ):
            return AuthError(
                f"RabbitMQ at {self.settings.address} refused user {self.settings.username!r} "
                f"(ACCESS_REFUSED: wrong password?)",
                hint=f"check rabbitmq.password* of context {self.context!r}",
            )
        if isinstance(exc, amqp_errors.ConnectionNotAllowed):
            if "not found" in text:
                return NotFoundError(f"vhost {vhost!r} not found on RabbitMQ at {where}")
            return AuthError(
                f"user {self.settings.username!r} may not use vhost {vhost!r} on RabbitMQ at "
                f"{self.settings.address} ({text})"
            )
        if isinstance(exc, amqp_errors.ChannelNotFoundEntity):
            return NotFoundError(f"{what or 'object'} not found on RabbitMQ at {where} ({text})")
        if isinstance(exc, amqp_errors.ChannelAccessRefused):
            return AuthError(f"RabbitMQ at {where} refused access to {what or 'it'} ({text})")
        if isinstance(exc, amqp_errors.ChannelPreconditionFailed):
            return UsageError(f"RabbitMQ at {where} refused {what or 'the request'} ({text})")
        if isinstance(exc, amqp_errors.AMQPChannelError | amqp_errors.ConnectionClosed):
            return BrokerError(f"RabbitMQ at {where} closed the channel ({text})")
        tls_reason = tls_error_reason(exc) if self.settings.tls.enabled else None
        if tls_reason is not None:
            return ConnectError(
                f"TLS with RabbitMQ at {self.settings.address} failed: {tls_reason}",
                hint=tls_hint(self.settings.tls),
            )
        if isinstance(exc, OSError | amqp_errors.AMQPConnectionError):
            reason = _os_reason(exc)
            return ConnectError(
                f"cannot connect to RabbitMQ at {self.settings.address} ({reason})",
                hint=f"is the broker running? check rabbitmq.url of context {self.context!r}",
            )
        return BrokerError(f"RabbitMQ at {where}: {type(exc).__name__}: {scrub(str(exc))}")

    async def forget(self, vhost: str) -> None:
        """Drop the vhost's connection (e.g. after the broker closed it with a
        connection-level error): the next use opens a new one."""
        async with self._lock:
            connection = self._connections.pop(vhost, None)
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), self.timeout)

    async def queue_exists(self, vhost: str, name: str) -> bool:
        """Whether the queue exists, from a passive declare (no management API needed). A
        missing queue closes the channel, so a throw-away one is used."""
        import aiormq.exceptions as amqp_errors

        channel = await self.channel(vhost)
        try:
            await channel.declare_queue(name, passive=True, timeout=self.timeout)
        except amqp_errors.ChannelNotFoundEntity:
            return False
        except Exception as exc:
            raise self.map_error(exc, vhost, f"queue {name!r}") from None
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(channel.close()), self.timeout)
        return True

    async def close(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            try:
                await asyncio.wait_for(connection.close(), self.timeout)
            except Exception:  # closing must never hide the real outcome
                continue


def _refused_at_open(exc: BaseException) -> bool:
    """aiormq reports a connection.close in answer to connection.open as an invalid frame."""
    import aiormq.exceptions as amqp_errors

    if isinstance(exc, amqp_errors.ConnectionNotAllowed):
        return True
    return isinstance(exc, amqp_errors.InvalidFrameError) and "Connection.Close" in str(exc)


def _os_reason(exc: BaseException) -> str:
    from mqctl.errors import connect_reason

    return connect_reason(exc)
