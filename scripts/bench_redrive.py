"""Benchmark: RabbitMQ DLQ redrive of 100,000 messages, mqctl vs the shovel plugin.

Each moves 100,000 persistent messages from a DLQ to a queue on the same local broker in the
same run: `mqctl dlq redrive --to` (manual ack after publisher confirm), the same with
`--engine shovel` (mqctl supervising a dynamic shovel), and a bare dynamic
shovel with `ack-mode: on-confirm` and `src-delete-after: queue-length` created through the
management API (what the management UI's "move messages" does). Zero loss is checked from
the queue depths (target exactly N, DLQ empty). Appends markdown to ``report``; standalone:
`.venv/bin/python scripts/bench_redrive.py`. Everything it creates is deleted.
``BENCH_REDRIVE_COUNT`` (default 100,000) and ``BENCH_REDRIVE_ROUNDS`` (default 1; rounds
rotate which tool goes first and the median ratio is reported: a shared machine is noisy).
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


def run_mqctl(dlq: str, target: str, *extra: str) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "NO_COLOR": "1", "MQCTL_CONFIG": os.devnull}
    env.setdefault("MQCTL_AUDIT_LOG", str(ROOT / ".cache" / "bench-audit.jsonl"))
    env.pop("MQCTL_CONTEXT", None)
    cmd = [str(ROOT / ".venv/bin/mqctl"), "dlq", "redrive", f"rabbitmq:{dlq}", "--to", target]
    cmd += list(extra)
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


Row = tuple[float, float, float, dict[str, object], dict[str, object], bool, bool, bool]
TOOLS = ("mqctl", "engine", "shovel")


def one_round(order: tuple[str, ...]) -> Row:
    """One run of each tool on fresh queues, in ``order`` (rounds rotate it, so none always
    meets the broker's leftovers of another): mqctl's client engine, mqctl ``--engine
    shovel`` and a bare shovel."""
    tag = uuid.uuid4().hex[:6]
    names = {tool: (f"bench-{tool}-{tag}.dlq", f"bench-{tool}-{tag}") for tool in TOOLS}
    queues = [q for pair in names.values() for q in pair]
    seconds: dict[str, float] = {}
    summaries: dict[str, dict[str, object]] = {}
    try:
        asyncio.run(declare(*queues))
        for dlq, _ in names.values():
            asyncio.run(fill(dlq, COUNT))
        for tool in order:
            dlq, target = names[tool]
            if tool == "shovel":
                seconds[tool] = asyncio.run(run_shovel(f"bench-shovel-{tag}", dlq, target))
            elif tool == "engine":
                seconds[tool], summaries[tool] = run_mqctl(dlq, target, "--engine", "shovel")
            else:
                seconds[tool], summaries[tool] = run_mqctl(dlq, target)
        ok = {
            tool: asyncio.run(depth(target)) == COUNT and asyncio.run(depth(dlq)) == 0
            for tool, (dlq, target) in names.items()
        }
    finally:
        asyncio.run(delete(*queues))
    return (
        seconds["mqctl"],
        seconds["engine"],
        seconds["shovel"],
        summaries["mqctl"],
        summaries["engine"],
        ok["mqctl"],
        ok["engine"],
        ok["shovel"],
    )


def run(report: list[str]) -> None:
    rows = []
    for n in range(ROUNDS):
        shift = n % len(TOOLS)
        rows.append(one_round(TOOLS[shift:] + TOOLS[:shift]))
    report += [
        "## DLQ redrive (RabbitMQ)",
        "",
        f"{COUNT:,} persistent messages (~220 bytes) moved from a DLQ to a queue on the same "
        "broker, same run. mqctl: `mqctl dlq redrive --to` (wall time including start-up; "
        "ack after publisher confirm, at most 1,000 messages in flight). mqctl `--engine "
        "shovel`: the same command handing the move to a supervised dynamic shovel (wall "
        "time including start-up, the 100-message loop-guard sample, progress polling and "
        "the zero-loss check). Shovel: a bare dynamic shovel, `ack-mode: on-confirm`, "
        "`src-delete-after: queue-length`, timed from its creation until the target held "
        "every message. Zero loss: target depth exactly N and the DLQ empty afterwards. "
        f"{ROUNDS} round(s), rotating which tool goes first.",
        "",
        "| round | tool | seconds | msg/s | zero loss |",
        "|---:|---|---:|---:|---|",
    ]
    ratios, engine_ratios = [], []
    for n, (m_s, e_s, s_s, m_sum, e_sum, m_ok, e_ok, s_ok) in enumerate(rows, 1):
        m_rate, e_rate, s_rate = COUNT / m_s, COUNT / e_s, COUNT / s_s
        ratios.append(m_rate / s_rate)
        engine_ratios.append(e_rate / s_rate)
        report += [
            f"| {n} | mqctl dlq redrive | {m_s:.2f} | {m_rate:,.0f} (own "
            f"{m_sum.get('rate_per_second')}) | {'yes' if m_ok else 'NO'} |",
            f"| {n} | mqctl dlq redrive --engine shovel | {e_s:.2f} | {e_rate:,.0f} (own "
            f"{e_sum.get('rate_per_second')}) | {'yes' if e_ok else 'NO'} |",
            f"| {n} | shovel (on-confirm) | {s_s:.2f} | {s_rate:,.0f} | "
            f"{'yes' if s_ok else 'NO'} |",
        ]

    def listed(values: list[float]) -> str:
        return ", ".join(f"{r:.2f}" for r in values)

    report += [
        "",
        f"Rate ratio mqctl (client engine) / shovel: **{statistics.median(ratios):.2f}×**; "
        f"mqctl `--engine shovel` / shovel: **{statistics.median(engine_ratios):.2f}×** "
        f"(medians of {len(ratios)}; per round: {listed(ratios)} and {listed(engine_ratios)}; "
        "mqctl's own rate excludes start-up).",
        "",
    ]


if __name__ == "__main__":
    lines: list[str] = []
    run(lines)
    sys.stdout.write("\n".join(lines) + "\n")
