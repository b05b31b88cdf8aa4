"""read-only and protected contexts guard every write (issue 10, safe by default)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import KAFKA, run_cli


@pytest.fixture
def topic(unique: str) -> Iterator[str]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    name = f"test.safety.{unique}"

    async def admin(create: bool) -> None:
        client = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await client.start()
        try:
            if create:
                await client.create_topics([NewTopic(name, 1, 1)])
            else:
                await client.delete_topics([name])
        finally:
            await client.close()

    asyncio.run(admin(True))
    yield name
    asyncio.run(admin(False))


def _contexts(path: Path) -> None:
    path.write_text(
        "[contexts.ro]\nread-only = true\n[contexts.ro.kafka]\n"
        'bootstrap-servers = "127.0.0.1:9092"\n'
        "[contexts.prod]\nprotected = true\n[contexts.prod.kafka]\n"
        'bootstrap-servers = "127.0.0.1:9092"\n'
    )


def test_read_only_refuses_writes(isolated_config: Path, topic: str) -> None:
    _contexts(isolated_config)
    for args in (
        ["publish", topic, "hello"],
        ["topics", "delete", topic, "--yes"],
        ["topics", "create", f"{topic}.new"],
    ):
        result = run_cli("-c", "ro", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "read-only" in result.stderr
    assert run_cli("-c", "ro", "topics", "describe", topic).exit_code == 0  # reads still work


def test_protected_needs_explicit_yes_and_context(
    isolated_config: Path, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _contexts(isolated_config)
    refused = run_cli("-c", "prod", "publish", topic, "hello")
    assert refused.exit_code == 2
    assert "protected" in refused.stderr
    assert "--yes and --context prod" in refused.stderr
    monkeypatch.setenv("MQCTL_CONTEXT", "prod")
    via_env = run_cli("publish", topic, "hello", "--yes")
    assert via_env.exit_code == 2  # the context must be named explicitly
    monkeypatch.delenv("MQCTL_CONTEXT")
    allowed = run_cli("--context", "prod", "publish", topic, "hello", "--yes")
    assert allowed.exit_code == 0, allowed.output
    peek = run_cli("-c", "prod", "peek", topic, "--from-beginning", "-o", "json")
    assert peek.exit_code == 0 and "hello" in peek.stdout


def test_writes_are_audited(isolated_config: Path, topic: str) -> None:
    import json

    from mqctl import audit

    assert run_cli("publish", topic, "v{{seq}}", "--template", "--count", "3").exit_code == 0
    assert run_cli("topics", "delete", f"{topic}.missing", "--yes").exit_code == 4
    records = audit.read()
    assert [r["outcome"] for r in records] == ["ok", "failed"]
    first = records[0]
    assert first["context"] == "local" and first["command"].startswith("mqctl publish")
    assert first["action"] == "publish" and first["target"] == f"kafka:topic/{topic}"
    assert first["counts"] == {"published": 3, "failed": 0}
    assert "v{{seq}}" not in first["command"]  # message values are never recorded
    assert first["user"] and first["time"]
    shown = run_cli("audit", "-o", "json")
    assert shown.exit_code == 0
    assert len(json.loads(shown.stdout)) == 2
    assert run_cli("topics", "list").exit_code == 0  # reads are not audited
    assert len(audit.read()) == 2
