"""`mqctl lag` against the real local Kafka: numbers, time lag, statuses, runbook checks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import (
    commit,
    committed,
    end_offsets,
    kafka_only,
    produce,
    scratch_topic,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def scenario(unique: str, isolated_config: Path) -> Iterator[dict[str, Any]]:
    """A 3-partition topic with 10 records per partition, timestamps 100..10 s ago, and a
    group committed at offsets 2, 5 and 10."""
    kafka_only(isolated_config)
    topic, group = f"lag-{unique}", f"lag-group-{unique}"
    now = int(time.time() * 1000)
    stamps = {p: [now - (100 - 10 * i) * 1000 for i in range(10)] for p in range(3)}
    with scratch_topic(topic, 3, group):
        asyncio.run(produce(topic, stamps))
        asyncio.run(commit(group, topic, {0: 2, 1: 5, 2: 10}))
        yield {"topic": topic, "group": group, "stamps": stamps}


# --- numbers -----------------------------------------------------------------------------------


def test_lag_numbers_match_committed_and_end_offsets(scenario: dict[str, Any]) -> None:
    topic, group = scenario["topic"], scenario["group"]
    result = run_cli("lag", group, "-o", "json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    ends = asyncio.run(end_offsets(topic, 3))
    commits = asyncio.run(committed(group, topic))
    assert entry["group"] == group and entry["kind"] == "group" and entry["backend"] == "kafka"
    rows = {p["partition"]: p for p in entry["partitions"]}
    for p in range(3):
        assert rows[p]["committed_offset"] == commits[p]
        assert rows[p]["end_offset"] == ends[p]
        assert rows[p]["lag"] == ends[p] - commits[p]
        assert rows[p]["log_start_offset"] == 0
    assert entry["total_lag"] == sum(ends[p] - commits[p] for p in range(3)) == 8 + 5
    assert set(rows[0]) >= {
        "topic", "partition", "committed_offset", "log_start_offset", "end_offset", "lag",
        "time_lag_seconds", "owner", "status",
    }  # fmt: skip


def test_time_lag_is_age_of_first_unconsumed_record(scenario: dict[str, Any]) -> None:
    group, stamps = scenario["group"], scenario["stamps"]
    before = time.time() * 1000
    result = run_cli("lag", group, "-o", "json")
    after = time.time() * 1000
    [entry] = json.loads(result.stdout)
    rows = {p["partition"]: p for p in entry["partitions"]}
    for partition, offset in ((0, 2), (1, 5)):
        ts = stamps[partition][offset]
        low, high = (before - ts) / 1000, (after - ts) / 1000
        assert low - 0.01 <= rows[partition]["time_lag_seconds"] <= high + 0.01
    assert rows[2]["time_lag_seconds"] is None  # caught up: no time lag
    assert entry["max_time_lag_seconds"] == rows[0]["time_lag_seconds"]


async def _produce_one_batch(topic: str, stamps: list[int]) -> None:
    """Records with the given timestamps in one producer batch (one record batch on disk)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:9092", linger_ms=1000)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"v", partition=0, timestamp_ms=ts) for ts in stamps]
        await producer.flush()
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def test_time_lag_of_many_groups_on_one_partition(unique: str, isolated_config: Path) -> None:
    """Groups a few records apart on one partition: each gets the age of its own first
    unconsumed record, also inside one record batch and in later batches."""
    kafka_only(isolated_config)
    topic = f"lag-many-{unique}"
    groups = {f"lag-many-{unique}-{o}": o for o in (0, 3, 7, 9, 12, 14)}
    now = int(time.time() * 1000)
    batched = [now - (500 - 10 * i) * 1000 for i in range(10)]  # offsets 0-9: one batch
    single = {0: [now - (300 - 10 * i) * 1000 for i in range(6)]}  # offsets 10-15
    with scratch_topic(topic, 1, *groups):
        asyncio.run(_produce_one_batch(topic, batched))
        asyncio.run(produce(topic, single))
        stamps = batched + single[0]
        for group, offset in groups.items():
            asyncio.run(commit(group, topic, {0: offset}))
        before = time.time() * 1000
        result = run_cli("lag", *groups, "-o", "json")
        after = time.time() * 1000
    assert result.exit_code == 0, result.output
    entries = {e["group"]: e for e in json.loads(result.stdout)}
    for group, offset in groups.items():
        [row] = entries[group]["partitions"]
        assert row["committed_offset"] == offset and row["lag"] == 16 - offset
        ts = stamps[offset]
        low, high = (before - ts) / 1000, (after - ts) / 1000
        assert low - 0.01 <= row["time_lag_seconds"] <= high + 0.01, (group, row)


