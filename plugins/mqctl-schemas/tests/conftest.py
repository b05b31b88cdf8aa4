"""Fixtures for the schemas plugin: a tiny schema registry on 127.0.0.1.

No real schema registry can be installed from the package registries this project uses, so
the client is tested against this stand-in, which speaks the Confluent REST shape for the
calls the plugin makes (GET /schemas/ids/ID[?format=serialized],
GET /subjects/S/versions/V[?format=serialized]) with optional basic auth.
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


@dataclass
class FakeRegistry:
    url: str = ""
    # id -> {"schema": str, "schemaType": ..., "references": [...], "serialized": str}
    schemas: dict[int, dict[str, Any]] = field(default_factory=dict)
    subjects: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    hits: list[str] = field(default_factory=list)

    def add(self, schema_id: int, body: dict[str, Any], subject: str | None = None) -> None:
        self.schemas[schema_id] = body
        if subject is not None:
            self.subjects[(subject, 1)] = {**body, "id": schema_id}


def _handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
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
            body: dict[str, Any] | None = None
            if len(segments) == 3 and segments[:2] == ["schemas", "ids"]:
                body = registry.schemas.get(int(segments[2]))
            elif len(segments) == 4 and segments[0] == "subjects" and segments[2] == "versions":
                body = registry.subjects.get((segments[1], int(segments[3])))
            if body is None:
                self._send(404, {"error_code": 40403, "message": "Schema not found"})
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
