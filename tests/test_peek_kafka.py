"""``mqctl peek`` against the real local Kafka: positions, filters, decoding, no side effects."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA, run_cli

pytestmark = pytest.mark.kafka

KAFKA_ONLY = f"""
current-context = "k"
[contexts.k.kafka]
bootstrap-servers = "{KAFKA}"
"""
ALL_BYTES = bytes(range(256))


def kafka_context() -> Any:
    from mqctl.config.schema import Context

    return Context(name="k", backends={"kafka": {"bootstrap-servers": KAFKA}})


async def _admin(action: str, topic: str, partitions: int = 3) -> None:
    from mqctl.session import Session

    async with Session(kafka_context()) as session:
        backend: Any = session.backend("kafka")
        if action == "create":
            await backend.create_topic(topic, partitions=partitions)
        else:
            await backend.delete_topics([topic])


async def _produce(topic: str, records: list[dict[str, Any]]) -> None:
    """Seed test data with exact partitions and timestamps (aiokafka directly)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(
                topic,
                value=r.get("value"),
                key=r.get("key"),
                partition=r["partition"],
                timestamp_ms=r.get("ts"),
                headers=r.get("headers"),
            )
    finally:
        await producer.stop()


@pytest.fixture
def kafka_cfg(isolated_config: Path) -> Path:
    isolated_config.write_text(KAFKA_ONLY)
    return isolated_config


T0 = 1_790_000_000_000  # fixed CreateTime base (ms) so time-based peeks are deterministic


@pytest.fixture(scope="module")
def seeded() -> Iterator[str]:
    """3 partitions x 10 messages: value {"p": P, "i": I}, key k-P-I, ts T0 + I*1000."""
    import uuid

    topic = f"test-peek-{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin("create", topic))
    records = [
        {
            "partition": p,
            "key": f"k-{p}-{i}".encode(),
            "value": json.dumps({"p": p, "i": i}).encode(),
            "ts": T0 + i * 1000 + p,
            "headers": [("idx", str(i).encode()), ("even", b"yes" if i % 2 == 0 else b"no")],
        }
        for p in range(3)
        for i in range(10)
    ]
    asyncio.run(_produce(topic, records))
    yield topic
    asyncio.run(_admin("delete", topic))


