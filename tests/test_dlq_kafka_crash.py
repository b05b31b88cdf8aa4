"""Zero loss on Kafka: kill -9 of a redrive subprocess at a random point, then a rerun."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    KAFKA,
    _audit_log,  # noqa: F401  (an autouse fixture)
    forget_ledger,
    kafka_produce,
    kafka_read,
)

pytestmark = pytest.mark.kafka
MQCTL = str(Path(sys.executable).parent / "mqctl")
COUNT = 10_000


async def end_total(topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(topic, p) for p in metadata.partitions_for_topic(topic) or ()]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


def test_kill_9_mid_redrive_loses_nothing(unique: str, tmp_path: Path) -> None:
    source, dlq = f"dlqt-{unique}", f"dlqt-{unique}.dlq"
    asyncio.run(create_topics({source: 3, dlq: 3}))
    try:
        records = [
            (f"k{n % 50}".encode(), json.dumps({"id": n, "error": "boom"}).encode(), [], None)
            for n in range(COUNT)
        ]
        asyncio.run(kafka_produce(dlq, records))
        env = {
            **os.environ,
            "MQCTL_CONFIG": os.devnull,  # no config: the built-in local context
            "MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        }
        process = subprocess.Popen(
            [MQCTL, "dlq", "redrive", f"kafka:{dlq}", "--rate", "4000", "--yes", "-o", "json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        kill_at = random.randint(500, 7_000)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if asyncio.run(end_total(source)) >= kill_at:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the redrive finished before the kill point"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        result = run_cli("dlq", "redrive", f"kafka:{dlq}", "--yes", "-o", "json")
        assert result.exit_code == 0, result.output
        moved = Counter(json.loads(r.value)["id"] for r in asyncio.run(kafka_read(source)))
        assert set(moved) == set(range(COUNT)), "messages were lost"
        # Duplicates only for copies acknowledged but not yet in the ledger (the window).
        assert sum(moved.values()) - COUNT <= 1_000
        # The ledger says everything is done: a third run moves nothing, skips nothing.
        again = json.loads(run_cli("dlq", "redrive", f"kafka:{dlq}", "--yes", "-o", "json").stdout)
        assert again["moved"] == 0 and again["already_redriven"] == COUNT
    finally:
        asyncio.run(cleanup([source, dlq], []))
        asyncio.run(forget_ledger(dlq))
