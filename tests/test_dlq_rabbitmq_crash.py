"""Zero loss under crashes: kill -9 of a RabbitMQ redrive subprocess at a random point,
Ctrl-C, and the broker closing the connection mid-redrive; then a rerun finishes the job.

The DLQ is filled by real broker dead-lettering: messages published to a queue with
``x-message-ttl: 0`` and no consumer expire at once into the DLX.
"""

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_dlq_support import (  # noqa: F401  (_audit_log is an autouse fixture)
    RabbitDlq,
    _audit_log,
    _connect,
    amqp_message,
    depth,
    drain,
    publish_to_queue,
    rabbit_cleanup,
    rabbit_setup,
    wait_depth,
)

pytestmark = pytest.mark.rabbitmq
MQCTL = str(Path(sys.executable).parent / "mqctl")
WINDOW = 1000  # the redrive's in-flight window: the most duplicates a crash can cause


@pytest.fixture
def crash(unique: str) -> Iterator[tuple[RabbitDlq, str]]:
    spec = asyncio.run(rabbit_setup(f"dlqt-{unique}", quorum=False))
    expiring = f"{spec.prefix}.ttl0"

    async def declare() -> None:
        connection = await _connect()
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(
                expiring,
                durable=True,
                arguments={
                    "x-dead-letter-exchange": spec.dlx,
                    "x-dead-letter-routing-key": "dead",
                    "x-message-ttl": 0,
                },
            )

    asyncio.run(declare())
    try:
        yield spec, expiring
    finally:
        asyncio.run(rabbit_cleanup(spec, [expiring]))


def fill(spec: RabbitDlq, expiring: str, count: int) -> set[str]:
    asyncio.run(publish_to_queue(expiring, (amqp_message(n) for n in range(count))))
    assert asyncio.run(wait_depth(spec.dlq, count, 30)) == count
    return {f"m-{n:05d}" for n in range(count)}


def start(
    spec: RabbitDlq, tmp_path: Path, *extra: str, rate: str | None = None
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        # the test's own config when it wrote one, else none: the built-in local context
        "MQCTL_CONFIG": str(config) if (config := tmp_path / "none.toml").exists() else os.devnull,
        "MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "NO_COLOR": "1",
    }
    env.pop("MQCTL_CONTEXT", None)
    args = [MQCTL, *extra, "dlq", "redrive", f"rabbitmq:{spec.dlq}", "--to", spec.target]
    return subprocess.Popen(
        [*args, *(["--rate", rate] if rate else []), "--yes", "-o", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_moved(spec: RabbitDlq, process: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if asyncio.run(depth(spec.target)) >= at_least:
            return
        time.sleep(0.05)


def finish_and_check(spec: RabbitDlq, ids: set[str]) -> None:
    """Rerun to completion; every id must be in the target, the DLQ empty."""
    result = run_cli("dlq", "redrive", f"rabbitmq:{spec.dlq}", "--to", spec.target, "--yes")
    assert result.exit_code == 0, result.output
    assert asyncio.run(depth(spec.dlq)) == 0
    moved = Counter(m.message_id for m in asyncio.run(drain(spec.target)))
    assert set(moved) == ids, f"lost: {sorted(ids - set(moved))[:10]}"
    assert sum(moved.values()) - len(ids) <= WINDOW  # duplicates bounded by the window


def test_kill_9_mid_redrive_loses_nothing(crash: tuple[RabbitDlq, str], tmp_path: Path) -> None:
    spec, expiring = crash
    ids = fill(spec, expiring, 10_000)
    process = start(spec, tmp_path, "--timeout", "10")
    kill_at = random.randint(500, 8_000)
    wait_moved(spec, process, kill_at)
    assert process.poll() is None, "the redrive finished before the kill point"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    # The broker requeues what the dead process had unacked: every message is in one of the
    # two queues (at least once: a confirmed-but-unacked one may be in both).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        both = asyncio.run(depth(spec.dlq)) + asyncio.run(depth(spec.target))
        if both >= len(ids):
            break
        time.sleep(0.1)
    assert both >= len(ids)
    finish_and_check(spec, ids)


def test_ctrl_c_stops_cleanly_and_reports(crash: tuple[RabbitDlq, str], tmp_path: Path) -> None:
    spec, expiring = crash
    ids = fill(spec, expiring, 2_000)
    process = start(spec, tmp_path, rate="1000")
    wait_moved(spec, process, 300)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    summary = json.loads(out)
    assert summary["interrupted"] is True and 0 < summary["moved"] < len(ids)
    # Stopped after the in-flight confirms: nothing duplicated, nothing lost.
    assert asyncio.run(depth(spec.target)) == summary["moved"]
    assert asyncio.run(depth(spec.dlq)) == len(ids) - summary["moved"]
    audit = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["outcome"] == "interrupted"
    finish_and_check(spec, ids)


async def _close_redrive_connections(context: str) -> int:
    import httpx

    closed = 0
    async with httpx.AsyncClient(
        base_url="http://127.0.0.1:15672", auth=("guest", "guest")
    ) as http:
        for _ in range(100):
            connections: list[dict[str, Any]] = (await http.get("/api/connections")).json()
            for c in connections:
                name = (c.get("client_properties") or {}).get("connection_name", "")
                if context in name and "redrive" in name:
                    await http.delete(f"/api/connections/{c['name']}")
                    closed += 1
            if closed:
                return closed
            await asyncio.sleep(0.1)
    return closed


def test_connection_lost_mid_redrive_is_exit_3_and_loses_nothing(
    crash: tuple[RabbitDlq, str], tmp_path: Path, unique: str
) -> None:
    """What a broker restart looks like to mqctl: the server closes the connection."""
    spec, expiring = crash
    ids = fill(spec, expiring, 3_000)
    context = f"dlqt-ctx-{unique}"
    (tmp_path / "none.toml").write_text(
        f'[contexts.{context}.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\npassword = "guest"\n'
    )
    process = start(spec, tmp_path, "-c", context, "--timeout", "5", rate="300")
    wait_moved(spec, process, 200)
    assert asyncio.run(_close_redrive_connections(context)) >= 1
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert "lost the connection to RabbitMQ" in err and "rerun" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if asyncio.run(depth(spec.dlq)) + asyncio.run(depth(spec.target)) >= len(ids):
            break
        time.sleep(0.1)
    finish_and_check(spec, ids)