def test_time_lag_after_records_deleted_inside_a_batch(unique: str, isolated_config: Path) -> None:
    """The log start moved into the middle of a record batch (delete-records): time lag is
    the age of the first record that still exists, not of the batch's first record."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    kafka_only(isolated_config)
    topic, group = f"lag-gap-{unique}", f"lag-gap-{unique}-g"
    now = int(time.time() * 1000)
    batched = [now - (500 - 10 * i) * 1000 for i in range(10)]  # offsets 0-9: one batch

    async def delete_below(offset: int) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9092")
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(offset)})
        finally:
            await admin.close()

    with scratch_topic(topic, 1, group):
        asyncio.run(_produce_one_batch(topic, batched))
        asyncio.run(commit(group, topic, {0: 2}))
        asyncio.run(delete_below(4))
        before = time.time() * 1000
        result = run_cli("lag", group, "-o", "json")
        after = time.time() * 1000
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)[0]["partitions"]
    assert (row["log_start_offset"], row["lag"], row["status"]) == (4, 6, "DATA_LOSS")
    low, high = (before - batched[4]) / 1000, (after - batched[4]) / 1000
    assert low - 0.01 <= row["time_lag_seconds"] <= high + 0.01, row


def test_snapshot_status_stopped_without_members(scenario: dict[str, Any]) -> None:
    result = run_cli("lag", scenario["group"], "-o", "json")
    [entry] = json.loads(result.stdout)
    statuses = {p["partition"]: p["status"] for p in entry["partitions"]}
    assert statuses == {0: "STOPPED", 1: "STOPPED", 2: "OK"}
    assert entry["status"] == "STOPPED" and entry["members"] == 0


def test_topic_filter_and_table_output(scenario: dict[str, Any]) -> None:
    result = run_cli("lag", scenario["group"], "--topic", scenario["topic"])
    assert result.exit_code == 0, result.output
    assert scenario["group"] in result.stdout and "STOPPED" in result.stdout
    assert "PARTITION" in result.stdout  # named group: partition rows shown
    missing = run_cli("lag", scenario["group"], "--topic", f"{scenario['topic']}-nope")
    assert missing.exit_code == 4 and missing.stderr.startswith("error: topic")


def test_all_groups_includes_the_group(scenario: dict[str, Any]) -> None:
    result = run_cli("lag", "--all-groups", "-o", "jsonl")
    assert result.exit_code == 0, result.output
    groups = [json.loads(line)["group"] for line in result.stdout.splitlines()]
    assert scenario["group"] in groups


# --- runbook checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--fail-on", "stop"], 1),
        (["--fail-on", "warn"], 1),
        (["--fail-on", "error"], 0),
        (["--max-lag", "13"], 0),
        (["--max-lag", "12"], 1),
        (["--max-time-lag", "1h"], 0),
        (["--max-time-lag", "30s"], 1),
    ],
)
def test_runbook_checks_exit_codes(scenario: dict[str, Any], args: list[str], code: int) -> None:
    result = run_cli("lag", scenario["group"], "-o", "json", *args)
    assert result.exit_code == code, result.output
    json.loads(result.stdout)  # the view is printed before the verdict
    if code:
        assert result.stderr.startswith("error: lag check failed:")
        assert len(result.stderr.strip().splitlines()) == 1


def test_bad_check_values_are_usage_errors(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    for args in (["--fail-on", "sometimes"], ["--max-time-lag", "soon"], ["--window", "-"]):
        result = run_cli("lag", *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


# --- errors --------------------------------------------------------------------------------------


def test_unknown_group_is_not_found(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    result = run_cli("lag", f"no-such-group-{unique}")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: consumer group") and "not found" in result.stderr


def test_broker_down_is_exit_3_one_line(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'current-context = "down"\n[contexts.down.kafka]\n'
        f'bootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    result = run_cli("--timeout", "2", "lag")
    assert result.exit_code == 3
    assert (
        result.stderr.splitlines()[0]
        == f"error: cannot connect to Kafka at 127.0.0.1:{closed_port} (connection refused)"
    )
    assert "Traceback" not in result.output


# --- the seeded scenario (read-only) ------------------------------------------------------------


def test_seeded_scenario_groups(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    groups = ["inventory-group", "notification-group", "analytics-group"]
    result = run_cli("lag", *groups, "-o", "json")
    if result.exit_code == 4:
        pytest.skip("the seeded scenario is not there (make seed)")
    assert result.exit_code == 0, result.output
    entries = {e["group"]: e for e in json.loads(result.stdout)}
    inventory, notification, analytics = (entries[g] for g in groups)
    assert inventory["status"] == "OK" and inventory["total_lag"] == 0
    assert inventory["max_time_lag_seconds"] is None
    # Lagging 40..80 per partition; no members, so a snapshot calls it STOPPED (docs/lag.md).
    assert all(40 <= p["lag"] <= 80 for p in notification["partitions"])
    assert notification["status"] in ("LAGGING", "STOPPED")
    assert notification["max_time_lag_seconds"] > 0
    assert analytics["status"] == "STOPPED"
    assert analytics["total_lag"] > notification["total_lag"]
    assert analytics["max_time_lag_seconds"] > notification["max_time_lag_seconds"]
