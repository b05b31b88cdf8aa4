"""End to end through the CLI: `mqctl peek --decode` with the schemas plugin on messages of
the Redis Streams plugin (both first-party plugins, real redis-server, local schema files).
A value that cannot be decoded gets an error on that message; the peek goes on (exit 0)."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest

from tests.conftest import run_cli, write_config

ROOT = Path(__file__).resolve().parents[1]
MONEY = {
    "type": "record",
    "name": "Money",
    "namespace": "com.acme",
    "fields": [{"name": "currency", "type": "string"}, {"name": "cents", "type": "long"}],
}


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def stream(isolated_config: Path) -> Iterator[tuple[Any, str]]:
    import redis

    if not _redis_answers():
        subprocess.run(["bash", str(ROOT / "scripts" / "redis.sh"), "up"], check=True)
    name = f"mqctl-test-{uuid.uuid4().hex[:8]}-money"
    write_config(
        isolated_config,
        f'current-context = "rs"\n[contexts.rs.redis-streams]\nstreams = "{name}"\n',
    )
    client = redis.Redis(host="127.0.0.1", port=6379)
    yield client, name
    client.delete(name)
    client.close()


def test_peek_decodes_avro_and_reports_bad_values_per_message(
    stream: tuple[Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mqctl_schemas import store
    from mqctl_schemas.wire import frame

    client, name = stream
    (tmp_path / "42.avsc").write_text(json.dumps(MONEY))
    monkeypatch.setenv("MQCTL_SCHEMAS", str(tmp_path))
    store._stores.clear()
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, fastavro.parse_schema(MONEY), {"currency": "EUR", "cents": 5}
    )
    good = frame(42, buffer.getvalue())
    client.xadd(name, {"value": good})
    client.xadd(name, {"value": good[:-1]})  # truncated
    client.xadd(name, {"value": frame(7, b"\x02")})  # unknown schema id
    client.xadd(name, {"value": b'{"plain": true}'})

    result = run_cli("peek", name, "-o", "json", "--max", "0")
    assert result.exit_code == 0, result.stderr
    messages = json.loads(result.stdout)
    assert len(messages) == 4
    assert messages[0]["value"] == {"currency": "EUR", "cents": 5}
    assert messages[0]["value_format"] == "avro" and messages[0]["value_error"] is None
    assert messages[1]["value_format"] == "base64"
    assert messages[1]["value_error"].startswith("avro: ")
    assert "schema id 7" in messages[2]["value_error"]
    assert messages[3]["value"] == {"plain": True}

    result = run_cli("peek", name, "--decode", "protobuf", "-o", "jsonl", "--max", "1")
    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    error = json.loads(line)["value_error"]
    assert error.startswith("protobuf: schema id 42:") and "42.desc" in error


def test_decoder_options_from_the_config_file(
    stream: tuple[Any, str], tmp_path: Path, isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same decoding with the schema files and the schema for plain values named in
    ``[decoders.avro]`` of the config file instead of the environment."""
    from mqctl_schemas import store

    client, name = stream
    for variable in ("MQCTL_SCHEMAS", "MQCTL_AVRO_SCHEMA"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "money.avsc").write_text(json.dumps(MONEY))
    with isolated_config.open("a") as config:
        config.write(
            f"[decoders.avro]\nschemas = [{json.dumps(str(tmp_path))}]\n"
            'avro-schema = "com.acme.Money"\n'
        )
    store._stores.clear()
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, fastavro.parse_schema(MONEY), {"currency": "USD", "cents": 250}
    )
    client.xadd(name, {"value": buffer.getvalue()})  # plain Avro: no wire-format header

    result = run_cli("peek", name, "--decode", "avro", "-o", "json", "--max", "0")
    assert result.exit_code == 0, result.stderr
    [message] = json.loads(result.stdout)
    assert message["value"] == {"currency": "USD", "cents": 250}
    assert message["value_format"] == "avro" and message["value_error"] is None
