"""Kafka admin verbs on the real broker: cluster describe, topic and broker configs with
diffs and dry runs, topics alter --partitions, offsets delete and reset --all-topics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import (
    cleanup,
    commit,
    committed,
    create_topic,
    kafka_only,
    live_member,
    produce,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic(isolated_config: Path, unique: str) -> Iterator[str]:
    kafka_only(isolated_config)
    name = f"test-kadmin-{unique}"
    asyncio.run(create_topic(name, 2))
    yield name
    asyncio.run(cleanup([name], [f"g-{unique}", f"g2-{unique}"]))


def as_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cluster_describe(topic: str) -> None:
    info = as_json("cluster", "describe")
    assert info["cluster_id"] and info["controller"] is not None
    broker = info["brokers"][0]
    assert {"id", "host", "port", "rack", "is_controller", "leader_partitions"} <= set(broker)
    assert any(b["is_controller"] for b in info["brokers"])
    mine = next(t for t in info["topics"] if t["name"] == topic)
    assert mine["partition_count"] == 2 and mine["under_replicated"] == 0
    assert mine["offline"] == 0 and sum(mine["leaders"].values()) == 2
    assert {p["partition"] for p in mine["partitions"]} == {0, 1}
    assert set(mine["partitions"][0]) >= {"leader", "replicas", "isr", "offline_replicas"}
    assert info["partition_count"] >= 2 and info["offline_partitions"] == 0
    assert not any(t["internal"] for t in info["topics"])  # --internal lists them
    brief = as_json("cluster", "describe", "-t", topic, "--brief")
    assert [t["name"] for t in brief["topics"]] == [topic]
    assert brief["topics"][0]["partitions"] == []
    table = run_cli("cluster", "describe", "-t", topic)
    assert table.exit_code == 0 and topic in table.stdout and "CONTROLLER" in table.stdout
    missing = run_cli("cluster", "describe", "-t", f"{topic}-missing")
    assert missing.exit_code == 4 and "not found" in missing.stderr


def test_topic_config_set_get_delete_with_diff(topic: str) -> None:
    dry = as_json("topics", "config", "set", topic, "retention.ms=3600000", "--dry-run")
    assert dry["dry_run"] is True
    (change,) = dry["changes"]
    assert change["action"] == "set" and change["new_value"] == "3600000"
    assert change["source"] == "default" and change["changed"] is True
    assert as_json("topics", "config", "get", topic) == []  # the dry run changed nothing

    done = as_json("topics", "config", "set", topic, "retention.ms=3600000")
    assert done["dry_run"] is False
    overrides = as_json("topics", "config", "get", topic)
    assert [(c["name"], c["value"], c["source"]) for c in overrides] == [
        ("retention.ms", "3600000", "topic")
    ]
    again = as_json("topics", "config", "set", topic, "retention.ms=3600000", "--dry-run")
    assert again["changes"][0]["changed"] is False  # already that value

    removed = as_json("topics", "config", "delete", topic, "retention.ms")
    (change,) = removed["changes"]
    assert change["value"] == "3600000" and change["changed"] is True
    assert change["new_value"] == "604800000"  # the broker's default it falls back to
    assert as_json("topics", "config", "get", topic) == []
    every = as_json("topics", "config", "get", topic, "--all")
    assert any(c["name"] == "segment.bytes" for c in every)


def test_topic_config_refusals(topic: str) -> None:
    bad = run_cli("topics", "config", "set", topic, "retention.ms=soon")
    assert bad.exit_code == 2 and "retention.ms" in bad.stderr
    unknown = run_cli("topics", "config", "set", topic, "retention.mss=1", "--dry-run")
    assert unknown.exit_code == 2
    assert run_cli("topics", "config", "get", f"{topic}-missing").exit_code == 4
    assert run_cli("topics", "config", "set", f"{topic}-missing", "retention.ms=1").exit_code == 4
    malformed = run_cli("topics", "config", "set", topic, "retention.ms")
    assert malformed.exit_code == 2


def test_broker_config_set_and_restore(isolated_config: Path) -> None:
    """A harmless per-broker dynamic config, restored in `finally` (shared broker)."""
    kafka_only(isolated_config)
    broker = str(as_json("cluster", "describe", "--brief")["brokers"][0]["id"])
    key = "log.cleaner.threads"
    before = {c["name"]: c for c in as_json("brokers", "config", "get", broker, "--all")}
    assert before[key]["source"] != "dynamic-broker", "left over from another run"
    try:
        dry = as_json("brokers", "config", "set", broker, f"{key}=1", "--dry-run")
        assert dry["resource_type"] == "broker" and dry["changes"][0]["changed"] is True
        assert key not in {c["name"] for c in as_json("brokers", "config", "get", broker)}
        as_json("brokers", "config", "set", broker, f"{key}=1")
        now = {c["name"]: c for c in as_json("brokers", "config", "get", broker)}
        assert now[key]["source"] == "dynamic-broker" and now[key]["value"] == "1"
    finally:
        restored = run_cli("brokers", "config", "delete", broker, key)
        assert restored.exit_code == 0, restored.output
    after = {c["name"]: c for c in as_json("brokers", "config", "get", broker, "--all")}
    assert after[key]["source"] == before[key]["source"]
    typo = run_cli("brokers", "config", "set", broker, "log.cleaner.threadz=1", "--dry-run")
    assert typo.exit_code == 2 and "a typo" in typo.stderr
    static = run_cli("brokers", "config", "set", broker, "log.dirs=/tmp/x", "--dry-run")
    assert static.exit_code == 2, static.output
    assert run_cli("brokers", "config", "get", "4242").exit_code == 4
    assert run_cli("brokers", "config", "get").exit_code == 2  # broker id or --default
    assert run_cli("brokers", "config", "get", "--default").exit_code == 0


def test_writes_refused_on_read_only_and_audited(isolated_config: Path, topic: str) -> None:
    from mqctl import audit

    isolated_config.write_text(
        isolated_config.read_text()
        + "[contexts.ro]\nread-only = true\n[contexts.ro.kafka]\n"
        + 'bootstrap-servers = "127.0.0.1:9092"\n'
    )
    refused = run_cli("-c", "ro", "topics", "config", "set", topic, "retention.ms=1")
    assert refused.exit_code == 2 and "read-only" in refused.stderr
    assert run_cli("-c", "ro", "topics", "config", "set", topic, "retention.ms=1", "--dry-run")
    assert run_cli("-c", "ro", "topics", "alter", topic, "--partitions", "3").exit_code == 2
    assert run_cli("-c", "ro", "offsets", "delete", "g", "-t", topic, "--yes").exit_code == 2
    refusals = audit.read()  # refusals are recorded too; the dry run is not
    assert [r["outcome"] for r in refusals] == ["refused"] * 3
    assert [r["action"] for r in refusals] == [
        "topic config change",
        "topic alter",
        "offsets delete",
    ]
    assert run_cli("topics", "config", "set", topic, "retention.ms=7200000").exit_code == 0
    record = audit.read()[-1]
    assert record["outcome"] == "ok" and record["target"] == f"kafka:topic/{topic}"
    assert record["details"]["set_configs"] == {"retention.ms": "7200000"}


def test_alter_partitions_total_grows_only(topic: str) -> None:
    dry = run_cli("topics", "alter", topic, "--partitions", "3", "--dry-run")
    assert dry.exit_code == 0 and "would grow" in dry.stdout
    assert "keys hash to other partitions" in dry.stderr
    grown = run_cli("topics", "alter", topic, "--partitions", "3")
    assert grown.exit_code == 0 and "from 2 to 3" in grown.stdout, grown.output
    same = run_cli("topics", "alter", topic, "--partitions", "3")
    assert same.exit_code == 0 and "nothing to change" in same.stdout
    shrink = run_cli("topics", "alter", topic, "--partitions", "1")
    assert shrink.exit_code == 2 and "cannot remove partitions" in shrink.stderr
    both = run_cli("topics", "alter", topic, "--partitions", "4", "--add-partitions", "1")
    assert both.exit_code == 2


def test_offsets_delete(topic: str, unique: str) -> None:
    group = f"g-{unique}"
    asyncio.run(commit(group, topic, {0: 0, 1: 0}))
    dry = as_json("offsets", "delete", group, "--topic", topic, "--dry-run")
    assert dry["partitions"] == [0, 1] and dry["dry_run"] is True
    assert asyncio.run(committed(group, topic)) == {0: 0, 1: 0}
    refused = run_cli("offsets", "delete", group, "--topic", topic)  # no tty, no --yes
    assert refused.exit_code == 2
    one = run_cli("offsets", "delete", group, "--topic", f"{topic}:1", "--yes")
    assert one.exit_code == 0 and f"{topic}/1" in one.stdout, one.output
    assert asyncio.run(committed(group, topic)) == {0: 0}
    assert run_cli("offsets", "delete", group, "-t", f"{topic}:1", "--yes").exit_code == 4
    assert run_cli("offsets", "delete", f"g2-{unique}", "-t", topic, "--yes").exit_code == 4


def test_offsets_delete_refused_while_subscribed(topic: str, unique: str) -> None:
    group = f"g-{unique}"

    async def scenario() -> tuple[Any, Any]:
        await produce(topic, {0: [1]})
        async with live_member(group, topic, commit_each=True) as consumer:
            await consumer.commit({tp: 0 for tp in consumer.assignment()})
            dry = await asyncio.to_thread(
                run_cli, "offsets", "delete", group, "-t", topic, "--dry-run"
            )
            real = await asyncio.to_thread(run_cli, "offsets", "delete", group, "-t", topic, "-y")
        return dry, real

    dry, real = asyncio.run(scenario())
    for result in (dry, real):
        assert result.exit_code == 2, result.output
        assert "subscribed" in result.stderr


def test_offsets_reset_all_topics(topic: str, unique: str) -> None:
    group = f"g-{unique}"
    asyncio.run(produce(topic, {0: [1, 2, 3], 1: [1]}))
    asyncio.run(commit(group, topic, {0: 0, 1: 0}))
    plan = as_json("offsets", "reset", group, "--all-topics", "--to-latest")
    assert {(r["topic"], r["partition"], r["new_offset"]) for r in plan["rows"]} == {
        (topic, 0, 3),
        (topic, 1, 1),
    }
    assert plan["executed"] is False
    done = as_json("offsets", "reset", group, "--all-topics", "--to-latest", "--execute", "--yes")
    assert done["executed"] is True
    assert asyncio.run(committed(group, topic)) == {0: 3, 1: 1}
    both = run_cli("offsets", "reset", group, "--all-topics", "-t", topic, "--to-latest")
    assert both.exit_code == 2
    none = run_cli("offsets", "reset", f"g2-{unique}", "--all-topics", "--to-latest")
    assert none.exit_code in (2, 4), none.output
