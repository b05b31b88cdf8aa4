"""A 3-broker KRaft cluster (scripts/cluster.sh) with one broker killed: topics, lag, peek and
publish keep working or fail clearly (one line, exit 3/5), nothing confirmed is lost, and a
rerun after the broker returns completes.

The cluster is started once per test session (``cluster`` fixture) and stopped at the end if
this session started it. The shared single-node Kafka is never touched.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "cluster.sh"
CLUSTER_DIR = ROOT / ".run" / "cluster"
BOOTSTRAP = "127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094"
VICTIM = 2  # the node that is killed
ATTEMPTS = 40  # bounded retries while the cluster fails over (1 s apart)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="test brokers are Linux-only")


def _script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command], capture_output=True, text=True, check=False, timeout=timeout
    )


def _all_up() -> bool:
    lines = _script("status", 60).stdout.splitlines()
    return len(lines) == 3 and all(line.split()[1] == "up" for line in lines)


@pytest.fixture(scope="session")
def cluster() -> Iterator[str]:
    was_up = _all_up()
    done = _script("up", 400)
    if done.returncode != 0:
        pytest.fail(f"scripts/cluster.sh up failed:\n{done.stdout}\n{done.stderr}")
    yield BOOTSTRAP
    if not was_up:
        _script("down", 200)


def _pid(node: int) -> int:
    return int((CLUSTER_DIR / f"broker-{node}" / "kafka.pid").read_text().strip())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state and "\nState:\tX" not in state


def kill_node(node: int) -> None:
    """SIGKILL one broker (a crash, not a clean shutdown), by the pid in its pid file."""
    pid = _pid(node)
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    assert f"broker-{node}/server.properties".encode() in cmdline  # really our broker
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not _alive(pid):
            return
        time.sleep(0.1)
    pytest.fail(f"broker {node} (pid {pid}) still alive after SIGKILL")


def mq(*args: str) -> CliResult:
    return run_cli("--timeout", "15", "-c", "cl", *args)


def until_ok(
    run: Callable[[], CliResult], allowed: tuple[int, ...] = (3, 5)
) -> tuple[CliResult, list[CliResult]]:
    """Rerun while the cluster fails over; every failure must be a clear one-line error with
    an allowed exit code. Returns the successful result and the failures seen before it."""
    failures: list[CliResult] = []
    for _ in range(ATTEMPTS):
        result = run()
        if result.exit_code == 0:
            return result, failures
        assert result.exit_code in allowed, result.output
        assert "Traceback" not in result.output
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        failures.append(result)
        print(f"during fail-over (exit {result.exit_code}): {errors[0]}")  # shown with -s
        time.sleep(1)
    pytest.fail(f"still failing after {ATTEMPTS} attempts: {failures[-1].output}")


def values_in(topic: str) -> list[str]:
    result, _ = until_ok(lambda: mq("peek", topic, "-n", "0", "-o", "jsonl"))
    return [json.loads(line)["value"] for line in result.stdout.splitlines() if line.strip()]


def publish(topic: str, prefix: str, count: int) -> tuple[set[str], set[str]]:
    """Publish ``prefix-1..count``; returns (confirmed values, values reported failed)."""
    result = mq("publish", topic, f"{prefix}-{{{{seq}}}}", "-t", "-n", str(count), "-o", "jsonl")
    assert result.exit_code in (0, 3, 5), result.output
    assert "Traceback" not in result.output
    confirmed: set[str] = set()
    failed: set[str] = set()
    for line in result.stdout.splitlines():
        row = json.loads(line)
        (confirmed if row["ok"] else failed).add(f"{prefix}-{row['index'] + 1}")
    if result.exit_code == 0:
        assert len(confirmed) == count, result.output
    else:  # a clear error, and every message not confirmed is reported
        assert result.stderr.strip(), result.output
        print(f"publish during fail-over (exit {result.exit_code}): {result.stderr.strip()}")
    return confirmed, failed


def commit_group(topic: str, group: str, partitions: int) -> None:
    """A consumer group with committed offset 0 on every partition (lag = all messages)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    async def main() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(tps)
            await consumer.commit({tp: OffsetAndMetadata(0, "") for tp in tps})
        finally:
            await consumer.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def total_lag(group: str) -> int:
    result, _ = until_ok(lambda: mq("lag", group, "-o", "json"))
    rows = json.loads(result.stdout)
    return sum(int(row["total_lag"]) for row in rows if row["group"] == group)


def test_one_broker_down_and_back(cluster: str, isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(f'[contexts.cl.kafka]\nbootstrap-servers = "{cluster}"\n')
    topic = f"failover-{unique}"
    group = f"failover-group-{unique}"
    created = mq(
        "topics", "create", topic, "--partitions", "6", "-r", "3",
        "--config", "min.insync.replicas=2",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    try:
        before, failed = publish(topic, "before", 60)
        assert len(before) == 60 and not failed
        commit_group(topic, group, 6)
        assert total_lag(group) == 60

        kill_node(VICTIM)

        # --- one broker down: everything keeps working, or fails clearly and then works
        listed, _ = until_ok(lambda: mq("topics", "list"))
        assert topic in listed.stdout
        described, _ = until_ok(lambda: mq("topics", "describe", topic, "-o", "json"))
        doc = json.loads(described.stdout)
        assert doc["replication_factor"] == 3
        assert total_lag(group) == 60
        assert sorted(values_in(topic)) == sorted(before)  # nothing lost
        during: set[str] = set()
        for attempt in range(ATTEMPTS):
            confirmed, failed = publish(topic, f"during{attempt}", 30)
            during |= confirmed
            if not failed:
                break
            time.sleep(1)
        else:
            pytest.fail("publishing with one broker down never fully succeeded")
        seen = values_in(topic)
        assert before | during <= set(seen)  # every confirmed message is there
        assert total_lag(group) == len(seen)

        # --- the broker returns (cluster.sh up starts only what is missing); rerun completes
        done = _script("up", 400)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _alive(_pid(VICTIM))
        after, failed = publish(topic, "after", 20)
        assert len(after) == 20 and not failed
        listed = mq("topics", "list")
        assert listed.exit_code == 0 and topic in listed.stdout, listed.output
        final = values_in(topic)
        assert before | during | after <= set(final)
        assert total_lag(group) == len(final)
        # the restarted broker catches up: all replicas back in sync (bounded wait)
        for _ in range(ATTEMPTS):
            doc = json.loads(mq("topics", "describe", topic, "-o", "json").stdout)
            if all(len(p["isr"]) == 3 for p in doc["partitions"]):
                break
            time.sleep(1)
        else:
            pytest.fail(f"replicas did not return to the ISR: {doc['partitions']}")
    finally:
        if not _alive(_pid(VICTIM)):
            _script("up", 400)
        mq("topics", "delete", topic, "--yes")