def jsonl(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def positions(records: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return sorted((r["partition"], r["offset"]) for r in records)


def test_default_reads_first_ten_and_stops(kafka_cfg: Path, seeded: str) -> None:
    records = jsonl(run_cli("peek", seeded, "-o", "jsonl"))
    assert len(records) == 10
    r = records[0]
    assert r["backend"] == "kafka" and r["source"] == seeded
    assert r["timestamp_type"] == "CreateTime" and r["value_format"] == "json"
    assert r["key"] == f"k-{r['partition']}-{r['value']['i']}"
    assert r["headers"][0] == ["idx", str(r["value"]["i"])]
    assert r["size"] == len(json.dumps(r["value"])) + len(r["key"])
    everything = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--max", "0"))
    assert len(everything) == 30


def test_start_positions(kafka_cfg: Path, seeded: str) -> None:
    last = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--last", "2"))
    assert positions(last) == [(p, o) for p in range(3) for o in (8, 9)]  # 2 PER partition
    merged = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--last", "2", "--merge"))
    assert [(r["partition"], r["offset"]) for r in merged] == [(1, 9), (2, 9)]  # by timestamp
    offset = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--offset", "7", "-n", "0"))
    assert positions(offset) == [(p, o) for p in range(3) for o in (7, 8, 9)]
    first = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--offset", "first", "-p", "1", "-n", "3"))
    assert positions(first) == [(1, 0), (1, 1), (1, 2)]
    assert jsonl(run_cli("peek", seeded, "-o", "jsonl", "--offset", "next")) == []
    since = datetime.fromtimestamp((T0 + 8000) / 1000, UTC).isoformat()
    timed = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--since", since, "-n", "0"))
    assert positions(timed) == [(p, o) for p in range(3) for o in (8, 9)]
    assert all(r["timestamp"] >= since for r in timed)
    timed_p2 = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--since", since, "-p", "2"))
    assert positions(timed_p2) == [(2, 8), (2, 9)]
    # A time after every message: nothing, and no waiting for more.
    assert jsonl(run_cli("peek", seeded, "-o", "jsonl", "--since", "2099-01-01T00:00Z")) == []
    # Long ago (a duration): everything.
    assert len(jsonl(run_cli("peek", seeded, "-o", "jsonl", "--since", "520w", "-n", "0"))) == 30


def test_partitions_are_selectable(kafka_cfg: Path, seeded: str) -> None:
    records = jsonl(run_cli("peek", seeded, "-o", "jsonl", "-p", "0", "-p", "2", "-n", "0"))
    assert {r["partition"] for r in records} == {0, 2} and len(records) == 20
    bad = run_cli("peek", seeded, "-p", "7")
    assert bad.exit_code == 4 and "no partition 7" in bad.stderr


def test_filters_report_scanned_vs_matched(kafka_cfg: Path, seeded: str) -> None:
    # (the seed put keys in partitions of its choosing, not the key's hash partition that
    # --key reads by itself: name every partition)
    every = ("-p", "0", "-p", "1", "-p", "2")
    by_key = run_cli("peek", seeded, "-o", "jsonl", "--key", "k-1-4", *every)
    assert [(r["partition"], r["offset"]) for r in jsonl(by_key)] == [(1, 4)]
    assert "scanned 30, matched 1" in by_key.stderr
    grep = jsonl(run_cli("peek", seeded, "-o", "jsonl", "--grep", r'"i": [35]\b', "-n", "0"))
    assert positions(grep) == [(p, o) for p in range(3) for o in (3, 5)]
    header = run_cli("peek", seeded, "-o", "jsonl", "--header", "even=yes", "-p", "0", "-n", "0")
    assert [r["offset"] for r in jsonl(header)] == [0, 2, 4, 6, 8]
    assert "scanned 10, matched 5" in header.stderr
    limited = run_cli("peek", seeded, "-o", "jsonl", "--header", "even=no", "--max", "2")
    assert len(jsonl(limited)) == 2


def test_decode_modes_and_formats(kafka_cfg: Path, seeded: str) -> None:
    hexed = jsonl(run_cli("peek", seeded, "-o", "jsonl", "-p", "0", "-n", "1", "--decode", "hex"))
    assert bytes.fromhex(hexed[0]["value"]) == b'{"p": 0, "i": 0}'
    assert hexed[0]["value_format"] == "hex"
    text = jsonl(run_cli("peek", seeded, "-o", "jsonl", "-p", "0", "-n", "1", "--decode", "text"))
    assert text[0]["value"] == '{"p": 0, "i": 0}'
    whole = run_cli("peek", seeded, "-o", "json", "-p", "0", "-n", "2")
    assert [r["offset"] for r in json.loads(whole.stdout)] == [0, 1]
    pretty = run_cli("peek", seeded, "-p", "0", "-n", "1")
    assert f"{seeded} [0] @ 0" in pretty.stdout and '"i": 0' in pretty.stdout
    table = run_cli("peek", seeded, "-o", "table", "-p", "0", "-n", "1")
    assert table.stdout.startswith("0/0\t")
    bad = run_cli("peek", seeded, "--decode", "klingon")
    assert bad.exit_code == 2 and "unknown decoder 'klingon'" in bad.stderr
    bad_fmt = run_cli("peek", seeded, "-o", "xml")
    assert bad_fmt.exit_code == 2 and "--output 'xml'" in bad_fmt.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--offset", "-1"], "not negative"),
        (["--since", "yesterday-ish"], "ISO 8601"),
        (["--last", "1", "--offset", "3"], "cannot be combined"),
        (["--merge"], "--merge only applies to --last"),
        (["--grep", "[unclosed"], "invalid regular expression"),
        (["--header", "=x"], "key before '=' is empty"),
        (["--max", "-1"], "--max -1"),
    ],
)
def test_bad_arguments_exit_2(kafka_cfg: Path, seeded: str, args: list[str], message: str) -> None:
    result = run_cli("peek", seeded, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_unknown_topic_and_unreachable_broker(
    isolated_config: Path, closed_port: int, unique: str
) -> None:
    isolated_config.write_text(KAFKA_ONLY)
    missing = run_cli("peek", f"no-such-topic-{unique}")
    assert missing.exit_code == 4 and f"no-such-topic-{unique}" in missing.stderr
    isolated_config.write_text(KAFKA_ONLY.replace(KAFKA, f"127.0.0.1:{closed_port}"))
    down = run_cli("--timeout", "2", "peek", "anything")
    assert down.exit_code == 3 and "Traceback" not in down.output


async def _groups() -> set[str]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        return {g[0] for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()


def test_peek_twice_same_messages_no_group_no_commit(kafka_cfg: Path, seeded: str) -> None:
    before = asyncio.run(_groups())
    first = run_cli("peek", seeded, "-o", "jsonl", "-n", "0")
    second = run_cli("peek", seeded, "-o", "jsonl", "-n", "0")
    # Partitions are fetched concurrently, so only the order across partitions may differ.
    assert sorted(first.stdout.splitlines()) == sorted(second.stdout.splitlines())
    assert len(jsonl(first)) == 30
    after = asyncio.run(_groups())
    # Other suites create groups concurrently: only ours would mention mqctl or the topic.
    new = after - before
    assert not [g for g in new if "mqctl" in g or seeded in g]


def test_raw_output_and_binary_round_trip(kafka_cfg: Path, unique: str) -> None:
    topic = f"test-peek-raw-{unique}"
    asyncio.run(_admin("create", topic, 1))
    try:
        weird = b"\x1b[2J\x1b]0;title\x07\xff\xfe" + ALL_BYTES
        asyncio.run(
            _produce(
                topic,
                [
                    {
                        "partition": 0,
                        "value": weird,
                        "key": b"\x00\xffkey\x1b[1m",
                        "headers": [("h", b"\x1b[31m"), ("b", b"\xff")],
                    }
                ],
            )
        )
        record = jsonl(run_cli("peek", topic, "-o", "jsonl"))[0]
        assert base64.b64decode(record["value"]) == weird and record["value_format"] == "base64"
        assert base64.b64decode(record["key"]) == b"\x00\xffkey\x1b[1m"
        assert record["headers"] == [["h", "\x1b[31m"], ["b", {"base64": "/w=="}]]
        pretty = run_cli("peek", topic)
        assert "\x1b" not in pretty.stdout and "\x07" not in pretty.stdout
        assert "\\x1b[31m" in pretty.stdout
        env = {**os.environ, "MQCTL_CONFIG": str(kafka_cfg)}
        raw = subprocess.run(
            [sys.executable, "-m", "mqctl", "peek", topic, "-o", "raw"],
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert raw.returncode == 0, raw.stderr
        assert raw.stdout == weird + b"\n"
    finally:
        asyncio.run(_admin("delete", topic))


async def _follow_collect(topic: str, want: int) -> list[Any]:
    from mqctl.models.messages import PeekOptions, StartPosition
    from mqctl.services import messages as service
    from mqctl.session import Session

    got: list[Any] = []
    async with Session(kafka_context()) as session:
        options = PeekOptions(max_messages=want, start=StartPosition("end"), follow=True)
        stream: AsyncIterator[Any] = service.peek(session, topic, options)

        async def reader() -> None:
            async for message in stream:
                got.append(message)

        task = asyncio.create_task(reader())
        await asyncio.sleep(1.5)  # let the reader get positioned at the end
        await _produce(topic, [{"partition": 0, "value": f"new-{i}".encode()} for i in range(3)])
        await asyncio.wait_for(task, 30)
    return got


def test_follow_sees_new_messages(unique: str) -> None:
    topic = f"test-peek-follow-{unique}"
    asyncio.run(_admin("create", topic, 1))
    try:
        asyncio.run(_produce(topic, [{"partition": 0, "value": b"old"}]))
        got = asyncio.run(_follow_collect(topic, 3))
        assert [m.value for m in got] == [b"new-0", b"new-1", b"new-2"]
    finally:
        asyncio.run(_admin("delete", topic))


def test_follow_ends_cleanly_on_ctrl_c(kafka_cfg: Path, seeded: str) -> None:
    env = {**os.environ, "MQCTL_CONFIG": str(kafka_cfg), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mqctl", "peek", seeded, "--follow", "-o", "jsonl", "-n", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(30)]  # all existing messages arrive
        assert all(json.loads(line)["source"] == seeded for line in lines)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
