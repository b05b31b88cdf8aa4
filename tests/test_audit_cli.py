"""The audit log through the CLI, on the real brokers: every write path gives exactly one
record, written by the service after the outcome is known, with the real outcome and counts
and never a message value (issue 16)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, answer_on_a_terminal, mgmt_publish, run_cli
from tests.kafka_helpers import commit, committed, end_offsets, produce, scratch_topic

SECRET = "s3cr3t-payload"  # a message value: must never reach the audit log


def records() -> list[dict[str, Any]]:
    from mqctl import audit

    return audit.read()


def only_record(**expected: Any) -> dict[str, Any]:
    """The one record written since the log was last cleared, checked against ``expected``;
    then the log is cleared for the next step."""
    found = records()
    assert len(found) == 1, found
    record = found[0]
    for key, value in expected.items():
        assert record[key] == value, (key, record)
    assert SECRET not in json.dumps(record)
    Path(os.environ["MQCTL_AUDIT_LOG"]).unlink()
    return record


def no_record() -> None:
    assert records() == []


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as c:
        yield c


@pytest.fixture
def topic(unique: str) -> Iterator[str]:
    name = f"audit.{unique}"
    with scratch_topic(name, 1):
        yield name


@pytest.fixture
def queue(http: httpx.Client, unique: str) -> Iterator[str]:
    name = f"mqctl-test-audit-{unique}"
    http.put(f"/queues/%2F/{name}", json={"durable": True}).raise_for_status()
    yield name
    http.delete(f"/queues/%2F/{name}")


def ready(http: httpx.Client, queue: str, expected: int) -> int:
    """The queue's message count once the management API reports ``expected`` (bounded
    polling: its figures lag the broker by up to a stats interval), else the last figure."""
    import time

    deadline = time.monotonic() + 15
    count = -1
    while time.monotonic() < deadline:
        count = int(http.get(f"/queues/%2F/{queue}").json().get("messages", -1))
        if count == expected:
            break
        time.sleep(0.2)
    return count


def test_publish_ok_counts_and_no_values(topic: str) -> None:
    result = run_cli(
        "publish", topic, SECRET, "--count", "3", "-k", SECRET, "-H", f"h={SECRET}",
        "--header=x=" + SECRET,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = only_record(
        action="publish",
        target=f"kafka:topic/{topic}",
        outcome="ok",
        counts={"published": 3, "failed": 0},
        context="local",
    )
    assert record["command"].startswith(f"mqctl publish {topic} <value> --count 3 -k <value>")


def test_publish_partial_and_failed_are_not_ok(topic: str, tmp_path: Path) -> None:
    lines = tmp_path / "m.jsonl"
    lines.write_text(
        json.dumps({"value": SECRET, "partition": 0})
        + "\n"
        + json.dumps({"value": SECRET, "partition": 99})
        + "\n"
    )
    partial = run_cli("publish", topic, "--jsonl", str(lines))
    assert partial.exit_code == 5, partial.output
    record = only_record(outcome="partial", counts={"published": 1, "failed": 1})
    assert "partition 99" in record["details"]["first_error"]

    failed = run_cli("publish", topic, SECRET, "--partition", "99")  # refused up front
    assert failed.exit_code == 4, failed.output
    record = only_record(outcome="failed", counts={"published": 0, "failed": 0})
    assert "no partition 99" in record["details"]["error"]

    missing = run_cli("publish", f"{topic}.missing", SECRET)
    assert missing.exit_code == 4, missing.output
    only_record(outcome="failed", action="publish")


def test_unroutable_mandatory_publish_is_failed(unique: str) -> None:
    result = run_cli(
        "publish", "--exchange", "amq.direct", "--routing-key", f"nowhere-{unique}",
        "--mandatory", SECRET,
    )  # fmt: skip
    assert result.exit_code == 5, result.output
    only_record(
        action="publish",
        target="rabbitmq:exchange/amq.direct",
        outcome="failed",
        counts={"published": 0, "failed": 1},
    )


def test_read_only_context_refuses_and_records(isolated_config: Path, topic: str) -> None:
    isolated_config.write_text(
        "[contexts.ro]\nread-only = true\n[contexts.ro.kafka]\n"
        'bootstrap-servers = "127.0.0.1:9092"\n'
    )
    result = run_cli("-c", "ro", "publish", topic, SECRET)
    assert result.exit_code == 2 and "read-only" in result.stderr
    only_record(action="publish", outcome="refused", context="ro")
    result = run_cli("-c", "ro", "topics", "delete", topic, "--yes")
    assert result.exit_code == 2
    only_record(action="topic delete", outcome="refused", target=topic)
    result = run_cli("-c", "ro", "dlq", "redrive", f"{topic}.dlq", "--yes")
    assert result.exit_code == 2, result.output
    only_record(action="dlq redrive", outcome="refused", target=f"{topic}.dlq")


def test_protected_context_wrong_name_or_eof_is_declined(isolated_config: Path, topic: str) -> None:
    isolated_config.write_text(
        "[contexts.prod]\nprotected = true\n[contexts.prod.kafka]\n"
        'bootstrap-servers = "127.0.0.1:9092"\n'
    )
    wrong = answer_on_a_terminal(["-c", "prod", "publish", topic, SECRET], "nope\n")
    assert wrong.returncode == 6, wrong
    only_record(action="publish", outcome="declined", context="prod")
    eof = answer_on_a_terminal(["-c", "prod", "topics", "delete", topic], "\x04")
    assert eof.returncode == 6, eof
    only_record(action="topic delete", outcome="declined", context="prod")


def test_queue_purge_refused_declined_ok(http: httpx.Client, queue: str) -> None:
    for i in range(3):
        mgmt_publish(http, queue, f"{SECRET}-{i}")
    assert ready(http, queue, 3) == 3

    refused = run_cli("queues", "purge", queue)  # no terminal, no --yes
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    only_record(action="queue purge", outcome="refused", target=f"rabbitmq:queue/{queue}")
    assert ready(http, queue, 3) == 3

    declined = answer_on_a_terminal(["queues", "purge", queue], "n\n")
    assert declined.returncode == 6, declined
    only_record(action="queue purge", outcome="declined", counts={})
    assert ready(http, queue, 3) == 3  # nothing was purged

    purged = run_cli("queues", "purge", queue, "--yes", "-o", "json")
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout)["messages"] == 3
    only_record(action="queue purge", outcome="ok", counts={"purged": 3})
    assert ready(http, queue, 0) == 0


def test_queue_create_and_delete(http: httpx.Client, unique: str) -> None:
    name = f"mqctl-test-audit-cd-{unique}"
    try:
        assert run_cli("queues", "create", name).exit_code == 0
        only_record(action="queue create", outcome="ok", counts={"created": 1})
        mgmt_publish(http, name, SECRET)
        assert ready(http, name, 1) == 1
        deleted = run_cli("queues", "delete", name, "--yes")
        assert deleted.exit_code == 0, deleted.output
        only_record(
            action="queue delete",
            outcome="ok",
            target=f"rabbitmq:queue/{name}",
            counts={"messages": 1},
        )
        gone = run_cli("queues", "delete", name, "--yes")
        assert gone.exit_code == 4
        only_record(action="queue delete", outcome="failed")
    finally:
        http.delete(f"/queues/%2F/{name}")


def test_topic_create_alter_delete(unique: str) -> None:
    name = f"audit.admin.{unique}"
    try:
        assert run_cli("topics", "create", name, "--partitions", "1").exit_code == 0
        only_record(action="topic create", outcome="ok", target=f"kafka:topic/{name}")
        assert run_cli("topics", "create", name, "--dry-run").exit_code == 2
        no_record()  # a dry run changes nothing: not audited
        altered = run_cli(
            "topics", "alter", name, "--config", "retention.ms=3600000", "--add-partitions", "2"
        )
        assert altered.exit_code == 0, altered.output
        record = only_record(
            action="topic alter", outcome="ok", counts={"configs": 1, "partitions_added": 2}
        )
        assert record["details"]["partitions_after"] == 3
        assert run_cli("topics", "delete", name).exit_code == 2  # nobody to ask
        only_record(action="topic delete", outcome="refused")
        assert run_cli("topics", "delete", name, "--yes").exit_code == 0
        only_record(action="topic delete", outcome="ok", counts={"topics": 1})
    finally:
        run_cli("topics", "delete", name, "--yes")


def test_offsets_reset_executed_and_refused(unique: str) -> None:
    topic, group = f"audit.reset.{unique}", f"audit-group-{unique}"
    with scratch_topic(topic, 1, group):
        asyncio.run(produce(topic, {0: [0] * 5}))
        asyncio.run(commit(group, topic, {0: 4}))
        args = ["offsets", "reset", group, "--topic", topic, "--to-earliest"]
        assert run_cli(*args).exit_code == 0  # the plan alone
        no_record()
        refused = run_cli(*args, "--execute")  # no terminal, no --yes
        assert refused.exit_code == 2, refused.output
        only_record(action="offsets reset", outcome="refused", target=f"kafka:group/{group}")
        assert asyncio.run(committed(group, topic)) == {0: 4}
        done = run_cli(*args, "--execute", "--yes")
        assert done.exit_code == 0, done.output
        record = only_record(action="offsets reset", outcome="ok", counts={"partitions": 1})
        assert record["details"]["mode"] == "earliest"
        assert asyncio.run(committed(group, topic)) == {0: 0}


def test_audit_command_shows_and_filters(topic: str) -> None:
    assert run_cli("publish", topic, SECRET).exit_code == 0
    assert run_cli("topics", "delete", f"{topic}.missing", "--yes").exit_code == 4
    shown = run_cli("audit", "-o", "json", "--outcome", "failed")
    assert shown.exit_code == 0, shown.output
    assert [r["action"] for r in json.loads(shown.stdout)] == ["topic delete"]
    table = run_cli("audit")
    assert table.exit_code == 0 and "publish" in table.stdout
    assert SECRET not in table.stdout


def test_publish_interrupted_by_ctrl_c(topic: str) -> None:
    """SIGINT in the middle of a rate-limited publish: exit 130, one record, interrupted,
    with the messages confirmed so far."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "mqctl", "publish", topic, SECRET, "--count", "100000",
         "--rate", "20/s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while asyncio.run(end_offsets(topic, 1))[0] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    record = only_record(action="publish", outcome="interrupted")
    # confirmed ones are counted; one more may have been written but not yet confirmed
    written = asyncio.run(end_offsets(topic, 1))[0]
    assert 1 <= record["counts"]["published"] <= written, record
    assert record["counts"]["failed"] == 0 and "unconfirmed" in record["details"]
