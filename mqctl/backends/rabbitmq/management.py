"""Async client for the RabbitMQ management HTTP API (httpx), with pagination.

Listings use the API's server-side pagination (``page``/``page_size``) so thousands of
queues come in a few requests and never one request per queue. Vhost names are always
percent-encoded (``/`` becomes ``%2F``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mqctl.backends.rabbitmq.settings import RabbitSettings
from mqctl.config.schema import tls_context, tls_error_reason, tls_hint
from mqctl.errors import (
    AuthError,
    BrokerError,
    BrokerTimeout,
    ConnectError,
    NotFoundError,
    UsageError,
    connect_reason,
)

if TYPE_CHECKING:
    import httpx

PAGE_SIZE = 500


def enc(name: str) -> str:
    """Percent-encode one path segment (vhost, queue or exchange name)."""
    return quote(name, safe="")


class ManagementClient:
    def __init__(self, settings: RabbitSettings, timeout: float, context: str) -> None:
        self.settings = settings
        self.timeout = timeout
        self.context = context
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            password = self.settings.password.reveal() if self.settings.password else ""
            verify: Any = True
            if self.settings.tls.enabled:
                verify = tls_context(self.settings.tls)
            self._http = httpx.AsyncClient(
                base_url=self.settings.management_url,
                auth=(self.settings.username, password),
                timeout=self.timeout,
                verify=verify,
                headers={"user-agent": "mqctl"},
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, what: str = ""
    ) -> Any:
        """GET a JSON document; ``what`` names the object for a 404 ("queue 'x' in vhost '/'")."""
        return await self.request("GET", path, params=params, what=what)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        what: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One API call; every failure becomes a one-line error naming the redacted URL."""
        import httpx

        url = self.settings.management_url
        try:
            response = await self._client().request(
                method, f"/api{path}", params=params, json=body, headers=headers
            )
        except httpx.TimeoutException:
            raise BrokerTimeout(
                f"RabbitMQ management API at {url} did not answer within {self.timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            tls_reason = tls_error_reason(exc) if url.startswith("https:") else None
            if tls_reason is not None:
                raise ConnectError(
                    f"TLS with the RabbitMQ management API at {url} failed: {tls_reason}",
                    hint=tls_hint(self.settings.tls),
                ) from None
            reason = connect_reason(exc) if isinstance(exc, httpx.ConnectError) else ""
            raise ConnectError(
                f"cannot connect to the RabbitMQ management API at {url} "
                f"({reason or type(exc).__name__})",
                hint=f"is the management plugin enabled? check rabbitmq.management-url of "
                f"context {self.context!r}",
            ) from None
        if response.status_code == 401:
            reason = _reason(response)
            if reason and reason != "Login failed":
                # logged in, but the endpoint needs more rights (e.g. "Not administrator user")
                raise NotAuthorised(
                    f"user {self.settings.username!r} may not {method} {path} on {url} ({reason})"
                )
            raise AuthError(
                f"RabbitMQ management API at {url} refused user {self.settings.username!r} "
                f"(wrong password?)",
                hint=f"check rabbitmq.password* of context {self.context!r}",
            )
        if response.status_code == 403:
            raise AuthError(
                f"user {self.settings.username!r} may not {method} {path} on {url} "
                f"(needs the monitoring, management or administrator tag)"
            )
        if response.status_code == 404:
            raise NotFoundError(f"{what or path} not found on RabbitMQ at {url}")
        if response.status_code == 400:
            # The request was understood and refused: inequivalent arguments, a non-empty
            # queue with if-empty ... the broker's reason says which.
            raise UsageError(
                f"RabbitMQ refused {method} {what or path}: {_reason(response) or 'bad request'}"
            )
        if response.status_code >= 400:
            reason = _reason(response)
            raise BrokerError(
                f"RabbitMQ management API at {url} answered {response.status_code} for "
                f"{method} {path}{f': {reason}' if reason else ''}"
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get_paged(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """All items of a paginated listing: first page, then the rest concurrently."""
        base = dict(params or {})
        first = await self.get(path, {**base, "page": 1, "page_size": PAGE_SIZE})
        if isinstance(first, list):  # old brokers ignore pagination
            return first
        items: list[Any] = list(first.get("items", []))
        pages = int(first.get("page_count", 1))
        if pages > 1:
            rest = await asyncio.gather(
                *(
                    self.get(path, {**base, "page": page, "page_size": PAGE_SIZE})
                    for page in range(2, pages + 1)
                )
            )
            for doc in rest:
                items.extend(doc.get("items", []))
        # Objects created or deleted between two page requests shift the pages: drop the
        # duplicates that this can cause (an object may still be missed, as with any listing).
        unique: dict[tuple[Any, Any, Any, Any], Any] = {}
        for item in items:
            key = (
                item.get("vhost"),
                item.get("name"),
                item.get("source"),
                item.get("properties_key"),
            )
            unique.setdefault(key, item)
        return list(unique.values())

    async def ensure_vhost(self, vhost: str) -> None:
        try:
            await self.get(f"/vhosts/{enc(vhost)}", what=f"vhost {vhost!r}")
        except NotAuthorised:
            # RabbitMQ 3.x answers GET /vhosts/NAME to administrators only; the listing shows
            # a monitoring/management user the vhosts it may use.
            listed = await self.get("/vhosts", {"columns": "name"})
            names = {v.get("name") for v in listed if isinstance(v, dict)}
            if vhost not in names:
                raise NotFoundError(
                    f"vhost {vhost!r} not found on RabbitMQ at {self.settings.management_url} "
                    f"(or user {self.settings.username!r} has no access to it)"
                ) from None

    async def overview(self) -> Any:
        return await self.get("/overview")


class NotAuthorised(AuthError):
    """Logged in, but the user's tags do not allow this endpoint."""


def _reason(response: httpx.Response) -> str:
    """The API's own one-line reason (``inequivalent arg 'x-queue-type' ...``), if any."""
    from mqctl.config.secrets import scrub

    try:
        doc = response.json()
    except ValueError:
        return ""
    reason = doc.get("reason") if isinstance(doc, dict) else None
    return scrub(" ".join(str(reason).split()))[:300] if reason else ""
