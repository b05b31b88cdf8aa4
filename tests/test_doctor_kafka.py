"""`mqctl doctor` on the local Kafka, driven by real faults: a group that lost records to
delete-records, a stopped group with a backlog, a DLQ topic growing between the two samples,
a topic nobody consumes. Each test uses its own topics and groups (unique names) and the
doctor's findings are matched by those names, so the shared seeded data does not matter."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, commit, create_topics, kafka_only, produce


def doctor(*args: str) -> tuple[int, list[dict[str, Any]]]:
    """Run the doctor; rerun (at most 3 times) while a check says UNKNOWN: other suites
    create and delete topics on the shared broker, and a topic deleted in the middle of a
    listing makes that run's data partial (UNKNOWN, as it should)."""
    for _ in range(3):
        result = run_cli("doctor", "-o", "json", *args)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        findings = json.loads(result.stdout)
        unknown = [f for f in findings if f["severity"] == "UNKNOWN"]
        if not unknown:
            break
        print(f"UNKNOWN, retrying: {unknown}")  # shown with -s
    return result.exit_code, findings


def mentioning(findings: list[dict[str, Any]], check: str, name: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["check"] == check and any(name in e for e in f["evidence"])]


async def delete_records(topic: str, before: int) -> None:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    from tests.conftest import KAFKA

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before)})
    finally:
        await admin.close()


def test_group_that_lost_records_is_crit(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    topic, group = f"doctor-lost-{unique}", f"doctor-lost-group-{unique}"
    asyncio.run(create_topics({topic: 1}))
    try:
        now = int(time.time() * 1000)
        asyncio.run(produce(topic, {0: [now] * 10}))
        asyncio.run(commit(group, topic, {0: 2}))
        asyncio.run(delete_records(topic, 6))  # records 2..5 were never consumed

        code, findings = doctor("--check", "records-lost", "--interval", "0", "--fail-on", "crit")
        lost = mentioning(findings, "records-lost", group)
        assert lost and lost[0]["severity"] == "CRIT", findings
        assert f"{topic}/0: committed 2, log starts at 6 (4 record(s)" in " ".join(
            lost[0]["evidence"]
        )
        assert lost[0]["action"]
        assert code == 1  # --fail-on crit
    finally:
        asyncio.run(cleanup([topic], [group]))


def test_stopped_group_and_unconsumed_topic(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    topic, idle, group = f"doctor-stop-{unique}", f"doctor-idle-{unique}", f"doctor-g-{unique}"
    asyncio.run(create_topics({topic: 1, idle: 1}))
    try:
        now = int(time.time() * 1000)
        # a backlog larger than other suites' groups on the shared broker (the evidence lists
        # the 20 largest), and nobody consuming
        asyncio.run(produce(topic, {0: [now] * 20_001}))
        asyncio.run(produce(idle, {0: [now] * 3}))
        asyncio.run(commit(group, topic, {0: 1}))

        code, findings = doctor(
            "--check", "groups", "--check", "unconsumed-topics", "--interval", "1"
        )
        stopped = mentioning(findings, "groups", group)
        assert stopped and stopped[0]["severity"] == "CRIT", findings
        assert any(f"{group}: STOP, lag 20000" in e for e in stopped[0]["evidence"])
        unconsumed = mentioning(findings, "unconsumed-topics", idle)
        assert unconsumed and unconsumed[0]["severity"] == "WARN", findings
        assert not mentioning(findings, "unconsumed-topics", topic)  # the group reads it
        assert code == 0  # no --fail-on: findings are reported, the exit code stays 0
        order = [f["severity"] for f in findings]
        rank = {"CRIT": 0, "WARN": 1, "UNKNOWN": 2, "OK": 3}
        assert order == sorted(order, key=rank.__getitem__)
    finally:
        asyncio.run(cleanup([topic, idle], [group]))


def test_dlq_topic_growing_between_samples_is_crit(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    dlq = f"doctor-src-{unique}.dlq"
    asyncio.run(create_topics({dlq: 1}))
    stop = threading.Event()

    def keep_failing() -> None:  # a consumer dead-lettering one message every 0.2 s
        while not stop.is_set():
            asyncio.run(produce(dlq, {0: [int(time.time() * 1000)]}))
            stop.wait(0.2)

    try:
        asyncio.run(produce(dlq, {0: [int(time.time() * 1000)] * 3}))
        quiet_code, quiet = doctor("--check", "dlq", "--interval", "1", "--fail-on", "warn")
        holding = mentioning(quiet, "dlq", dlq)
        assert holding and holding[0]["severity"] == "WARN", json.dumps(quiet)
        assert quiet_code == 1

        writer = threading.Thread(target=keep_failing, daemon=True)
        writer.start()
        try:
            _, findings = doctor("--check", "dlq", "--interval", "2")
        finally:
            stop.set()
            writer.join(timeout=30)
        growing = mentioning(findings, "dlq", dlq)
        assert growing and growing[0]["severity"] == "CRIT", findings
        assert "growing" in growing[0]["summary"]
    finally:
        asyncio.run(cleanup([dlq]))
