"""Dynamic shell completion: names from the real brokers through a short-lived cache, the
stale cache (or nothing) when the broker does not answer, and the shell protocol end to end."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mqctl import completion
from tests.conftest import KAFKA
from tests.kafka_helpers import cleanup, create_topic, kafka_only


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(completion.ENV_DIR, str(path))
    return path


def test_fresh_cache_answers_without_the_broker(cache: Path) -> None:
    asked: list[str] = []

    def fetch(context: str | None, kind: str) -> tuple[str, list[str]] | None:
        asked.append(kind)
        return "local", ["orders", "orders.dlq", "payments"]

    clock = [1000.0]
    first = completion.names("topic", "ord", fetch=fetch, now=lambda: clock[0])
    assert first == ["orders", "orders.dlq"] and asked == ["topic"]
    # the cache file's own time is the real clock: read it back within the fresh window
    written = json.loads((cache / "local.topic.json").read_text())
    clock[0] = written["time"] + 1
    assert completion.names("topic", "pay", fetch=fetch, now=lambda: clock[0]) == ["payments"]
    assert asked == ["topic"]  # answered from the cache
    clock[0] = written["time"] + completion.FRESH_SECONDS + 1
    completion.names("topic", "", fetch=fetch, now=lambda: clock[0])
    assert asked == ["topic", "topic"]  # stale: asked again


def test_unanswered_broker_falls_back_to_stale_names_or_nothing() -> None:
    def down(context: str | None, kind: str) -> tuple[str, list[str]] | None:
        return None

    assert completion.names("queue", "", fetch=down) == []

    def up(context: str | None, kind: str) -> tuple[str, list[str]] | None:
        return "local", ["work"]

    assert completion.names("queue", "", fetch=up) == ["work"]
    later = completion.names(
        "queue", "w", fetch=down, now=lambda: 10**12
    )  # stale and the broker is down: the stale names
    assert later == ["work"]
    assert completion.names("nonsense", "", fetch=up) == []


def test_contexts_complete_from_the_config(isolated_config: Path) -> None:
    isolated_config.write_text(
        f'[contexts.prod.kafka]\nbootstrap-servers = "{KAFKA}"\n'
        f'[contexts.staging.kafka]\nbootstrap-servers = "{KAFKA}"\n'
    )
    assert completion.names("context", "") == ["local", "prod", "staging"]
    assert completion.names("context", "st") == ["staging"]


@pytest.mark.kafka
def test_topics_from_the_real_broker_and_a_down_one(
    isolated_config: Path, unique: str, closed_port: int
) -> None:
    kafka_only(isolated_config)
    topic = f"test-complete-{unique}"
    asyncio.run(create_topic(topic, 1))
    try:
        assert topic in completion.names("topic", "test-complete-")
        assert (Path(os.environ[completion.ENV_DIR]) / "k.topic.json").exists()
        assert topic in completion.names("destination", f"test-complete-{unique[:4]}")
    finally:
        asyncio.run(cleanup([topic]))
    isolated_config.write_text(
        f'[contexts.down.kafka]\nbootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    assert completion.names("topic", "", "down") == []  # no error, nothing offered


@pytest.mark.kafka
def test_shell_protocol_end_to_end(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    topic = f"test-complete-sh-{unique}"
    asyncio.run(create_topic(topic, 1))
    env = {
        **os.environ,
        "_MQCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "mqctl topics describe test-complete-sh-",
        "COMP_CWORD": "3",
    }
    mqctl = str(Path(sys.executable).with_name("mqctl"))
    try:
        done = subprocess.run(
            [mqctl], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert topic in done.stdout.split()
        contexts = subprocess.run(
            [mqctl],
            env={**env, "COMP_WORDS": "mqctl -c ", "COMP_CWORD": "2"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert contexts.stdout.split() == ["k", "local"]
    finally:
        asyncio.run(cleanup([topic]))
