"""One lazily started aiokafka client per backend, and mapping of Kafka errors to ours."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from mqctl.backends.kafka.settings import KafkaSettings
from mqctl.errors import AuthError, BrokerTimeout, ConnectError, MqctlError

if TYPE_CHECKING:
    from aiokafka.client import AIOKafkaClient

T = TypeVar("T")


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    if not settings.tls.enabled:
        return None
    ctx = ssl.create_default_context(cafile=settings.tls.ca_file)
    if settings.tls.cert_file:
        ctx.load_cert_chain(settings.tls.cert_file, settings.tls.key_file)
    if settings.tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


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
            raise self.translate(exc) from exc

    def translate(self, exc: BaseException) -> MqctlError:
        from aiokafka import errors as kerr

        address = self.settings.address
        if isinstance(exc, kerr.KafkaConnectionError | ConnectionError | OSError):
            return ConnectError(
                f"cannot connect to Kafka at {address}",
                hint=f"is the broker running? check kafka.bootstrap-servers of context "
                f"{self.context!r}",
            )
        auth_errors = (
            kerr.SaslAuthenticationFailedError,
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
        if isinstance(exc, ssl.SSLError):
            return ConnectError(f"TLS handshake with Kafka at {address} failed: {exc.reason}")
        from mqctl.errors import BrokerError

        return BrokerError(f"Kafka at {address}: {type(exc).__name__}: {exc}")
