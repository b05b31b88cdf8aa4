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
from mqctl.errors import AuthError, BrokerError, BrokerTimeout, ConnectError, NotFoundError

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
                if self.settings.tls.insecure_skip_verify:
                    verify = False
                elif self.settings.tls.ca_file:
                    import ssl

                    verify = ssl.create_default_context(cafile=self.settings.tls.ca_file)
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
        import httpx

        url = self.settings.management_url
        try:
            response = await self._client().get(f"/api{path}", params=params)
        except httpx.TimeoutException:
            raise BrokerTimeout(
                f"RabbitMQ management API at {url} did not answer within {self.timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise ConnectError(
                f"cannot connect to the RabbitMQ management API at {url} ({type(exc).__name__})",
                hint=f"is the management plugin enabled? check rabbitmq.management-url of "
                f"context {self.context!r}",
            ) from None
        if response.status_code == 401:
            raise AuthError(
                f"RabbitMQ management API at {url} refused user {self.settings.username!r} "
                f"(wrong password?)",
                hint=f"check rabbitmq.password* of context {self.context!r}",
            )
        if response.status_code == 403:
            raise AuthError(
                f"user {self.settings.username!r} may not access {path} on {url} "
                f"(needs the monitoring or management tag)"
            )
        if response.status_code == 404:
            raise NotFoundError(f"{what or path} not found on RabbitMQ at {url}")
        if response.status_code >= 400:
            raise BrokerError(
                f"RabbitMQ management API at {url} answered {response.status_code} for {path}"
            )
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
        return items

    async def ensure_vhost(self, vhost: str) -> None:
        await self.get(f"/vhosts/{enc(vhost)}", what=f"vhost {vhost!r}")

    async def overview(self) -> Any:
        return await self.get("/overview")
