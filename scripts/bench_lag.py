"""Benchmark: `mqctl lag --all-groups` against kafka-consumer-groups, on the local Kafka.

Creates its own topic (50 partitions) and 200 consumer groups committed at varied offsets,
times `mqctl lag --all-groups -o json > /dev/null` and the peer tool
(`ConsumerGroupCommand --describe --all-groups` from the Kafka jars) in the same run, reports
how mqctl's time grows from 10 to 200 groups, then commits every group behind on every
partition (the all-lagging set: time lag reads a record for each of the 10,000
group-partitions) and times both tools again, best of N alternating which goes first. It
deletes everything it created.

`run(report)` appends markdown lines (scripts/bench.py calls it); run standalone with
`.venv/bin/python scripts/bench_lag.py`.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench_kafka import TopicOffsets, commit_groups, delete_groups

ROOT = Path(__file__).resolve().parent.parent
KAFKA = "127.0.0.1:9092"
PARTITIONS = 50
GROUPS = 200
RECORDS_PER_PARTITION = 40
STEPS = (10, 50, 100, 200)
KAFKA_LIBS = ROOT / ".cache" / "kafka-4.1.1" / "libs"
PEER_CLASS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
RUNS = 3


async def _setup(topic: str) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=5)
    await producer.start()
    try:
        now = int(time.time() * 1000)
        for i in range(RECORDS_PER_PARTITION):
            for p in range(PARTITIONS):
                ts = now - (RECORDS_PER_PARTITION - i) * 60_000
                await producer.send(topic, b"bench-%d" % i, partition=p, timestamp_ms=ts)
        await producer.flush()
    finally:
        await producer.stop()


async def _commit_groups(topic: str, groups: list[str]) -> None:
    """Most groups are near the end (a healthy fleet), some far behind."""
    rng = random.Random(len(groups))

    def offsets(_index: int, _group: str) -> TopicOffsets:
        behind = rng.choice([0, 0, 1, 2, 5, 10, 30])
        parts = [
            (p, max(0, RECORDS_PER_PARTITION - behind - rng.randint(0, 2)), "")
            for p in range(PARTITIONS)
        ]
        return [(topic, parts)]

    await commit_groups(
        KAFKA, groups, offsets, request_timeout=30.0, concurrency=max(1, len(groups))
    )


async def _commit_all_lagging(topic: str, groups: list[str]) -> None:
    """Every group behind on every partition, each at its own offset (no two groups share a
    position by design: the worst case for time lag)."""

    def offsets(index: int, _group: str) -> TopicOffsets:
        parts = [(p, (index * 7 + p * 3) % RECORDS_PER_PARTITION, "") for p in range(PARTITIONS)]
        return [(topic, parts)]

    await commit_groups(
        KAFKA, groups, offsets, request_timeout=30.0, concurrency=max(1, len(groups))
    )


def _alternating(commands: list[list[str]], config: Path, rounds: int) -> list[float]:
    """Best time of each command over ``rounds`` rounds, the order rotating every round."""
    best = [float("inf")] * len(commands)
    for cmd in commands:  # warm-up (bytecode, page cache), not timed
        _time(cmd, config, runs=0)
    for n in range(rounds):
        order = list(range(len(commands)))
        order = order[n % len(order) :] + order[: n % len(order)]
        for i in order:
            best[i] = min(best[i], _time(commands[i], config, runs=1, warm=False))
    return best


async def _cleanup(topic: str, groups: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        try:
            await admin.delete_topics([topic])
        except Exception as exc:  # report, but still delete the groups
            print(f"bench_lag: could not delete topic {topic}: {exc}", file=sys.stderr)
        await delete_groups(admin, groups)
    finally:
        await admin.close()


def _time(cmd: list[str], config: Path, runs: int = RUNS, *, warm: bool = True) -> float:
    """Best wall time of ``runs`` runs, stdout discarded; fails loudly on a non-zero exit."""
    best = float("inf")
    env = {**os.environ, "NO_COLOR": "1", "MQCTL_CONFIG": str(config)}
    env.pop("MQCTL_CONTEXT", None)
    # An installed tool runs from compiled bytecode: allow the cache and warm it up once.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if warm:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.decode(errors='replace')[-300:]}")
        best = min(best, elapsed)
    return best


def _mqctl_cmd() -> list[str]:
    # Kafka only: the figure is about Kafka groups, not the RabbitMQ side of the view.
    return [str(ROOT / ".venv" / "bin" / "mqctl"), "lag", "--all-groups", "-o", "json"]


def _kafka_only_config(path: Path) -> None:
    path.write_text(
        f'current-context = "bench"\n[contexts.bench.kafka]\nbootstrap-servers = "{KAFKA}"\n'
    )


def run(report: list[str]) -> None:
    """Create the topic set, time both tools, append markdown lines to ``report``, clean up."""
    import logging

    # aiokafka logs every retried produce while the fresh topic's leaders settle.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = uuid.uuid4().hex[:6]
    topic = f"bench-lag-{tag}"
    groups = [f"bench-lag-{tag}-g{i:03d}" for i in range(GROUPS)]
    config = ROOT / ".run" / f"bench-lag-{tag}.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    _kafka_only_config(config)
    created: list[str] = []
    try:
        asyncio.run(_setup(topic))
        growth: list[tuple[int, float]] = []
        for step in STEPS:
            batch = groups[len(created) : step]
            asyncio.run(_commit_groups(topic, batch))
            created.extend(batch)
            growth.append((step, _time(_mqctl_cmd(), config)))
        mqctl_s = growth[-1][1]
        peer_cmd = [
            "java", "-Xshare:auto", "-cp", f"{KAFKA_LIBS}/*", PEER_CLASS,
            "--bootstrap-server", KAFKA, "--describe", "--all-groups",
        ]  # fmt: skip
        peer_s = _time(peer_cmd, config, runs=2)
        ratio = peer_s / mqctl_s
        report.append("## Lag: `mqctl lag --all-groups` vs kafka-consumer-groups")
        report.append("")
        report.append(
            f"{GROUPS} groups x {PARTITIONS} partitions (one topic, {RECORDS_PER_PARTITION} "
            f"records per partition), {os.cpu_count()} CPUs, best of {RUNS} runs, same run."
        )
        report.append("")
        report.append("| tool | seconds |")
        report.append("| --- | ---: |")
        report.append(f"| `mqctl lag --all-groups -o json > /dev/null` | {mqctl_s:.2f} |")
        report.append(f"| `kafka-consumer-groups --describe --all-groups` | {peer_s:.2f} |")
        report.append("")
        verdict = "meets" if ratio >= 5 and mqctl_s < 1.5 else "misses"
        report.append(
            f"mqctl is **{ratio:.1f}x** faster ({verdict} the target: >= 5x and < 1.5 s). "
            "mqctl also reads one record per lagging partition for time lag; the peer does not."
        )
        report.append("")
        report.append("Growth with the number of groups (mqctl, all groups of the cluster):")
        report.append("")
        report.append("| bench groups | seconds |")
        report.append("| ---: | ---: |")
        for step, seconds in growth:
            report.append(f"| {step} | {seconds:.2f} |")
        spread = statistics.mean(s for _, s in growth)
        report.append("")
        report.append(f"(mean {spread:.2f} s over the steps)")
        report.append("")
        asyncio.run(_commit_all_lagging(topic, created))
        lag_s, lag_peer_s = _alternating([_mqctl_cmd(), peer_cmd], config, rounds=RUNS)
        report += [
            f"### All lagging: {GROUPS} groups x {PARTITIONS} partitions, every one behind",
            "",
            f"The same groups committed behind on every partition ({GROUPS * PARTITIONS:,} "
            "lagging group-partitions, each group at its own offsets; time lag on: mqctl "
            f"reads the first unconsumed record of each), best of {RUNS} rounds alternating "
            "which tool goes first, same run.",
            "",
            "| tool | seconds |",
            "| --- | ---: |",
            f"| `mqctl lag --all-groups -o json > /dev/null` | {lag_s:.2f} |",
            f"| `kafka-consumer-groups --describe --all-groups` | {lag_peer_s:.2f} |",
            "",
            f"mqctl is **{lag_peer_s / lag_s:.1f}x** faster (target >= 8x).",
            "",
        ]
    finally:
        asyncio.run(_cleanup(topic, created))
        config.unlink(missing_ok=True)


if __name__ == "__main__":
    lines: list[str] = []
    run(lines)
    print("\n".join(lines))
