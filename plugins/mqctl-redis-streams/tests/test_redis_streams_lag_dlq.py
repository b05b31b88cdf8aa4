"""Consumer-group lag and DLQ redrive of the Redis Streams backend, against real Redis."""

from __future__ import annotations

import json
from typing import Any


def _lag(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("lag", *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {e["group"]: e for e in json.loads(result.stdout)}


def test_lag_counts_undelivered_and_pending(cli: Any, redis: Any, prefix: str) -> None:
    stream = f"{prefix}-jobs"
    redis.xgroup_create(stream, "workers", id="0", mkstream=True)
    redis.xgroup_create(stream, "idle", id="$")
    redis.xgroup_create(stream, "done", id="0")
    ids = [redis.xadd(stream, {"value": f"job-{i}"}) for i in range(5)]
    # workers: 3 delivered to w1, 1 of them acknowledged -> 2 pending + 2 undelivered
    redis.xreadgroup("workers", "w1", {stream: ">"}, count=3)
    redis.xack(stream, "workers", ids[0])
    # done: everything read and acknowledged
    redis.xreadgroup("done", "d1", {stream: ">"})
    redis.xack(stream, "done", *ids)

    entries = _lag(cli, "--partitions")
    workers = entries["workers"]
    assert workers["backend"] == "redis-streams" and workers["kind"] == "group"
    assert workers["total_lag"] == 4
    assert workers["topics"] == [stream]
    assert workers["members"] == 1
    assert workers["status"] == "LAGGING"
    [row] = workers["partitions"]
    assert row["topic"] == stream
    assert row["end_offset"] == 5
    assert row["committed_offset"] == 1  # 3 delivered - 2 pending
    assert row["lag"] == 4
    assert row["owner"] == "w1 (2 pending)"
    assert row["time_lag_seconds"] is not None

    # no consumer ever joined, 5 entries waiting
    assert entries["idle"]["total_lag"] == 5
    assert entries["idle"]["status"] == "STOPPED"
    assert entries["done"]["total_lag"] == 0
    assert entries["done"]["status"] == "OK"

    # consuming the rest brings the group to zero
    redis.xreadgroup("workers", "w1", {stream: ">"})
    redis.xack(stream, "workers", *ids)
    assert _lag(cli, "workers")["workers"]["total_lag"] == 0


def test_lag_check_fails_on_max_lag(cli: Any, redis: Any, prefix: str) -> None:
    stream = f"{prefix}-q"
    redis.xgroup_create(stream, "slow", id="0", mkstream=True)
    for i in range(3):
        redis.xadd(stream, {"value": str(i)})
    result = cli("lag", "slow", "--max-lag", "2")
    assert result.exit_code == 1
    assert cli("lag", "slow", "--max-lag", "3").exit_code == 0


def _dlq_entries(redis: Any, stream: str) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in redis.xrange(stream)]


def test_dlq_list_finds_streams_by_convention(cli: Any, redis: Any, prefix: str) -> None:
    redis.xadd(f"{prefix}-orders", {"value": "ok"})
    redis.xadd(f"{prefix}-orders.dlq", {"value": "bad", "error": "boom"})
    redis.xadd(f"{prefix}-mail:dlq", {"value": "bad"})
    redis.xadd(f"{prefix}-plain", {"value": "x"})
    result = cli("dlq", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {f"{prefix}-orders.dlq", f"{prefix}-mail:dlq"}
    assert rows[f"{prefix}-orders.dlq"]["sources"] == [f"{prefix}-orders"]
    assert rows[f"{prefix}-orders.dlq"]["depth"] == 1


def test_dlq_redrive_moves_everything_and_keeps_fields(cli: Any, redis: Any, prefix: str) -> None:
    source, dlq = f"{prefix}-orders", f"{prefix}-orders.dlq"
    redis.xgroup_create(source, "app", id="$", mkstream=True)  # the source exists, empty
    sent = []
    for i in range(25):
        fields = {"value": json.dumps({"n": i}), "key": f"k{i % 3}", "error": "timeout"}
        sent.append(fields)
        redis.xadd(dlq, fields)
    redis.xadd(dlq, {"order": "99", "status": "failed"})  # an entry without a value field

    dry = cli("dlq", "redrive", dlq, "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["moved"] == 26
    assert len(_dlq_entries(redis, dlq)) == 26  # dry run changed nothing

    result = cli("dlq", "redrive", dlq, "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 26 and summary["failed"] == 0
    assert _dlq_entries(redis, dlq) == []
    moved = _dlq_entries(redis, source)
    assert len(moved) == 26
    for fields, original in zip(moved, sent, strict=False):
        assert fields[b"value"] == original["value"].encode()  # in order, body unchanged
        assert fields[b"key"] == original["key"].encode()
        assert fields[b"error"] == b"timeout"
        assert fields[b"x-mqctl-redrive-count"] == b"1"
    # the entry without a value field keeps its shape
    assert moved[-1] == {
        b"order": b"99",
        b"status": b"failed",
        b"x-mqctl-redrive-count": b"1",
        b"x-mqctl-redriven-from": dlq.encode(),  # where the copy came from (docs/dlq.md)
    }


def test_dlq_redrive_loop_guard_and_missing_target(cli: Any, redis: Any, prefix: str) -> None:
    dlq = f"{prefix}-ghost.dlq"  # its source stream does not exist
    redis.xadd(dlq, {"value": "a"})
    redis.xadd(dlq, {"value": "b", "x-mqctl-redrive-count": "3"})
    result = cli("dlq", "redrive", dlq, "--yes", "-o", "json")
    assert result.exit_code == 5, result.stderr  # something failed
    summary = json.loads(result.stdout)
    assert summary["failed"] == 1
    assert summary["skipped"] == {"loop-guard": 1}
    assert len(_dlq_entries(redis, dlq)) == 2  # nothing lost
    assert redis.exists(f"{prefix}-ghost") == 0  # and no stream created by accident


def test_dlq_redrive_limit_and_redis_key_convention(cli: Any, redis: Any, prefix: str) -> None:
    source, dlq = f"{prefix}-mail", f"{prefix}-mail:dlq"
    redis.xgroup_create(source, "app", id="$", mkstream=True)
    for i in range(5):
        redis.xadd(dlq, {"value": str(i)})
    result = cli("dlq", "redrive", dlq, "--limit", "2", "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["moved"] == 2
    assert [f[b"value"] for f in _dlq_entries(redis, source)] == [b"0", b"1"]
    assert [f[b"value"] for f in _dlq_entries(redis, dlq)] == [b"2", b"3", b"4"]
