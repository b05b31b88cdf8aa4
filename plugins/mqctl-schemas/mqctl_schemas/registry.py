"""A small client for the Confluent Schema Registry REST API (also served by compatible
registries), over httpx: only the lookups decoding needs, cached for the process.

* ``GET /schemas/ids/{id}`` -> ``{"schema": str, "schemaType"?: "AVRO"|"PROTOBUF"|"JSON",
  "references"?: [{"name", "subject", "version"}]}``; with ``?format=serialized`` Protobuf
  schemas come as a base64 ``FileDescriptorProto`` (no .proto parser needed);
* ``GET /subjects/{subject}/versions/{version}`` for references (same fields plus ``id``).

Schema ids are immutable, so every answer is cached forever; failures are cached too (for
``FAILURE_TTL`` seconds) so that a down registry costs one timeout, not one per message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mqctl_schemas.settings import SchemaSettings

FAILURE_TTL = 30.0


class RegistryError(Exception):
    """A lookup failed; the message is one line, safe to show (no credentials)."""


@dataclass(frozen=True, slots=True)
class Reference:
    name: str
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    schema: str
    schema_type: str  # AVRO | PROTOBUF | JSON
    references: tuple[Reference, ...] = ()
    schema_id: int | None = None


@dataclass
class SchemaRegistryClient:
    settings: SchemaSettings
    requests: int = 0  # HTTP requests made (lets tests check the caching)
    _cache: dict[str, RegisteredSchema] = field(default_factory=dict)
    _failures: dict[str, tuple[float, str]] = field(default_factory=dict)
    _client: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.settings.registry_url is not None
        return self.settings.registry_url

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            s = self.settings
            auth: Any = None
            headers = {"Accept": "application/vnd.schemaregistry.v1+json, application/json"}
            if s.token is not None:
                headers["Authorization"] = f"Bearer {s.token.reveal()}"
            elif s.username is not None:
                auth = httpx.BasicAuth(s.username, s.password.reveal() if s.password else "")
            self._client = httpx.Client(
                base_url=self.url,
                auth=auth,
                headers=headers,
                timeout=s.timeout,
                verify=s.ca_file or True,
                follow_redirects=False,
            )
        return self._client

    def _get(self, path: str, what: str) -> dict[str, Any]:
        import httpx

        self.requests += 1
        try:
            response = self._http().get(path)
        except httpx.TimeoutException:
            raise RegistryError(f"schema registry at {self.url} timed out ({what})") from None
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach the schema registry at {self.url}: {type(exc).__name__}"
            ) from None
        if response.status_code in (401, 403):
            raise RegistryError(
                f"schema registry at {self.url} refused the credentials "
                f"(HTTP {response.status_code})"
            )
        if response.status_code == 404:
            raise RegistryError(f"{what} not found in the schema registry at {self.url}")
        if response.status_code >= 400:
            raise RegistryError(
                f"schema registry at {self.url} answered HTTP {response.status_code} ({what})"
            )
        try:
            body = response.json()
        except ValueError:
            raise RegistryError(f"schema registry at {self.url}: not JSON ({what})") from None
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise RegistryError(f"schema registry at {self.url}: unexpected answer ({what})")
        return body

    def _cached(self, key: str, path: str, what: str) -> RegisteredSchema:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            failed = self._failures.get(key) or self._failures.get("*")
            if failed is not None and time.monotonic() - failed[0] < FAILURE_TTL:
                raise RegistryError(failed[1])
            try:
                body = self._get(path, what)
            except RegistryError as exc:
                # an unreachable registry fails every lookup; a missing id only this one
                scope = "*" if "not found" not in str(exc) else key
                self._failures[scope] = (time.monotonic(), str(exc))
                raise
            refs = tuple(
                Reference(str(r["name"]), str(r["subject"]), int(r["version"]))
                for r in body.get("references") or []
            )
            found = RegisteredSchema(
                schema=body["schema"],
                schema_type=str(body.get("schemaType") or "AVRO").upper(),
                references=refs,
                schema_id=body.get("id"),
            )
            self._cache[key] = found
            return found

    def by_id(self, schema_id: int, *, serialized: bool = False) -> RegisteredSchema:
        query = "?format=serialized" if serialized else ""
        return self._cached(
            f"id:{schema_id}:{serialized}",
            f"/schemas/ids/{schema_id}{query}",
            f"schema id {schema_id}",
        )

    def by_subject(
        self, subject: str, version: int, *, serialized: bool = False
    ) -> RegisteredSchema:
        query = "?format=serialized" if serialized else ""
        return self._cached(
            f"subject:{subject}:{version}:{serialized}",
            f"/subjects/{quote(subject, safe='')}/versions/{version}{query}",
            f"subject {subject!r} version {version}",
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
