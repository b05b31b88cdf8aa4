"""Benchmark: RabbitMQ DLQ redrive of 100,000 messages, mqctl vs the shovel plugin.

Both move 100,000 persistent messages from a DLQ to a queue on the same local broker in the
same run: `mqctl dlq redrive --to` (manual ack after publisher confirm) against a dynamic
shovel with `ack-mode: on-confirm` and `src-delete-after: queue-length` created through the
management API (what the management UI's "move messages" does). Zero loss is checked from
the queue depths (target exactly N, DLQ empty). Appends markdown to ``report``; standalone:
`.venv/bin/python scripts/bench_redrive.py`. Everything it creates is deleted.
``BENCH_REDRIVE_COUNT`` (default 100,000) and ``BENCH_REDRIVE_ROUNDS`` (default 1; rounds
alternate which tool goes first and the median ratio is reported: a shared machine is noisy).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import aio_pika
import httpx

ROOT = Path(__file__).resolve().parent.parent
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
MGMT = "http://127.0.0.1:15672"
COUNT = int(os.environ.get("BENCH_REDRIVE_COUNT", "100000"))
ROUNDS = max(1, int(os.environ.get("BENCH_REDRIVE_ROUNDS", "1")))
BODY = b'{"orderId":"ord-000000","error":"timeout","payload":"' + b"x" * 160 + b'"}'


async def fill(queue: str, count: int) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True)
        batch = 2000
        for start in range(0, count, batch):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            BODY,
                            message_id=f"m-{n}",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            headers={"error": "timeout"},
                        ),
                        routing_key=queue,
                    )
                    for n in range(start, min(start + batch, count))
                )
            )


async def depth(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def declare(*queues: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.declare_queue(queue, durable=True)


async def delete(*queues: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            try:
                await channel.queue_delete(queue)
            except Exception:  # already gone
                continue


def run_mqctl(dlq: str, target: str) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "NO_COLOR": "1", "MQCTL_CONFIG": os.devnull}
    env.setdefault("MQCTL_AUDIT_LOG", str(ROOT / ".cache" / "bench-audit.jsonl"))
    env.pop("MQCTL_CONTEXT", None)
    cmd = [str(ROOT / ".venv/bin/mqctl"), "dlq", "redrive", f"rabbitmq:{dlq}", "--to", target]
    start = time.perf_counter()
    done = subprocess.run([*cmd, "--yes", "-o", "json"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"mqctl redrive failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


async def run_shovel(name: str, dlq: str, target: str) -> float:
    path = f"/api/parameters/shovel/{quote('/', safe='')}/{quote(name, safe='')}"
    value = {
        "src-protocol": "amqp091",
        "src-uri": "amqp://",
        "src-queue": dlq,
        "dest-protocol": "amqp091",
        "dest-uri": "amqp://",
        "dest-queue": target,
        "ack-mode": "on-confirm",
        "src-delete-after": "queue-length",
    }
    async with httpx.AsyncClient(base_url=MGMT, auth=("guest", "guest"), timeout=30) as http:
        start = time.perf_counter()
        response = await http.put(path, json={"value": value})
        response.raise_for_status()
        try:
            deadline = start + 900
            while time.perf_counter() < deadline:
                if await depth(target) >= COUNT and await depth(dlq) == 0:
                    break
                await asyncio.sleep(0.05)
            return time.perf_counter() - start
        finally:
            await http.delete(path)


def one_round(first: str) -> tuple[float, float, dict[str, object], bool, bool]:
    """One mqctl run and one shovel run on fresh queues; ``first`` says which goes first
    (rounds alternate, so neither always meets the broker's leftovers of the other)."""
    tag = uuid.uuid4().hex[:6]
    m_dlq, m_target = f"bench-redrive-{tag}.dlq", f"bench-redrive-{tag}"
    s_dlq, s_target = f"bench-shovel-{tag}.dlq", f"bench-shovel-{tag}"
    queues = (m_dlq, m_target, s_dlq, s_target)
    try:
        asyncio.run(declare(*queues))
        asyncio.run(fill(m_dlq, COUNT))
        asyncio.run(fill(s_dlq, COUNT))
        if first == "shovel":
            s_seconds = asyncio.run(run_shovel(f"bench-shovel-{tag}", s_dlq, s_target))
            m_seconds, summary = run_mqctl(m_dlq, m_target)
        else:
            m_seconds, summary = run_mqctl(m_dlq, m_target)
            s_seconds = asyncio.run(run_shovel(f"bench-shovel-{tag}", s_dlq, s_target))
        m_ok = asyncio.run(depth(m_target)) == COUNT and asyncio.run(depth(m_dlq)) == 0
        s_ok = asyncio.run(depth(s_target)) == COUNT and asyncio.run(depth(s_dlq)) == 0
    finally:
        asyncio.run(delete(*queues))
    return m_seconds, s_seconds, summary, m_ok, s_ok


def run(report: list[str]) -> None:
    rows = []
    for n in range(ROUNDS):
        rows.append(one_round("mqctl" if n % 2 == 0 else "shovel"))
    report += [
        "## DLQ redrive (RabbitMQ)",
        "",
        f"{COUNT:,} persistent messages (~220 bytes) moved from a DLQ to a queue on the same "
        "broker, same run. mqctl: `mqctl dlq redrive --to` (wall time including start-up; "
        "ack after publisher confirm, at most 1,000 messages in flight). Shovel: dynamic "
        "shovel, `ack-mode: on-confirm`, `src-delete-after: queue-length`, timed from its "
        "creation until the target held every message. Zero loss: target depth exactly N "
        f"and the DLQ empty afterwards. {ROUNDS} round(s), alternating which tool goes first.",
        "",
        "| round | tool | seconds | msg/s | zero loss |",
        "|---:|---|---:|---:|---|",
    ]
    ratios = []
    for n, (m_seconds, s_seconds, summary, m_ok, s_ok) in enumerate(rows, 1):
        m_rate, s_rate = COUNT / m_seconds, COUNT / s_seconds
        ratios.append(m_rate / s_rate)
        own = summary.get("rate_per_second")
        report += [
            f"| {n} | mqctl dlq redrive | {m_seconds:.2f} | {m_rate:,.0f} (own {own}) | "
            f"{'yes' if m_ok else 'NO'} |",
            f"| {n} | shovel (on-confirm) | {s_seconds:.2f} | {s_rate:,.0f} | "
            f"{'yes' if s_ok else 'NO'} |",
        ]
    report += [
        "",
        f"Rate ratio mqctl / shovel: **{statistics.median(ratios):.2f}×** (median of "
        f"{len(ratios)}; per round: {', '.join(f'{r:.2f}' for r in ratios)}; mqctl's own "
        "rate excludes start-up).",
        "",
    ]


if __name__ == "__main__":
    lines: list[str] = []
    run(lines)
    sys.stdout.write("\n".join(lines) + "\n")
