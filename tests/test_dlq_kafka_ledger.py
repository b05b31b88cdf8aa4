"""The Kafka redrive ledger on the real broker: filtered redrives never skip a record, the
dry run's "to move" is the next run's "moved", two concurrent redrives never move a record
twice, tombstones stay tombstones, --unwrap republishes the envelope's payload."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    _audit_log,  # noqa: F401  (an autouse fixture)
    forget_ledger,
    kafka_produce,
    kafka_read,
    ledger_entries,
)

pytestmark = pytest.mark.kafka
REASONS = ("payment declined", "inventory service timeout", "address invalid")
MQCTL = str(Path(sys.executable).parent / "mqctl")
_names = itertools.count()


def seed(dlq: str, count: int, partitions: int) -> None:
    """``count`` application envelopes, reasons interleaved, spread over the partitions."""
    records = [
        (
            f"k{n}".encode(),
            json.dumps({"payload": {"id": n}, "error": REASONS[n % 3], "retryCount": 1}).encode(),
            [],
            n % partitions,
        )
        for n in range(count)
    ]
    asyncio.run(kafka_produce(dlq, records))


def ids(topic: str) -> Counter[int]:
    return Counter(json.loads(r.value)["payload"]["id"] for r in asyncio.run(kafka_read(topic)))


def redrive(dlq: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli("dlq", "redrive", f"kafka:{dlq}", *args, "-o", "json")
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


@pytest.fixture
def pair(unique: str) -> Iterator[tuple[str, str]]:
    source, dlq = f"ledger-{unique}", f"ledger-{unique}.dlq"
    asyncio.run(create_topics({source: 2, dlq: 3}))
    try:
        yield source, dlq
    finally:
        asyncio.run(cleanup([source, dlq], []))
        asyncio.run(forget_ledger(dlq))


def test_filtered_redrives_never_skip_records(pair: tuple[str, str]) -> None:
    """The issue's scenario: reason A, then reason B, then everything."""
    source, dlq = pair
    seed(dlq, 30, 3)
    code, first = redrive(dlq, "--filter", f"reason={REASONS[0]}", "--yes")
    assert code == 0 and first["moved"] == 10
    status = json.loads(run_cli("dlq", "status", f"kafka:{dlq}", "-o", "json").stdout)
    assert (status["depth"], status["redriven"], status["not_redriven"]) == (30, 10, 20)
    assert status["last_redrive_by"] and len(status["runs"]) == 1 and status["running"] is None
    code, plan = redrive(dlq, "--filter", f"reason={REASONS[1]}", "--dry-run")
    assert code == 0 and plan["moved"] == 10
    rows = {r["reason"]: r for r in plan["rows"]}
    assert rows[REASONS[1]]["matched"] == 10 and rows[REASONS[1]]["to_move"] == 10
    code, second = redrive(dlq, "--filter", f"reason={REASONS[1]}", "--yes")
    assert code == 0 and second["moved"] == plan["moved"] and second["planned"] == 10
    code, plan = redrive(dlq, "--dry-run")
    assert plan["moved"] == 10 and plan["already_redriven"] == 20
    rows = {r["reason"]: r for r in plan["rows"]}
    assert rows[REASONS[0]]["already_redriven"] == 10 and rows[REASONS[2]]["to_move"] == 10
    code, rest = redrive(dlq, "--yes")
    assert code == 0 and rest["moved"] == 10 and rest["plan_differs"] is None
    assert ids(source) == Counter(range(30))  # every record exactly once
    moved = [e for e in asyncio.run(ledger_entries(dlq)) if e[1] and e[1]["type"] == "moved"]
    assert sum(end - start for _, v, _ in moved for start, end, _ in v["ranges"]) == 30
    result = run_cli("dlq", "status", f"kafka:{dlq}")
    assert result.exit_code == 0 and "not redriven 0" in result.stdout
    status = json.loads(run_cli("dlq", "status", f"kafka:{dlq}", "-o", "json").stdout)
    assert status["redriven"] == 30 and len(status["runs"]) == 3
    audit = status["audit"]
    assert [a["moved"] for a in audit] == [10, 10, 10] and audit[2]["filters"]["reason"]


