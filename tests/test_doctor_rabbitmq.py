"""`mqctl doctor` on RabbitMQ, driven by real faults: a queue whose consumer is gone while
messages keep arriving, a DLQ growing between the two samples (shared node, own queues), and
a memory alarm on the SEPARATE secure node (watermark lowered, then restored; run under
``flock /tmp/mqctl-fault.lock``: it blocks that node's publishers meanwhile).

The management API refreshes queue counts every 5 s, so growth tests sample 6 s apart while
a publisher keeps going."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, mgmt_publish, run_cli

SECURE_NODE = "mqctl-secure@localhost"
SECURE_MGMT = "http://127.0.0.1:15682"  # the secure node's plain management port (loopback)
STATS_INTERVAL = 6  # > the management API's 5 s statistics interval


def doctor(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("doctor", "-o", "json", *args)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def mentioning(findings: list[dict[str, Any]], check: str, name: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["check"] == check and any(name in e for e in f["evidence"])]


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as c:
        yield c


def depth(api: httpx.Client, queue: str) -> int:
    return int(api.get(f"/queues/%2F/{queue}").json().get("messages") or 0)


def test_queue_without_consumers_and_dlq_growing(
    api: httpx.Client, isolated_config: Path, unique: str
) -> None:
    isolated_config.write_text(
        'current-context = "r"\n[contexts.r.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\n'
    )
    work, dlq = f"doctor-work-{unique}", f"doctor-work-{unique}.dlq"
    for name in (work, dlq):
        api.put(f"/queues/%2F/{name}", json={"durable": False}).raise_for_status()
    stop = threading.Event()

    def traffic() -> None:  # producers go on; the consumer of `work` has stopped
        with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
            while not stop.is_set():
                mgmt_publish(http, work, "order")
                mgmt_publish(http, dlq, "failed order")
                stop.wait(0.2)

    writer = threading.Thread(target=traffic, daemon=True)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while depth(api, work) == 0 or depth(api, dlq) == 0:  # the stats caught up
            assert time.monotonic() < deadline, "queue depths never showed up"
            time.sleep(0.5)
        code, findings = doctor(
            "--check",
            "queues-no-consumers,dlq",
            "--interval",
            str(STATS_INTERVAL),
            "--fail-on",
            "crit",
        )
    finally:
        stop.set()
        writer.join(timeout=30)
        for name in (work, dlq):
            api.delete(f"/queues/%2F/{name}")
    stopped = mentioning(findings, "queues-no-consumers", work)
    assert stopped and stopped[0]["severity"] == "CRIT", findings
    assert "no consumers" in stopped[0]["evidence"][0] and "grew by" in " ".join(
        stopped[0]["evidence"]
    )
    assert not mentioning(findings, "queues-no-consumers", dlq)  # DLQs have their own check
    growing = mentioning(findings, "dlq", dlq)
    assert growing and growing[0]["severity"] == "CRIT", findings
    assert code == 1


def _ctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "-n", SECURE_NODE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _alarm_raised() -> bool:
    docs = httpx.get(
        f"{SECURE_MGMT}/api/nodes", params={"columns": "mem_alarm"}, auth=("guest", "guest")
    ).json()
    return any(d.get("mem_alarm") for d in docs)


def test_memory_alarm_on_the_separate_node(isolated_config: Path) -> None:
    isolated_config.write_text(
        'current-context = "sec"\n[contexts.sec.rabbitmq]\n'
        'url = "amqp://guest@127.0.0.1:5682/"\n'
        f'management-url = "{SECURE_MGMT}"\npassword = "guest"\n'
    )
    before = _ctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    assert before.replace(".", "", 1).isdigit(), before  # a fraction we can restore
    code, findings = doctor("--check", "alarms", "--fail-on", "crit")
    assert code == 0 and findings[0]["severity"] == "OK", findings
    try:
        _ctl("set_vm_memory_high_watermark", "0.0001")
        deadline = time.monotonic() + 60
        while not _alarm_raised():
            assert time.monotonic() < deadline, "the memory alarm never went off"
            time.sleep(0.5)
        code, findings = doctor("--check", "alarms", "--fail-on", "crit")
    finally:
        _ctl("set_vm_memory_high_watermark", before)
        deadline = time.monotonic() + 60
        while _alarm_raised() and time.monotonic() < deadline:
            time.sleep(0.5)
    alarm = [f for f in findings if f["check"] == "alarms"]
    assert alarm[0]["severity"] == "CRIT", findings
    assert f"{SECURE_NODE}: memory alarm" in alarm[0]["evidence"][0]
    assert "publishers are blocked" in alarm[0]["summary"]
    assert code == 1
    assert not _alarm_raised()


RABBIT_CONTEXT = (
    'current-context = "r"\n[contexts.r.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
    f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\n'
)


def test_consumer_holding_messages_unacked(
    api: httpx.Client, isolated_config: Path, unique: str
) -> None:
    """A consumer that takes messages and never acknowledges them (a hung handler)."""
    import asyncio

    import aio_pika

    isolated_config.write_text(RABBIT_CONTEXT + "[doctor]\nunacked-min = 3\nunacked-ratio = 0.8\n")
    queue = f"doctor-hung-{unique}"
    api.put(f"/queues/%2F/{queue}", json={"durable": False}).raise_for_status()
    for n in range(5):
        mgmt_publish(api, queue, f"job {n}")

    async def hung_consumer_then_doctor() -> list[dict[str, Any]]:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            q = await channel.get_queue(queue)
            held: list[Any] = []

            async def hold(message: Any) -> None:  # takes every message, acks none
                held.append(message)

            await q.consume(hold)
            deadline = time.monotonic() + 30
            while True:  # until the management statistics show them unacked
                doc = await asyncio.to_thread(lambda: api.get(f"/queues/%2F/{queue}").json())
                if doc.get("messages_unacknowledged") == 5:
                    break
                assert time.monotonic() < deadline, doc
                await asyncio.sleep(0.5)
            result = await asyncio.to_thread(
                run_cli, "doctor", "--check", "unacked", "--interval", "0", "-o", "json"
            )
            assert result.exit_code == 0, result.output
            return list(json.loads(result.stdout))
        finally:
            await connection.close()

    try:
        findings = asyncio.run(asyncio.wait_for(hung_consumer_then_doctor(), 90))
    finally:
        api.delete(f"/queues/%2F/{queue}")
    hung = mentioning(findings, "unacked", queue)
    assert hung and hung[0]["severity"] == "WARN", findings
    assert f"{queue}: 5 of 5 unacknowledged (100%)" in hung[0]["evidence"]


def test_connection_churn(isolated_config: Path) -> None:
    """Clients connecting and disconnecting in a loop (a reconnect storm)."""
    import asyncio

    import aio_pika

    isolated_config.write_text(RABBIT_CONTEXT + "[doctor]\nconnection-churn = 1\n")

    async def storm(stop: float) -> None:
        while time.monotonic() < stop:
            connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
            await connection.close()

    findings: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the broker's churn rates are 5 s averages
        asyncio.run(storm(time.monotonic() + 3))
        _, findings = doctor("--check", "connection-churn", "--interval", "0")
        if findings[0]["severity"] == "WARN":
            break
    assert findings[0]["severity"] == "WARN", findings
    assert "opened/s" in findings[0]["evidence"][0] and "(limit 1/s)" in findings[0]["evidence"][0]


def test_consumed_queue_still_growing(
    api: httpx.Client, isolated_config: Path, unique: str
) -> None:
    """A consumer is attached but stuck (prefetch 1, never acks) while publishers go on: the
    queue has consumers and grows, which queues-no-consumers cannot see."""
    import asyncio

    import aio_pika

    isolated_config.write_text(RABBIT_CONTEXT)
    queue = f"doctor-stuck-{unique}"
    api.put(f"/queues/%2F/{queue}", json={"durable": False}).raise_for_status()
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest")) as http:
            while not stop.is_set():
                mgmt_publish(http, queue, "order")
                stop.wait(0.2)

    async def stuck_consumer_then_doctor() -> list[dict[str, Any]]:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=1)
            q = await channel.get_queue(queue)

            async def hang(message: Any) -> None:  # never acks: the consumer is stuck
                return None

            await q.consume(hang)
            deadline = time.monotonic() + 30
            while True:  # statistics show the consumer and a backlog
                doc = await asyncio.to_thread(lambda: api.get(f"/queues/%2F/{queue}").json())
                if doc.get("consumers") == 1 and (doc.get("messages_ready") or 0) > 0:
                    break
                assert time.monotonic() < deadline, doc
                await asyncio.sleep(0.5)
            result = await asyncio.to_thread(
                run_cli,
                "doctor",
                "--check",
                "queue-growth,queues-no-consumers",
                "--interval",
                str(STATS_INTERVAL),
                "-o",
                "json",
            )
            assert result.exit_code == 0, result.output
            return list(json.loads(result.stdout))
        finally:
            await connection.close()

    writer = threading.Thread(target=traffic, daemon=True)
    writer.start()
    try:
        findings = asyncio.run(asyncio.wait_for(stuck_consumer_then_doctor(), 120))
    finally:
        stop.set()
        writer.join(timeout=30)
        api.delete(f"/queues/%2F/{queue}")
    growth = mentioning(findings, "queue-growth", queue)
    assert growth and growth[0]["severity"] in ("CRIT", "WARN"), findings
    assert "1 consumer(s)" in " ".join(growth[0]["evidence"])
    assert not mentioning(findings, "queues-no-consumers", queue)
