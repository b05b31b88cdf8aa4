"""Benchmark: RabbitMQ DLQ redrive of 100,000 messages, mqctl vs the shovel plugin.

Each moves 100,000 persistent messages from a DLQ to a queue on the same local broker in the
same run: `mqctl dlq redrive --to` (manual ack after publisher confirm), the same with
`--engine shovel` (mqctl supervising a dynamic shovel), and a bare dynamic
shovel with `ack-mode: on-confirm` and `src-delete-after: queue-length` created through the
management API (what the management UI's "move messages" does). Zero loss is checked from
the queue depths (target exactly N, DLQ empty). Appends markdown to ``report``; standalone:
`.venv/bin/python scripts/bench_redrive.py`. Everything it creates is deleted.
``BENCH_REDRIVE_COUNT`` (default 100,000) and ``BENCH_REDRIVE_ROUNDS`` (default 3; rounds
rotate which tool goes first and the median ratio is reported: a shared machine is noisy).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import resource
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
ROUNDS = max(1, int(os.environ.get("BENCH_REDRIVE_ROUNDS", "3")))
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


def broker_pid() -> int | None:
    """The process listening on 127.0.0.1:5672 (the local RabbitMQ's beam.smp), if visible."""
    try:
        listing = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
    except OSError:
        return None
    found = re.search(r"127\.0\.0\.1:5672 .*?pid=(\d+)", listing)
    return int(found.group(1)) if found else None


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of ``pid`` so far (0 when it cannot be read)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


TOOLS = ("mqctl", "engine", "shovel")
LABELS = {
    "mqctl": "mqctl dlq redrive",
    "engine": "mqctl dlq redrive --engine shovel",
    "shovel": "shovel (on-confirm)",
}


@dataclasses.dataclass
class Result:
    seconds: float = 0.0
    summary: dict[str, object] = dataclasses.field(default_factory=dict)
    ok: bool = False
    client_cpu: float = 0.0  # mqctl's process (0 for the bare shovel)
    broker_cpu: float = 0.0


def one_round(order: tuple[str, ...]) -> dict[str, Result]:
    """One run of each tool on fresh queues, in ``order`` (rounds rotate it, so none always
    meets the broker's leftovers of another): mqctl's client engine, mqctl ``--engine
    shovel`` and a bare shovel. Per tool: seconds, mqctl's summary, zero loss, and the CPU
    seconds of mqctl's process and of the broker's during the move."""
    tag = uuid.uuid4().hex[:6]
    names = {tool: (f"bench-{tool}-{tag}.dlq", f"bench-{tool}-{tag}") for tool in TOOLS}
    queues = [q for pair in names.values() for q in pair]
    results = {tool: Result() for tool in TOOLS}
    broker = broker_pid()
    try:
        asyncio.run(declare(*queues))
        for dlq, _ in names.values():
            asyncio.run(fill(dlq, COUNT))
        for tool in order:
            dlq, target = names[tool]
            result = results[tool]
            client, server = children_cpu(), process_cpu(broker)
            if tool == "shovel":
                result.seconds = asyncio.run(run_shovel(f"bench-shovel-{tag}", dlq, target))
            elif tool == "engine":
                result.seconds, result.summary = run_mqctl(dlq, target, "--engine", "shovel")
            else:
                result.seconds, result.summary = run_mqctl(dlq, target)
            result.client_cpu = children_cpu() - client
            result.broker_cpu = process_cpu(broker) - server
        for tool, (dlq, target) in names.items():
            done = asyncio.run(depth(target)) == COUNT and asyncio.run(depth(dlq)) == 0
            results[tool].ok = done
    finally:
        asyncio.run(delete(*queues))
    return results


def run(report: list[str]) -> None:
    rounds = []
    for n in range(ROUNDS):
        shift = n % len(TOOLS)
        rounds.append(one_round(TOOLS[shift:] + TOOLS[:shift]))
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
        "CPU: user + system seconds of mqctl's process and of the broker's (beam.smp) during "
        "the move (the shovel runs inside the broker). "
        f"{ROUNDS} round(s), rotating which tool goes first.",
        "",
        "| round | tool | seconds | msg/s | mqctl CPU s | broker CPU s | zero loss |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    ratios: dict[str, list[float]] = {"mqctl": [], "engine": []}
    for n, results in enumerate(rounds, 1):
        shovel_rate = COUNT / results["shovel"].seconds
        for tool in TOOLS:
            result = results[tool]
            rate = COUNT / result.seconds
            if tool in ratios:
                ratios[tool].append(rate / shovel_rate)
            own = f" (own {result.summary.get('rate_per_second')})" if result.summary else ""
            client = f"{result.client_cpu:.2f}" if tool != "shovel" else "-"
            report.append(
                f"| {n} | {LABELS[tool]} | {result.seconds:.2f} | {rate:,.0f}{own} | {client} | "
                f"{result.broker_cpu:.2f} | {'yes' if result.ok else 'NO'} |"
            )

    def listed(values: list[float]) -> str:
        return ", ".join(f"{r:.2f}" for r in values)

    report += [
        "",
        f"Rate ratio mqctl (client engine) / shovel: **{statistics.median(ratios['mqctl']):.2f}×**;"
        f" mqctl `--engine shovel` / shovel: **{statistics.median(ratios['engine']):.2f}×** "
        f"(medians of {len(rounds)}; per round: {listed(ratios['mqctl'])} and "
        f"{listed(ratios['engine'])}; mqctl's own rate excludes start-up).",
        "",
    ]


if __name__ == "__main__":
    lines: list[str] = []
    run(lines)
    sys.stdout.write("\n".join(lines) + "\n")
