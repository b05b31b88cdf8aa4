"""``mqctl publish`` against the real local Kafka: round trips, templates, rate, failures."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_peek_kafka import ALL_BYTES, KAFKA, KAFKA_ONLY, _admin, jsonl, kafka_context

pytestmark = pytest.mark.kafka


@pytest.fixture
def topic(isolated_config: Path, unique: str) -> Iterator[str]:
    isolated_config.write_text(KAFKA_ONLY)
    name = f"test-pub-{unique}"
    asyncio.run(_admin("create", name, 3))
    yield name
    asyncio.run(_admin("delete", name))


def peek_all(topic: str) -> list[dict[str, Any]]:
    return jsonl(run_cli("peek", topic, "-o", "jsonl", "-n", "0"))


def test_value_key_headers_partition_round_trip(topic: str) -> None:
    result = run_cli(
        "publish", topic, '{"id": 1}', "-k", "order-1", "-H", "a=1", "-H", "a=2", "-p", "2"
    )
    assert result.exit_code == 0, result.output
    assert f"published 1 message to kafka:{topic}" in result.stdout and "0 failed" in result.stdout
    (record,) = peek_all(topic)
    assert record["partition"] == 2 and record["key"] == "order-1"
    assert record["value"] == {"id": 1} and record["headers"] == [["a", "1"], ["a", "2"]]


def test_binary_values_round_trip_through_file_and_jsonl(topic: str, tmp_path: Path) -> None:
    escapes = b"\x1b[2J\x1b]0;x\x07" + b"\xc3\x28"  # escape sequences + invalid UTF-8
    blob = tmp_path / "blob.bin"
    blob.write_bytes(ALL_BYTES)
    assert run_cli("publish", topic, "--file", str(blob), "-p", "0").exit_code == 0
    lines = [
        {
            "value": base64.b64encode(escapes).decode(),
            "value_format": "base64",
            "partition": 1,
            "key": {"base64": base64.b64encode(b"\xff\x00").decode()},
            "headers": [["bin", {"base64": "/w=="}], ["esc", "\x1b[31m"]],
        },
        {"value": {"nested": [1, 2]}, "partition": 1},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = run_cli("publish", topic, "--jsonl", str(src), "-o", "jsonl")
    results = jsonl(out)
    assert [(r["index"], r["ok"], r["partition"]) for r in results] == [(0, True, 1), (1, True, 1)]
    assert results[1]["offset"] == results[0]["offset"] + 1
    records = {(r["partition"], r["offset"]): r for r in peek_all(topic)}
    assert base64.b64decode(records[(0, 0)]["value"]) == ALL_BYTES
    first = records[(1, 0)]
    assert base64.b64decode(first["value"]) == escapes
    assert base64.b64decode(first["key"]) == b"\xff\x00"
    assert first["headers"] == [["bin", {"base64": "/w=="}], ["esc", "\x1b[31m"]]
    assert records[(1, 1)]["value"] == {"nested": [1, 2]}
    # peek -o jsonl output feeds publish --jsonl: a byte-exact copy.
    copy = tmp_path / "copy.jsonl"
    copy.write_text(run_cli("peek", topic, "-o", "jsonl", "-p", "1", "-n", "1").stdout)
    assert run_cli("publish", topic, "--jsonl", str(copy)).exit_code == 0
    again = [r for r in peek_all(topic) if r["partition"] == 1 and r["offset"] == 2]
    assert base64.b64decode(again[0]["value"]) == escapes


def test_stdin_lines(topic: str) -> None:
    result = run_cli("publish", topic, "-", "-p", "0", stdin="one\ntwo\n\nthree\n")
    assert result.exit_code == 0, result.output
    assert [r["value"] for r in peek_all(topic)] == ["one", "two", "three"]


def test_template_count_and_rate(topic: str) -> None:
    template = '{"id": "{{uuid}}", "n": {{seq}}, "qty": {{randint 1 5}}, "c": "{{choice eu us}}"}'
    result = run_cli(
        "publish", topic, template, "-t", "-n", "40", "--rate", "400/s",
        "-k", "key-{{seq}}", "-H", "at={{now_ms}}", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["published"] == 40 and summary["failed"] == 0
    assert summary["destination"] == f"kafka:{topic}" and summary["errors"] == []
    records = peek_all(topic)
    assert len(records) == 40
    values = [r["value"] for r in records]
    assert sorted(v["n"] for v in values) == list(range(1, 41))
    assert len({v["id"] for v in values}) == 40
    assert all(1 <= v["qty"] <= 5 and v["c"] in ("eu", "us") for v in values)
    assert {r["key"] for r in records} == {f"key-{n}" for n in range(1, 41)}
    assert all(r["headers"][0][0] == "at" and r["headers"][0][1].isdigit() for r in records)


def test_template_errors_exit_2_and_send_nothing(topic: str) -> None:
    result = run_cli("publish", topic, "{{sequence}}", "--template")
    assert result.exit_code == 2 and "{{sequence}}" in result.stderr
    assert peek_all(topic) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to publish"),
        (["v", "--rate", "fast"], "--rate 'fast'"),
        (["v", "-H", "novalue"], "expected KEY=VALUE"),
        (["v", "--count", "0"], "at least 1"),
        (["v", "--compression", "rar"], "--compression 'rar'"),
        (["v", "--jsonl", "/nonexistent/x.jsonl"], "cannot be combined"),
        (["--jsonl", "/nonexistent/x.jsonl"], "file not found"),
        (["v", "--property", "priority=high"], "expected an integer"),
    ],
)
def test_bad_input_exit_2(topic: str, args: list[str], message: str) -> None:
    result = run_cli("publish", topic, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_missing_topic_is_a_clear_error(isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(KAFKA_ONLY)
    result = run_cli("publish", f"no-such-topic-{unique}", "x")
    assert result.exit_code == 4
    assert f"no-such-topic-{unique}" in result.stderr and "Traceback" not in result.output
    topics = run_cli("topics", "list", "-o", "json")
    assert f"no-such-topic-{unique}" not in topics.stdout  # nothing was auto-created


def test_unknown_partition_is_exit_4_before_anything_is_sent(topic: str) -> None:
    result = run_cli("publish", topic, "x", "-p", "9", "-n", "2", "-o", "jsonl")
    assert result.exit_code == 4, result.output
    assert "no partition 9" in result.stderr and result.stdout == ""
    assert peek_all(topic) == []


def test_refused_messages_exit_5_and_say_which(topic: str) -> None:
    """The broker refuses each record (larger than the topic's max.message.bytes)."""
    altered = run_cli("topics", "alter", topic, "--config", "max.message.bytes=1024")
    assert altered.exit_code == 0, altered.output
    result = run_cli("publish", topic, "x" * 4096, "-p", "1", "-n", "2", "-o", "jsonl")
    assert result.exit_code == 5, result.output
    rows = jsonl_lines(result.stdout)
    assert [r["ok"] for r in rows] == [False, False] and rows[0]["error"]
    assert "2 of 2 messages were not published" in result.stderr
    assert "first: message 0" in result.stderr


def jsonl_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_read_only_context_refuses(isolated_config: Path, unique: str) -> None:
    read_only = "[contexts.k]\nread-only = true\n[contexts.k.kafka]"
    isolated_config.write_text(KAFKA_ONLY.replace("[contexts.k.kafka]", read_only))
    result = run_cli("publish", f"any-{unique}", "x")
    assert result.exit_code == 2 and "read-only" in result.stderr


def test_unreachable_broker_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(KAFKA_ONLY.replace(KAFKA, f"127.0.0.1:{closed_port}"))
    result = run_cli("--timeout", "2", "publish", "t", "x")
    assert result.exit_code == 3 and "Traceback" not in result.output


@pytest.mark.parametrize("codec", ["gzip", "lz4", "zstd", "snappy"])
def test_compression_and_service_results_in_order(topic: str, codec: str) -> None:
    from mqctl.models.messages import OutgoingMessage, PublishOptions
    from mqctl.services import messages as service
    from mqctl.session import Session

    async def go() -> list[Any]:
        async with Session(kafka_context()) as session:
            msgs = [OutgoingMessage(value=f"m{i}".encode(), partition=i % 3) for i in range(30)]
            options = PublishOptions(compression=codec)
            return [r async for r in service.publish(session, topic, msgs, options)]

    results = asyncio.run(go())
    assert [r.index for r in results] == list(range(30)) and all(r.ok for r in results)
    assert [r.partition for r in results] == [i % 3 for i in range(30)]
    assert len(peek_all(topic)) == 30