FILTERS = st.sampled_from([None, *REASONS])
STEPS = st.lists(st.tuples(FILTERS, st.sampled_from([None, 1, 4])), min_size=1, max_size=4)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_sequences_move_every_record_exactly_once(unique: str, steps: list) -> None:  # type: ignore[type-arg]
    source, dlq = f"seq-{unique}-{next(_names)}", ""
    dlq = f"{source}.dlq"
    asyncio.run(create_topics({source: 1, dlq: 2}))
    try:
        seed(dlq, 12, 2)
        for reason, limit in [*steps, (None, None)]:  # the last run takes the rest
            args = ["--filter", f"reason={reason}"] if reason else []
            args += ["--limit", str(limit)] if limit else []
            code, plan = redrive(dlq, *args, "--dry-run")
            assert code == 0
            code, run = redrive(dlq, *args, "--yes")
            assert code == 0, run
            assert run["moved"] == plan["moved"] == run["planned"]
            assert run["plan_differs"] is None
        assert ids(source) == Counter(range(12))
    finally:
        asyncio.run(cleanup([source, dlq], []))
        asyncio.run(forget_ledger(dlq))


def test_two_concurrent_redrives_never_move_a_record_twice(
    pair: tuple[str, str], tmp_path: Path
) -> None:
    source, dlq = pair
    seed(dlq, 600, 3)
    env = {
        **os.environ,
        "MQCTL_CONFIG": os.devnull,
        "MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
    }
    command = [MQCTL, "dlq", "redrive", f"kafka:{dlq}", "--rate", "400", "--yes", "-o", "json"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    codes = sorted(p.returncode for p in processes)
    # One of them holds the lease; the other refuses (exit 3, nothing moved) or, when it
    # started after the first finished, finds nothing left.
    assert codes in ([0, 0], [0, 3]), outputs
    if codes == [0, 3]:
        refused = next(o for p, o in zip(processes, outputs, strict=True) if p.returncode == 3)
        assert b"another redrive" in refused[1]
    assert ids(source) == Counter(range(600))


def test_stale_lease_of_a_dead_process_is_taken_over(pair: tuple[str, str], tmp_path: Path) -> None:
    """kill -9 leaves an active lease; its process is gone, so the next run proceeds."""
    source, dlq = pair
    seed(dlq, 3000, 3)
    env = {**os.environ, "MQCTL_CONFIG": os.devnull}
    process = subprocess.Popen(
        [MQCTL, "dlq", "redrive", f"kafka:{dlq}", "--rate", "1000", "--yes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(ids(source).values()) < 200:
            time.sleep(0.1)
    finally:
        process.kill()  # SIGKILL: no release of the lease
        process.wait(10)
    code, rest = redrive(dlq, "--yes")
    assert code == 0, rest
    moved = ids(source)
    assert set(moved) == set(range(3000))  # nothing missing
    assert sum(moved.values()) - 3000 <= 1000  # duplicates only within the in-flight window
    code, again = redrive(dlq, "--yes")
    assert again["moved"] == 0 and again["already_redriven"] == 3000  # the ledger is whole


def test_tombstones_and_null_keys_stay_null(pair: tuple[str, str]) -> None:
    source, dlq = pair
    asyncio.run(kafka_produce(dlq, [(b"gone", None, [], 0), (None, b"v", [], 0)]))  # type: ignore[list-item]
    code, summary = redrive(dlq, "--to", source, "--yes")
    assert code == 0 and summary["moved"] == 2
    records = {(r.key, r.value) for r in asyncio.run(kafka_read(source))}
    assert records == {(b"gone", None), (None, b"v")}


def test_unwrap_republishes_the_payload(pair: tuple[str, str]) -> None:
    source, dlq = pair
    bodies = [
        {"payload": {"id": 1, "é": "x"}, "error": "boom", "failedAt": "2024-06-11T10:00:00Z"},
        {"payload": "plain text", "error": "boom"},
        {"payload": {"base64": "AAEC/w=="}, "error": "binary"},
        {"nothing": 1, "error": "no payload"},
    ]
    records = [(b"k", json.dumps(b).encode(), [], 0) for b in bodies]
    asyncio.run(kafka_produce(dlq, records))
    code, plan = redrive(dlq, "--unwrap", "payload", "--dry-run")
    assert code == 0 and plan["unwrap"] == "payload" and plan["moved"] == 3
    assert plan["skipped"] == {"no-envelope-field": 1}
    assert '{"id":1,"é":"x"}' in plan["samples"][0]["preview"]
    code, run = redrive(dlq, "--unwrap", "payload", "--yes")
    assert code == 0 and run["moved"] == 3
    copies = sorted(asyncio.run(kafka_read(source)), key=lambda r: r.timestamp)
    values = {r.value for r in copies}
    assert values == {'{"id":1,"é":"x"}'.encode(), b"plain text", b"\x00\x01\x02\xff"}
    headers = dict(next(r for r in copies if r.value == b"plain text").headers)
    assert headers["x-mqctl-envelope-error"] == b"boom"
    first = dict(next(r for r in copies if r.value.startswith(b"{")).headers)
    assert first["x-mqctl-envelope-failedAt"] == b"2024-06-11T10:00:00Z"


def test_ctrl_c_ledgers_what_moved_and_the_rerun_finishes(
    pair: tuple[str, str], tmp_path: Path
) -> None:
    """SIGINT stops after the in-flight copies, ledgers them and releases the lease: the
    rerun moves the rest and no record twice."""
    source, dlq = pair
    seed(dlq, 2000, 3)
    env = {**os.environ, "MQCTL_CONFIG": os.devnull}
    process = subprocess.Popen(
        [MQCTL, "dlq", "redrive", f"kafka:{dlq}", "--rate", "500", "--yes", "-o", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(ids(source).values()) < 100:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    first = json.loads(out)
    assert first["interrupted"] is True and 0 < first["moved"] < 2000
    code, rest = redrive(dlq, "--yes")  # no lease left behind: it runs at once
    assert code == 0, rest
    assert rest["already_redriven"] == first["moved"]
    assert ids(source) == Counter(range(2000))  # every record exactly once


async def _delete_records_before(topic: str, partition: int, offset: int) -> None:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    from tests.conftest import KAFKA

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, partition): RecordsToDelete(offset)})
    finally:
        await admin.close()


def test_retention_and_a_recreated_topic(pair: tuple[str, str]) -> None:
    """Ledger records of DLQ records deleted by retention are tombstoned; a DLQ deleted and
    created again under the same name is not taken for the old one."""
    _, dlq = pair
    seed(dlq, 6, 1)  # all on partition 0
    code, first = redrive(dlq, "--filter", f"reason={REASONS[0]}", "--yes")  # ids 0 and 3
    assert code == 0 and first["moved"] == 2
    asyncio.run(_delete_records_before(dlq, 0, 4))  # retention: offsets 0-3 are gone
    code, second = redrive(dlq, "--yes")
    assert code == 0 and second["moved"] == 2 and second["examined"] == 2  # ids 4 and 5
    entries = asyncio.run(ledger_entries(dlq))
    tombstoned = {key for key, value, _ in entries if value is None}
    first_run = {
        key for key, value, _ in entries if value and value.get("run") and key in tombstoned
    }
    assert tombstoned and first_run == tombstoned  # only the first run's record, now gone
    asyncio.run(cleanup([dlq], []))
    asyncio.run(create_topics({dlq: 1}))
    seed(dlq, 3, 1)
    code, plan = redrive(dlq, "--dry-run")
    assert code == 0 and plan["moved"] == 3 and plan["already_redriven"] == 0
