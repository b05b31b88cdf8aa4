"""Fixtures for the schemas plugin: a tiny schema registry on 127.0.0.1.

No real schema registry can be run here (docs/plugins.md, "How it is tested": Apicurio's
artifacts are only partly served by the package registries this project reaches), so the
client is tested against this stand-in, which speaks the Confluent REST shape for the calls
the plugin makes, with optional basic auth: GET /schemas/ids/ID[?format=serialized],
GET /subjects, GET /subjects/S/versions, GET /subjects/S/versions/V|latest[?format=serialized],
GET /config[/S].
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import isolated_config, run_cli  # noqa: F401  (isolated_config: autouse)


@dataclass
class FakeRegistry:
    url: str = ""
    # id -> {"schema": str, "schemaType": ..., "references": [...], "serialized": str}
    schemas: dict[int, dict[str, Any]] = field(default_factory=dict)
    subjects: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    hits: list[str] = field(default_factory=list)
    compatibility: dict[str, str] = field(default_factory=dict)  # subject -> level
    global_compatibility: str = "BACKWARD"

    def add(
        self, schema_id: int, body: dict[str, Any], subject: str | None = None, version: int = 1
    ) -> None:
        self.schemas[schema_id] = body
        if subject is not None:
            answer = {**body, "id": schema_id, "subject": subject, "version": version}
            self.subjects[(subject, version)] = answer

    def versions(self, subject: str) -> list[int]:
        return sorted(v for s, v in self.subjects if s == subject)

    def answer(self, segments: list[str]) -> Any:
        """The JSON body for a GET path, or None (404)."""
        if len(segments) == 3 and segments[:2] == ["schemas", "ids"]:
            return self.schemas.get(int(segments[2]))
        if segments == ["subjects"]:
            return sorted({s for s, _ in self.subjects})
        if len(segments) == 3 and segments[0] == "subjects" and segments[2] == "versions":
            return self.versions(segments[1]) or None
        if len(segments) == 4 and segments[0] == "subjects" and segments[2] == "versions":
            known = self.versions(segments[1])
            if segments[3] == "latest":
                return self.subjects[(segments[1], known[-1])] if known else None
            return self.subjects.get((segments[1], int(segments[3])))
        if segments == ["config"]:
            return {"compatibilityLevel": self.global_compatibility}
        if len(segments) == 2 and segments[0] == "config" and segments[1] in self.compatibility:
            return {"compatibilityLevel": self.compatibility[segments[1]]}
        return None


def _handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            registry.hits.append(self.path)
            if registry.credentials is not None:
                user, password = registry.credentials
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {token}":
                    self._send(401, {"error_code": 401, "message": "Unauthorized"})
                    return
            parts = urlsplit(self.path)
            serialized = "format=serialized" in parts.query
            segments = [unquote(s) for s in parts.path.strip("/").split("/")]
            body = registry.answer(segments)
            if body is None:
                self._send(404, {"error_code": 40403, "message": "Schema not found"})
                return
            if not isinstance(body, dict):
                self._send(200, body)
                return
            answer = {k: v for k, v in body.items() if k != "serialized"}
            if serialized and "serialized" in body:
                answer["schema"] = body["serialized"]
            self._send(200, answer)

    return Handler


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No schema settings from the environment leak into a test; fresh shared stores."""
    import os

    from mqctl_schemas import store

    for key in list(os.environ):
        if key.startswith(("MQCTL_SCHEMA", "MQCTL_AVRO", "MQCTL_PROTOBUF")):
            monkeypatch.delenv(key)
    store._stores.clear()
    yield
    store._stores.clear()


@pytest.fixture
def closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
