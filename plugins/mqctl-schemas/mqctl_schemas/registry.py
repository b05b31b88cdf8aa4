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

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


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
    subject: str | None = None
    version: int | None = None


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

    def _get_json(self, path: str, what: str) -> Any:
        """One GET; errors become one-line :class:`RegistryError` s (``not_found`` set on 404)."""
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
            raise RegistryError(
                f"{what} not found in the schema registry at {self.url}", not_found=True
            )
        if response.status_code >= 400:
            raise RegistryError(
                f"schema registry at {self.url} answered HTTP {response.status_code} ({what})"
            )
        try:
            return response.json()
        except ValueError:
            raise RegistryError(f"schema registry at {self.url}: not JSON ({what})") from None

    def _get(self, path: str, what: str) -> dict[str, Any]:
        body = self._get_json(path, what)
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
                scope = key if exc.not_found else "*"
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
                subject=body.get("subject"),
                version=body.get("version"),
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
        self, subject: str, version: int | str, *, serialized: bool = False
    ) -> RegisteredSchema:
        """A subject's schema by version number (cached), or ``"latest"`` (cached for the
        process too: a command looks it up once)."""
        query = "?format=serialized" if serialized else ""
        return self._cached(
            f"subject:{subject}:{version}:{serialized}",
            f"/subjects/{quote(subject, safe='')}/versions/{version}{query}",
            f"subject {subject!r} version {version}",
        )

    # --- browsing (``mqctl schemas``): never cached, each call asks the registry ------------

    def subjects(self) -> list[str]:
        body = self._get_json("/subjects", "the subject list")
        if not isinstance(body, list):
            raise RegistryError(f"schema registry at {self.url}: unexpected answer (subjects)")
        return sorted(str(s) for s in body)

    def versions(self, subject: str) -> list[int]:
        what = f"subject {subject!r}"
        body = self._get_json(f"/subjects/{quote(subject, safe='')}/versions", what)
        if not isinstance(body, list):
            raise RegistryError(f"schema registry at {self.url}: unexpected answer ({what})")
        return sorted(int(v) for v in body)

    def compatibility(self, subject: str | None = None) -> str | None:
        """The subject's compatibility level, else the registry's global one (None if the
        registry does not say)."""
        if subject is not None:
            path = f"/config/{quote(subject, safe='')}"
            try:
                return _level(self._get_json(path, f"the config of subject {subject!r}"))
            except RegistryError as exc:
                if not exc.not_found:  # no subject-level config: the global one applies
                    raise
        return _level(self._get_json("/config", "the global config"))

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def _level(body: Any) -> str | None:
    # Confluent answers {"compatibilityLevel": ...}; some versions/registries {"compatibility"}
    if isinstance(body, dict):
        level = body.get("compatibilityLevel") or body.get("compatibility")
        return str(level) if level else None
    return None
