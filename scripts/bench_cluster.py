"""Scale benchmark: `mqctl lag` over 10,000 partitions on the 3-broker cluster (cluster mode).

Uses the cluster of scripts/cluster.sh (started if it is not up, stopped again at the end in
that case). Creates TOPICS topics of PARTITIONS_PER_TOPIC partitions (10,000 partitions in all,
spread over the three brokers), writes RECORDS records into every partition, commits offsets
for GROUPS consumer groups over all partitions (one caught up, the others behind, so time lag
needs one record per lagging partition), then measures `mqctl lag --all-groups -o json` (wall
time and peak RSS) and the Kafka peer tool (`kafka-consumer-groups --describe
--all-groups`) in the same run, after one warm-up run each, best of RUNS rounds alternating
which goes first. Everything it created is deleted at the end.

The replication factor defaults to 1 (BENCH_CLUSTER_RF=3 for fully replicated topics: three
times the replicas on the same small loopback brokers).

It also runs the Prometheus exporter (`mqctl exporter`) on the same set: the time from its
start to the first complete scrape, then the median of SCRAPES scrapes one sample period
apart (each after a new sample, so each includes writing the series), gzip accepted as
Prometheus does, and the exporter's peak RSS.

`run(report)` appends markdown lines; run standalone with
`.venv/bin/python scripts/bench_cluster.py`. Not run by the tests.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench_kafka import TopicOffsets, commit_groups

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = "127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094"
TOPICS = 20
PARTITIONS_PER_TOPIC = 500
RECORDS = 2
GROUPS = 3
RUNS = 5
RF = int(os.environ.get("BENCH_CLUSTER_RF", "1"))
SCRAPES = 5
SAMPLE_EVERY = 2.0  # seconds between the exporter's samples
KAFKA_LIBS = ROOT / ".cache" / "kafka-4.1.1" / "libs"
PEER_CLASS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


def _cluster(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "cluster.sh"), command],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _cluster_up() -> bool:
    lines = _cluster("status").stdout.splitlines()
    return len(lines) == 3 and all(line.split()[1] == "up" for line in lines)


async def _setup(topics: list[str], groups: list[str]) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=120_000)
    await admin.start()
    try:
        for start in range(0, len(topics), 5):
            await admin.create_topics(
                [NewTopic(t, PARTITIONS_PER_TOPIC, RF) for t in topics[start : start + 5]],
                timeout_ms=120_000,
            )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=20, acks=1)
    await producer.start()
    try:
        now = int(time.time() * 1000)
        futures = []
        for i in range(RECORDS):
            ts = now - (RECORDS - i) * 60_000
            for topic in topics:
                for p in range(PARTITIONS_PER_TOPIC):
                    futures.append(
                        await producer.send(topic, b"bench-%d" % i, partition=p, timestamp_ms=ts)
                    )
        await producer.flush()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()

    def offsets(index: int, _group: str) -> TopicOffsets:
        offset = RECORDS if index == 0 else RECORDS - 1  # first caught up, others behind
        parts = [(p, offset, "") for p in range(PARTITIONS_PER_TOPIC)]
        return [(t, parts) for t in topics]

    await commit_groups(BOOTSTRAP, groups, offsets, request_timeout=120.0, concurrency=1)


async def _cleanup(topics: list[str], groups: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.protocol.admin import DeleteGroupsRequest

    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=120_000)
    await admin.start()
    try:
        for group in groups:
            try:
                node = await admin.find_coordinator(group)
                await admin._send_request(DeleteGroupsRequest([group]), node)
            except Exception as exc:
                print(f"bench_cluster: could not delete group {group}: {exc}", file=sys.stderr)
        try:
            await admin.delete_topics(topics, timeout_ms=120_000)
        except Exception as exc:
            print(f"bench_cluster: could not delete topics: {exc}", file=sys.stderr)
    finally:
        await admin.close()


def _measure(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Best wall time (s) and the peak RSS (MB) of that run, via /usr/bin/time -f %M."""
    timer = shutil.which("time") or "/usr/bin/time"
    best = (float("inf"), 0.0)
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
            start = time.perf_counter()
            done = subprocess.run(
                [timer, "-f", "%M", "-o", out.name, *cmd],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                check=False,
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                tail = done.stderr.decode(errors="replace")[-400:]
                raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {tail}")
            rss_mb = int(out.read().strip().splitlines()[-1]) / 1024
        if elapsed < best[0]:
            best = (elapsed, rss_mb)
    return best


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(url: str) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        body: bytes = answer.read()
    return time.perf_counter() - start, body


def _exporter(env: dict[str, str], group: str) -> tuple[float, float, float, float]:
    """(seconds from start to the first scrape holding ``group``'s series, median scrape
    seconds afterwards, peak RSS MB, body MB uncompressed)."""
    import gzip

    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    cmd = [
        str(ROOT / ".venv" / "bin" / "mqctl"), "exporter", "--listen", f"127.0.0.1:{port}",
        "--every", str(SAMPLE_EVERY),
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = start + 300
        body = b""
        while group.encode() not in body:
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise RuntimeError("mqctl exporter did not serve the bench groups")
            try:
                body = gzip.decompress(_scrape(url)[1])
            except OSError:  # not listening yet
                time.sleep(0.05)
        first = time.perf_counter() - start
        warm = []
        for _ in range(SCRAPES):
            time.sleep(SAMPLE_EVERY)
            seconds, raw = _scrape(url)
            warm.append(seconds)
        size_mb = len(gzip.decompress(raw)) / 1e6
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak_kb = next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]
        rss_mb = int(peak_kb) / 1024
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return first, statistics.median(warm), rss_mb, size_mb


def run(report: list[str]) -> None:
    import logging

    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    started = False
    if not _cluster_up():
        done = _cluster("up")
        if done.returncode != 0:
            raise RuntimeError(f"scripts/cluster.sh up failed: {done.stderr[-500:]}")
        started = True
    tag = uuid.uuid4().hex[:6]
    topics = [f"bench-scale-{tag}-t{i:02d}" for i in range(TOPICS)]
    groups = [f"bench-scale-{tag}-g{i}" for i in range(GROUPS)]
    config = ROOT / ".run" / f"bench-cluster-{tag}.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'current-context = "cluster"\n[contexts.cluster]\ntimeout = 120\n'
        f'[contexts.cluster.kafka]\nbootstrap-servers = "{BOOTSTRAP}"\n'
    )
    env = {**os.environ, "NO_COLOR": "1", "MQCTL_CONFIG": str(config)}
    env.pop("MQCTL_CONTEXT", None)
    try:
        t0 = time.perf_counter()
        asyncio.run(_setup(topics, groups))
        setup_s = time.perf_counter() - t0
        mqctl_cmd = [str(ROOT / ".venv" / "bin" / "mqctl"), "lag", "--all-groups", "-o", "json"]
        peer_cmd = [
            "java", "-Xshare:auto", "-cp", f"{KAFKA_LIBS}/*", PEER_CLASS,
            "--bootstrap-server", BOOTSTRAP, "--describe", "--all-groups",
        ]  # fmt: skip
        # One untimed run of each first (brokers just started answer their first requests
        # before the JVM has compiled them), then rounds alternating which tool goes first.
        for cmd in (mqctl_cmd, peer_cmd):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        ours, peers = [], []
        for round_ in range(RUNS):
            if round_ % 2:
                peers.append(_measure(peer_cmd, env, 1))
            ours.append(_measure(mqctl_cmd, env, 1))
            if not round_ % 2:
                peers.append(_measure(peer_cmd, env, 1))
        (mqctl_s, mqctl_mb), (peer_s, peer_mb) = min(ours), min(peers)
        first_s, scrape_s, exporter_mb, body_mb = _exporter(env, groups[-1])
        partitions = TOPICS * PARTITIONS_PER_TOPIC
        report.append("## Scale: `mqctl lag` over 10,000 partitions (3-broker cluster)")
        report.append("")
        report.append(
            f"{partitions:,} partitions ({TOPICS} topics x {PARTITIONS_PER_TOPIC}, replication "
            f"factor {RF}) on the 3-broker KRaft cluster of `scripts/cluster.sh` (loopback), "
            f"{GROUPS} groups each committed on every partition (one caught up, "
            f"{GROUPS - 1} one record behind: time lag reads one record per lagging "
            f"partition), {RECORDS} records per partition. {os.cpu_count()} CPUs, "
            f"{platform.machine()}, Python {platform.python_version()}; one warm-up run "
            f"each, then best of {RUNS} rounds alternating which tool goes first; "
            f"set-up took {setup_s:.0f} s."
        )
        report.append("")
        report.append("| tool | seconds | peak RSS (MB) |")
        report.append("| --- | ---: | ---: |")
        report.append(
            f"| `mqctl lag --all-groups -o json > /dev/null` | {mqctl_s:.2f} | {mqctl_mb:.0f} |"
        )
        report.append(
            f"| `kafka-consumer-groups --describe --all-groups` | {peer_s:.2f} | {peer_mb:.0f} |"
        )
        report.append(
            f"| `mqctl exporter`: start to first complete scrape | {first_s:.2f} | "
            f"{exporter_mb:.0f} |"
        )
        report.append(
            f"| `mqctl exporter`: scrape, median of {SCRAPES} (after a new sample each) | "
            f"{scrape_s:.2f} | |"
        )
        report.append("")
        report.append(
            f"The exporter samples every {SAMPLE_EVERY:g} s on one warm connection; a scrape "
            f"({body_mb:.0f} MB of series, gzipped) serves the latest sample."
        )
        report.append("")
        per_k = mqctl_s / (partitions * GROUPS / 1000)
        report.append(
            f"mqctl: {peer_s / mqctl_s:.1f}x the peer tool's speed, {per_k * 1000:.1f} ms per "
            f"1,000 group-partitions; the peer tool computes no time lag."
        )
    finally:
        asyncio.run(_cleanup(topics, groups))
        config.unlink(missing_ok=True)
        if started:
            _cluster("down")


if __name__ == "__main__":
    lines: list[str] = []
    run(lines)
    print("\n".join(lines))
