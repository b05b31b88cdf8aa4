"""DLQ tools against the real Kafka broker: Spring- and Connect-style dead-letter headers
(binary big-endian ints for Spring, text for Connect) and application envelopes."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    _audit_log,  # noqa: F401  (an autouse fixture)
    connect_headers,
    forget_ledger,
    kafka_produce,
    kafka_read,
    ledger_entries,
    spring_headers,
)

pytestmark = pytest.mark.kafka
PAYMENT = "com.example.payments.PaymentDeclinedException"
DATA = "org.apache.kafka.connect.errors.DataException"


@dataclass
class KafkaDlq:
    source: str  # 3 partitions
    dlq: str  # <source>.DLT
    hidden: str  # a DLQ whose name follows no convention (found by headers)


@pytest.fixture
def kdlq(unique: str) -> Iterator[KafkaDlq]:
    spec = KafkaDlq(f"dlqt-{unique}", f"dlqt-{unique}.DLT", f"dlqt-{unique}-failures")
    asyncio.run(create_topics({spec.source: 3, spec.dlq: 2, spec.hidden: 1}))
    records = []
    for n in range(6):  # Spring: original partition n % 3
        headers = spring_headers(spec.source, n % 3, 100 + n, PAYMENT, "card declined")
        records.append((f"k{n}".encode(), json.dumps({"n": n}).encode(), headers, 0))
    for n in range(6, 10):  # Connect
        headers = connect_headers(spec.source, 1, 200 + n, DATA, "bad json")
        records.append((f"k{n}".encode(), b"{not json", headers, 1))
    for n in range(10, 12):  # application envelope only: destination by name convention
        body = {"payload": {"n": n}, "error": "timeout", "retryCount": 2}
        records.append((f"k{n}".encode(), json.dumps(body).encode(), [("retryCount", b"2")], 1))
    asyncio.run(kafka_produce(spec.dlq, records))
    hidden = [(b"h", b"{}", spring_headers(spec.source, 0, 1, PAYMENT, "x"), None)]
    asyncio.run(kafka_produce(spec.hidden, hidden))
    try:
        yield spec
    finally:
        asyncio.run(cleanup([spec.source, spec.dlq, spec.hidden], []))
        asyncio.run(forget_ledger(spec.dlq, spec.hidden))


def test_inspect_reads_spring_connect_and_application_metadata(kdlq: KafkaDlq) -> None:
    result = run_cli("dlq", "inspect", f"kafka:{kdlq.dlq}", "-g", "exception", "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["formats"] == {"spring": 6, "connect": 4, "application": 2}
    counts = {g["key"]: g["count"] for g in report["groups"]}
    assert counts == {PAYMENT: 6, DATA: 4, "(unknown)": 2}
    by_source = inspect_groups(kdlq.dlq, "source")
    # Spring's binary big-endian partition numbers are decoded.
    assert by_source == {
        f"{kdlq.source}[0]": 2,
        f"{kdlq.source}[1]": 6,
        f"{kdlq.source}[2]": 2,
        "(unknown)": 2,
    }
    assert inspect_groups(kdlq.dlq, "reason") == {"card declined": 6, "bad json": 4, "timeout": 2}


def inspect_groups(name: str, by: str) -> dict[str, int]:
    result = run_cli("dlq", "inspect", f"kafka:{name}", "-g", by, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {g["key"]: g["count"] for g in json.loads(result.stdout)["groups"]}


def test_list_finds_by_name_and_by_headers(kdlq: KafkaDlq) -> None:
    result = run_cli("dlq", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout) if r["backend"] == "kafka"}
    assert rows[kdlq.dlq]["detected_by"] == ["name", "headers"]
    assert rows[kdlq.dlq]["depth"] == 12 and rows[kdlq.dlq]["sources"] == [kdlq.source]
    assert rows[kdlq.dlq]["oldest_age_seconds"] is not None
    assert rows[kdlq.hidden]["detected_by"] == ["headers"]
    assert kdlq.source not in rows


def test_dry_run_changes_nothing(kdlq: KafkaDlq) -> None:
    result = run_cli("dlq", "redrive", f"kafka:{kdlq.dlq}", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["moved"] == 12 and plan["by_destination"] == {kdlq.source: 12}
    assert asyncio.run(kafka_read(kdlq.source)) == []
    assert asyncio.run(ledger_entries(kdlq.dlq)) == []  # the plan writes nothing


def test_redrive_keeps_partition_headers_and_commits(kdlq: KafkaDlq) -> None:
    audit_log = Path(os.environ["MQCTL_AUDIT_LOG"])
    result = run_cli(
        "dlq",
        "redrive",
        f"kafka:{kdlq.dlq}",
        "--reset-header",
        "retryCount=0",
        "--yes",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 12 and summary["failed"] == 0
    records = asyncio.run(kafka_read(kdlq.source))
    assert len(records) == 12
    by_key = {r.key.decode(): r for r in records}
    for n in range(6):  # Spring: back to the recorded partition
        assert by_key[f"k{n}"].partition == n % 3
    for n in range(6, 10):
        assert by_key[f"k{n}"].partition == 1
    headers = dict(by_key["k0"].headers)
    assert headers["x-mqctl-redrive-count"] == b"1"
    # The dead-letter headers moved under x-mqctl-redriven-*: the copy is no DLQ record.
    assert "kafka_dlt-original-topic" not in headers
    assert headers["x-mqctl-redriven-kafka_dlt-original-topic"] == kdlq.source.encode()
    assert headers["x-mqctl-redriven-from"] == kdlq.dlq.encode()
    assert dict(by_key["k10"].headers)["retryCount"] == b"0"
    assert (
        by_key["k10"].value
        == json.dumps({"payload": {"n": 10}, "error": "timeout", "retryCount": 2}).encode()
    )
    # Per-key order within a DLQ partition is kept.
    part1 = [r.key.decode() for r in records if r.partition == 1]
    assert part1.index("k6") < part1.index("k7") < part1.index("k8") < part1.index("k9")
    # The ledger knows every record moved: a rerun moves nothing and says why.
    again = json.loads(run_cli("dlq", "redrive", f"kafka:{kdlq.dlq}", "--yes", "-o", "json").stdout)
    assert again["moved"] == 0 and again["already_redriven"] == 12 and again["planned"] == 0
    audit = [json.loads(x) for x in audit_log.read_text().splitlines()]
    assert audit[0]["target"] == f"kafka:topic/{kdlq.dlq}" and audit[0]["counts"]["moved"] == 12
    assert audit[0]["action"] == "dlq redrive" and audit[0]["outcome"] == "ok"


def test_filters_limit_and_to(kdlq: KafkaDlq, unique: str) -> None:
    result = run_cli(
        "dlq",
        "redrive",
        f"kafka:{kdlq.dlq}",
        "--filter",
        "exception=Payment",
        "--filter",
        "header:kafka_dlt-original-consumer-group=billing-service",
        "--limit",
        "2",
        "--to",
        kdlq.source,
        "--yes",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 2 and "--limit 2" in summary["stopped_early"]
    moved = asyncio.run(kafka_read(kdlq.source))
    assert sorted(r.key for r in moved) == [b"k0", b"k1"]  # the first two matching


def test_key_and_body_filters(kdlq: KafkaDlq) -> None:
    result = run_cli(
        "dlq",
        "redrive",
        f"kafka:{kdlq.dlq}",
        "--filter",
        "key=k7",
        "--filter",
        "key=k8",
        "--filter",
        "body~^\\{not",
        "--dry-run",
        "-o",
        "json",
    )
    assert json.loads(result.stdout)["moved"] == 2


def test_loop_guard(kdlq: KafkaDlq) -> None:
    guarded = [(b"g", b"{}", [("x-mqctl-redrive-count", b"3")], 0)]
    asyncio.run(kafka_produce(kdlq.dlq, guarded))
    result = run_cli("dlq", "redrive", f"kafka:{kdlq.dlq}", "--yes", "-o", "json")
    summary = json.loads(result.stdout)
    assert summary["moved"] == 12 and summary["skipped"] == {"loop-guard": 1}


def test_missing_destination_topic_fails_plan_and_run_alike(kdlq: KafkaDlq, unique: str) -> None:
    missing = f"dlqt-{unique}-nowhere"
    for mode in ("--dry-run", "--yes"):
        result = run_cli("dlq", "redrive", f"kafka:{kdlq.dlq}", "--to", missing, mode)
        assert result.exit_code == 4, result.output
        assert missing in result.stderr and "Traceback" not in result.output
    # Nothing was produced, so the topic was not auto-created either.
    assert run_cli("topics", "describe", missing).exit_code == 4
    assert asyncio.run(kafka_read(kdlq.source)) == []


def test_bad_input_is_exit_2(kdlq: KafkaDlq) -> None:
    for args in (
        ("dlq", "inspect", f"kafka:{kdlq.dlq}", "-g", "colour"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--filter", "colour=red", "--dry-run"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--filter", "nonsense", "--dry-run"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--filter", "body~(", "--dry-run"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--filter", "since=yesterday", "--dry-run"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--reset-header", "retryCount", "--yes"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--rate", "fast", "--yes"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}", "--to", " ", "--yes"),
        ("dlq", "redrive", f"kafka:{kdlq.dlq}"),  # not interactive, no --yes
    ):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert asyncio.run(kafka_read(kdlq.source)) == []


def test_read_only_context_refuses(isolated_config: Path, kdlq: KafkaDlq) -> None:
    isolated_config.write_text(
        "[contexts.ro]\nread-only = true\n"
        '[contexts.ro.kafka]\nbootstrap-servers = "127.0.0.1:9092"\n'
    )
    for mode in ("--yes", "--dry-run"):  # the plan refuses exactly as the run does
        result = run_cli("-c", "ro", "dlq", "redrive", f"kafka:{kdlq.dlq}", mode)
        assert result.exit_code == 2 and "read-only" in result.stderr


def test_kafka_unreachable_is_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'[contexts.down.kafka]\nbootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    for args in (("dlq", "list"), ("dlq", "redrive", "kafka:x.dlq", "--yes")):
        result = run_cli("-c", "down", "--timeout", "2", *args)
        assert result.exit_code == 3, (args, result.output)
        assert "Traceback" not in result.output


def test_spring_and_connect_numbers_are_decoded(kdlq: KafkaDlq) -> None:
    """Binary big-endian Spring offsets/partitions and Connect text numbers come out as
    numbers in JSON, in the table and in --group-by header:NAME."""
    args = ("dlq", "inspect", f"kafka:{kdlq.dlq}", "-g", "exception", "--samples", "10")
    report = json.loads(run_cli(*args, "-o", "json").stdout)
    samples = {s["key"]: s for g in report["groups"] for s in g["samples"]}
    spring = samples["k3"]
    assert spring["source_partition"] == 0 and spring["source_offset"] == 103
    assert spring["metadata"]["kafka_dlt-original-offset"] == 103
    assert spring["metadata"]["kafka_dlt-original-partition"] == 0
    assert spring["metadata"]["kafka_dlt-original-timestamp"] == 1_718_100_000_000
    connect = samples["k7"]
    assert connect["source_offset"] == 207
    assert connect["metadata"]["__connect.errors.offset"] == 207
    by_offset = inspect_groups(kdlq.dlq, "header:kafka_dlt-original-offset")
    assert by_offset == {**{str(100 + n): 1 for n in range(6)}, "(unknown)": 6}
    table = run_cli(*args).stdout
    assert "SOURCE OFFSET" in table and "103" in table
