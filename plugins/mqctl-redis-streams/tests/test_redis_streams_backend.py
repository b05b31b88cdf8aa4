"""The Redis Streams backend against a real redis-server: every command it supports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def test_plugin_is_discovered_through_its_entry_point(cli: Any) -> None:
    result = cli("plugins", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    row = rows["redis-streams"]
    assert row["kind"] == "backend"
    assert row["distribution"] == "mqctl-redis-streams"
    assert row["loaded"] is True and row["error"] is None


def test_status_reports_version(cli: Any, redis: Any) -> None:
    result = cli("context", "show", "--check", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"redis-streams"' in result.stdout
    assert '"reachable": true' in result.stdout


def test_topics_list_and_describe(cli: Any, redis: Any, prefix: str) -> None:
    orders, payments = f"{prefix}-orders", f"{prefix}-payments"
    for i in range(3):
        redis.xadd(orders, {"value": f"o{i}"})
    redis.xadd(payments, {"value": "p0"})
    redis.set(f"{prefix}-not-a-stream", "x")  # other key types are not listed

    result = cli("topics", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    topics = {t["name"]: t for t in json.loads(result.stdout)}
    assert set(topics) == {orders, payments}
    assert topics[orders]["messages"] == 3 and topics[orders]["partitions"] == 1
    assert topics[orders]["backend"] == "redis-streams"

    redis.xtrim(orders, maxlen=2, approximate=False)
    result = cli("topics", "describe", orders, "-o", "json")
    assert result.exit_code == 0, result.stderr
    detail = json.loads(result.stdout)
    assert detail["messages"] == 2
    [partition] = detail["partitions"]
    assert (partition["log_start_offset"], partition["end_offset"]) == (1, 3)
    configs = {c["name"]: c["value"] for c in detail["configs"]}
    assert configs["entries-added"] == "3"


def test_describe_missing_stream_is_not_found(cli: Any, redis: Any, prefix: str) -> None:
    result = cli("topics", "describe", f"{prefix}-nope")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: no stream named")
    assert "Traceback" not in result.stderr


def test_unreachable_redis_is_exit_3(cli: Any, rs_config: Path, closed_port: int) -> None:
    rs_config.write_text(
        'current-context = "rs"\n[contexts.rs.redis-streams]\n'
        f'url = "redis://127.0.0.1:{closed_port}/0"\n'
    )
    result = cli("topics", "list")
    assert result.exit_code == 3
    assert "cannot connect to Redis at redis://127.0.0.1:" in result.stderr
    assert "connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_is_exit_2_naming_the_key(cli: Any, rs_config: Path) -> None:
    cases = {
        'url = "http://127.0.0.1:6379"': "contexts.rs.redis-streams.url",
        'url = "redis://127.0.0.1:6379/x"': "database number",
        "colour = 1": "unknown key 'colour'",
        'password = "a"\npassword-env = "B"': "set only one of",
    }
    for body, expected in cases.items():
        rs_config.write_text(f'current-context = "rs"\n[contexts.rs.redis-streams]\n{body}\n')
        result = cli("topics", "list")
        assert result.exit_code == 2, (body, result.stderr)
        assert expected in result.stderr, (body, result.stderr)
        assert "Traceback" not in result.stderr


def test_password_is_never_shown(cli: Any, rs_config: Path, redis: Any) -> None:
    rs_config.write_text(
        'current-context = "rs"\n[contexts.rs.redis-streams]\n'
        'url = "redis://:sup3r-secret@127.0.0.1:6379/0"\n'
    )
    result = cli("context", "show", "--check", "-o", "json")
    # our redis-server has no password: AUTH fails, and the error must not leak it
    assert "sup3r-secret" not in result.stdout + result.stderr
    assert "redis://127.0.0.1:6379/0" in result.stdout


def test_publish_and_peek_round_trip(cli: Any, redis: Any, prefix: str) -> None:
    stream = f"{prefix}-events"
    redis.xgroup_create(stream, "workers", id="0", mkstream=True)
    result = cli("publish", stream, '{"id": 1}', "--key", "k-1", "-H", "source=test")
    assert result.exit_code == 0, result.stderr
    result = cli("publish", stream, "second", "-n", "2", "-o", "jsonl")
    assert result.exit_code == 0, result.stderr
    published = [json.loads(line) for line in result.stdout.splitlines()]
    entries = redis.xrange(stream)
    assert len(entries) == 3
    # each result names the entry id Redis gave the message
    assert [r["id"] for r in published] == [e[0].decode() for e in entries[1:]]
    assert entries[0][1] == {b"key": b"k-1", b"value": b'{"id": 1}', b"source": b"test"}
    assert entries[1][1] == {b"value": b"second"}

    result = cli("peek", stream, "-o", "json", "--max", "0")
    assert result.exit_code == 0, result.stderr
    messages = json.loads(result.stdout)
    assert [m["value"] for m in messages] == [{"id": 1}, "second", "second"]
    assert messages[0]["key"] == "k-1"
    assert messages[0]["headers"] == [["source", "test"]]
    assert messages[0]["properties"]["id"] == entries[0][0].decode()

    result = cli("peek", stream, "--last", "1", "-o", "jsonl", "--decode", "text")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1

    # peeking delivered nothing to the group
    [group] = redis.xinfo_groups(stream)
    assert group["entries-read"] is None or group["entries-read"] == 0
    assert group["pending"] == 0


def test_publish_to_a_missing_stream_fails_without_creating_it(
    cli: Any, redis: Any, prefix: str
) -> None:
    result = cli("publish", f"redis-streams:{prefix}-ghost", "x")
    assert result.exit_code == 4, result.stderr  # the name does not resolve
    assert redis.exists(f"{prefix}-ghost") == 0


def test_peek_unknown_stream_is_not_found(cli: Any, redis: Any, prefix: str) -> None:
    result = cli("peek", f"{prefix}-nothing")
    assert result.exit_code == 4
    assert "Traceback" not in result.stderr


def test_peek_start_positions(cli: Any, redis: Any, prefix: str) -> None:
    stream = f"{prefix}-pos"
    ids = [redis.xadd(stream, {"value": f"m{i}"}) for i in range(5)]

    def values(*args: str) -> list[str]:
        result = cli("peek", stream, "-o", "json", "--decode", "text", *args)
        assert result.exit_code == 0, result.stderr
        return [m["value"] for m in json.loads(result.stdout)]

    assert values("--max", "0") == [f"m{i}" for i in range(5)]
    assert values("--max", "2") == ["m0", "m1"]
    assert values("--last", "2") == ["m3", "m4"]
    assert values("--offset", "last") == ["m4"]
    assert values("--offset", "next") == []  # only new entries: none arrive
    since_ms = int(ids[3].decode().split("-")[0])
    since = datetime.fromtimestamp(since_ms / 1000, UTC).isoformat(timespec="milliseconds")
    expected = [f"m{i}" for i, i_d in enumerate(ids) if int(i_d.split(b"-")[0]) >= since_ms]
    assert values("--since", since) == expected
    assert expected[-2:] == ["m3", "m4"]

    result = cli("peek", stream, "--offset", "3")
    assert result.exit_code == 2
    assert "ids, not numeric offsets" in result.stderr
    result = cli("peek", stream, "--partition", "1")
    assert result.exit_code == 2
    assert "single partition" in result.stderr
