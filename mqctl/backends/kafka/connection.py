"""One lazily started aiokafka client per backend, and mapping of Kafka errors to ours."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from mqctl.backends.kafka.settings import KafkaSettings
from mqctl.config.schema import tls_context, tls_error_reason, tls_hint
from mqctl.errors import AuthError, BrokerTimeout, ConnectError, MqctlError, connect_reason
from mqctl.single_flight import SingleFlight

if TYPE_CHECKING:
    from aiokafka.client import AIOKafkaClient

T = TypeVar("T")


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    if not settings.tls.enabled:
        return None
    return tls_context(settings.tls)


def client_options(settings: KafkaSettings, timeout: float) -> dict[str, Any]:
    """Options shared by the admin client, consumers and producers we create."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.client_id,
        "request_timeout_ms": int(timeout * 1000),
        "security_protocol": settings.security_protocol,
        "ssl_context": ssl_context(settings),
    }
    if settings.sasl is not None:
        options["sasl_mechanism"] = settings.sasl.mechanism
        options["sasl_plain_username"] = settings.sasl.username
        if settings.sasl.password is not None:
            options["sasl_plain_password"] = settings.sasl.password.reveal()
    return options


class KafkaConnection:
    """Owns the aiokafka client; every call goes through :meth:`call` for error mapping."""

    def __init__(self, settings: KafkaSettings, timeout: float, context: str) -> None:
        self.settings = settings
        self.timeout = timeout
        self.context = context
        self._client: AIOKafkaClient | None = None
        self._lock = asyncio.Lock()
        self.shared = SingleFlight()  # concurrent identical reads share one request

    async def client(self) -> AIOKafkaClient:
        async with self._lock:
            if self._client is None:
                from aiokafka.client import AIOKafkaClient

                options = client_options(self.settings, self.timeout)
                client = AIOKafkaClient(
                    **options, metadata_max_age_ms=300_000, connections_max_idle_ms=60_000
                )
                try:
                    await self.call(client.bootstrap())
                except BaseException:
                    await client.close()
                    raise
                self._client = client
            return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def call(self, awaitable: Awaitable[T], what: str = "request") -> T:
        """Await with the configured timeout, mapping failures to one-line errors."""
        try:
            async with asyncio.timeout(self.timeout):
                return await awaitable
        except MqctlError:
            raise
        except TimeoutError:
            raise BrokerTimeout(
                f"Kafka at {self.settings.address} did not answer the {what} "
                f"within {self.timeout:g}s",
                hint="raise the timeout with --timeout or check the broker",
            ) from None
        except Exception as exc:
            error = self.translate(exc)
            if type(error) is ConnectError and "bootstrap" in str(exc):
                error = await self._diagnose() or error
            raise error from exc

    async def _diagnose(self) -> MqctlError | None:
        """aiokafka's bootstrap only logs why each server failed ("Unable to bootstrap");
        connect once more to the first server to name the reason (certificate, password)."""
        from aiokafka.conn import create_conn

        options = client_options(self.settings, self.timeout)
        host, _, port = self.settings.bootstrap_servers[0].rpartition(":")
        try:
            async with asyncio.timeout(self.timeout):
                conn = await create_conn(
                    host.strip("[]"),
                    int(port),
                    client_id=self.settings.client_id,
                    request_timeout_ms=options["request_timeout_ms"],
                    ssl_context=options["ssl_context"],
                    security_protocol=options["security_protocol"],
                    sasl_mechanism=options.get("sasl_mechanism", "PLAIN"),
                    sasl_plain_username=options.get("sasl_plain_username"),
                    sasl_plain_password=options.get("sasl_plain_password"),
                )
        except Exception as exc:
            error = self.translate(exc)
            specific = isinstance(error, AuthError) or tls_error_reason(exc) is not None
            if not specific and type(error) is ConnectError:
                return error  # "cannot connect ... (connection refused / DNS lookup failed)"
            return error if specific else None
        conn.close()
        return None

    def translate(self, exc: BaseException) -> MqctlError:
        from aiokafka import errors as kerr

        address = self.settings.address
        reason = tls_error_reason(exc) if self.settings.tls.enabled else None
        if reason is not None:
            return ConnectError(
                f"TLS with Kafka at {address} failed: {reason}",
                hint=tls_hint(self.settings.tls),
            )
        if isinstance(exc, kerr.KafkaConnectionError | ConnectionError | OSError):
            return ConnectError(
                f"cannot connect to Kafka at {address} ({connect_reason(exc)})",
                hint=f"is the broker running? check kafka.bootstrap-servers of context "
                f"{self.context!r}",
            )
        auth_errors = (
            kerr.SaslAuthenticationFailed,
            kerr.UnsupportedSaslMechanismError,
            kerr.AuthenticationFailedError,
            kerr.AuthenticationMethodNotSupported,
        )
        if isinstance(exc, auth_errors):
            return AuthError(
                f"Kafka at {address} refused the credentials ({type(exc).__name__})",
                hint=f"check kafka.sasl of context {self.context!r}",
            )
        if isinstance(exc, kerr.KafkaTimeoutError):
            return BrokerTimeout(f"Kafka at {address} timed out")
        if isinstance(exc, kerr.KafkaError) and exc.retriable:
            # A broker is down or partition leaders are moving (NodeNotReady, NotLeader...):
            # the cluster recovers on its own, usually within seconds.
            return ConnectError(
                f"Kafka at {address}: a broker or partition leader is not available right "
                f"now ({type(exc).__name__})",
                hint="a broker may be down or leaders are being re-elected; retry shortly",
            )
        from mqctl.errors import BrokerError

        return BrokerError(f"Kafka at {address}: {type(exc).__name__}: {exc}")
