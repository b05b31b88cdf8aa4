"""One lazily opened ``redis.asyncio`` client per backend, and error translation.

Every Redis call goes through :meth:`RedisConnection.call` so that a refused connection, a
timeout, a bad password or a server error becomes the right :mod:`mqctl.errors` exception with
a one-line message naming the (password-free) address.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from mqctl.errors import AuthError, BrokerError, BrokerTimeout, ConnectError, NotFoundError
from mqctl_redis_streams.settings import RedisSettings


class RedisConnection:
    def __init__(self, settings: RedisSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client: Any = None

    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client (created on first use; connects lazily)."""
        if self._client is None:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            s = self.settings
            kwargs: dict[str, Any] = {
                "host": s.host,
                "port": s.port,
                "db": s.db,
                "username": s.username,
                "password": s.password.reveal() if s.password else None,
                "socket_timeout": self.timeout,
                "socket_connect_timeout": self.timeout,
                "decode_responses": False,
                # one try: a down broker must be reported promptly, not retried silently
                "retry": Retry(NoBackoff(), 0),
                "client_name": "mqctl",
            }
            if s.tls.enabled:
                kwargs.update(
                    ssl=True,
                    ssl_ca_certs=s.tls.ca_file,
                    ssl_certfile=s.tls.cert_file,
                    ssl_keyfile=s.tls.key_file,
                    ssl_cert_reqs="none" if s.tls.insecure_skip_verify else "required",
                    ssl_check_hostname=not s.tls.insecure_skip_verify,
                )
            self._client = aioredis.Redis(**kwargs)
        return self._client

    async def call(self, awaitable: Awaitable[Any], what: str = "request") -> Any:
        """Await one Redis command, translating client errors into mqctl errors."""
        import redis.exceptions as rex

        address = self.settings.address
        try:
            return await awaitable
        except rex.AuthenticationError:
            raise AuthError(f"Redis at {address} refused the credentials") from None
        except rex.AuthorizationError as exc:
            raise AuthError(f"Redis at {address}: not allowed: {_first_line(exc)}") from None
        except rex.TimeoutError:
            raise BrokerTimeout(
                f"Redis at {address} did not answer the {what} within {self.timeout:g}s"
            ) from None
        except rex.ConnectionError as exc:
            raise ConnectError(f"cannot connect to Redis at {address}: {_reason(exc)}") from None
        except rex.ResponseError as exc:
            text = _first_line(exc)
            if text.startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
                raise AuthError(f"Redis at {address}: {text}") from None
            if "no such key" in text.lower():
                raise NotFoundError(f"no such stream on Redis at {address}") from None
            raise BrokerError(f"Redis at {address} refused the {what}: {text}") from None
        except TimeoutError:
            raise BrokerTimeout(
                f"Redis at {address} did not answer the {what} within {self.timeout:g}s"
            ) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to Redis at {address}: {exc.strerror}") from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _reason(exc: BaseException) -> str:
    text = _first_line(exc)
    lower = text.lower()
    if "refused" in lower or "connect call failed" in lower or "error 111 " in lower:
        return "connection refused"
    if "timeout" in lower or "timed out" in lower:
        return "timed out"
    if "name or service not known" in lower or "resolve" in lower:
        return "unknown host"
    return text
