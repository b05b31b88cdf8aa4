"""Fixtures for the Redis Streams plugin tests: a real redis-server on 127.0.0.1:6379.

If Redis is not answering, ``scripts/redis.sh up`` (the repository's own start-up script) is
run once. Every test uses streams named ``mqctl-test-<unique>...`` and deletes them after.
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The in-process CLI runner and the closed-port fixture are mqctl's own test helpers (the
# repository root is importable: the workspace is installed editable).
from tests.conftest import closed_port, run_cli  # noqa: F401  (closed_port: a fixture)

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
ROOT = Path(__file__).resolve().parents[3]


def _answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server() -> str:
    if not _answers():
        subprocess.run(["bash", str(ROOT / "scripts" / "redis.sh"), "up"], check=True)
    assert _answers(), "redis-server did not come up on 127.0.0.1:6379"
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def prefix() -> str:
    return f"mqctl-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def rs_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> Path:
    """A config whose current context ``rs`` has only this test's streams on local Redis."""
    path = tmp_path / "config.toml"
    path.write_text(
        'current-context = "rs"\n'
        "[contexts.rs.redis-streams]\n"
        f'url = "redis://{REDIS_HOST}:{REDIS_PORT}/0"\n'
        f'streams = "{prefix}*"\n'
    )
    monkeypatch.setenv("MQCTL_CONFIG", str(path))
    monkeypatch.delenv("MQCTL_CONTEXT", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("MQCTL_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    return path


@pytest.fixture
def redis(redis_server: str, prefix: str) -> Iterator[Any]:
    """A (sync) redis-py client; keys starting with the test's prefix are deleted afterwards."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_server)
    yield client
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def session() -> Iterator[Any]:
    """A Session on the ``rs`` context (closed by the test with ``await session.close()``)."""
    from mqctl.config import load_config, resolve_context
    from mqctl.session import Session

    yield Session(resolve_context(load_config()))


@pytest.fixture
def cli() -> Any:
    return run_cli
