"""Benchmark: one TUI refresh cycle and the app's memory at 5,000 queues / 1,000 topics /
500 consumer groups on the local brokers.

Seeds its own objects (names start with ``bench-tui-<run id>-``): 1,000 Kafka topics of one
partition, 500 consumer groups with a committed offset on one of them, 5,000 RabbitMQ
queues in vhost ``/``. Then runs the dashboard headless (``App.run_test``) in a separate
process against the ``local`` context, waits for the first full refresh, times further
refresh cycles (from the tick until every panel has applied the new data; GAP seconds
apart, as on the app's timer) and reads the process's RSS. Everything created is deleted at
the end, also on failure.

Targets (issues 8 and 19): every panel's first rows under 1 s, a refresh under 1 s, RSS
under 150 MB. Not run by the tests.

`run(report)` appends markdown (scripts/bench.py calls it); run standalone with
`.venv/bin/python scripts/bench_tui.py [--topics N --queues N --groups N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench_kafka import commit_groups, delete_groups

ROOT = Path(__file__).resolve().parent.parent
KAFKA = "127.0.0.1:9092"
MGMT = "http://127.0.0.1:15672"
AUTH = ("guest", "guest")
TOPICS, QUEUES, GROUPS = 1000, 5000, 500
CYCLES = 12
# Seconds between two timed cycles: the app refreshes on a timer (5 s by default), and work
# it does between refreshes (reading the next page of queue stats) belongs in that pause.
GAP = 1.0
PANELS = ("groups", "queues", "topics", "dlq")
FIRST_LOAD_DEADLINE = 120.0  # seconds: a broken run ends (its failures are reported)


# --------------------------------------------------------------------------- seeding


async def _create_topics(names: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=120_000)
    await admin.start()
    try:
        for start in range(0, len(names), 200):
            await admin.create_topics([NewTopic(n, 1, 1) for n in names[start : start + 200]])
    finally:
        await admin.close()


async def _commit_groups(topic: str, groups: list[str]) -> None:
    await commit_groups(
        KAFKA, groups, lambda _i, _g: [(topic, [(0, 0, "")])], request_timeout=60.0, concurrency=50
    )


async def _queues(names: list[str], method: str) -> None:
    import httpx

    limiter = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=MGMT, auth=AUTH, timeout=60) as http:

        async def one(name: str) -> None:
            async with limiter:
                path = f"/api/queues/%2F/{name}"
                if method == "PUT":
                    response = await http.put(path, json={"durable": False, "auto_delete": False})
                else:
                    response = await http.delete(path)
                if response.status_code not in (200, 201, 204, 404):
                    raise RuntimeError(f"{method} {name}: HTTP {response.status_code}")

        await asyncio.gather(*(one(n) for n in names))


async def _cleanup(topics: list[str], queues: list[str], groups: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    problems = []
    try:
        await _queues(queues, "DELETE")
    except Exception as exc:
        problems.append(f"queues: {exc}")
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=120_000)
    await admin.start()
    try:
        if groups:
            try:
                await delete_groups(admin, groups)
            except Exception as exc:
                problems.append(f"groups: {exc}")
        for start in range(0, len(topics), 200):
            try:
                await admin.delete_topics(topics[start : start + 200])
            except Exception as exc:
                problems.append(f"topics: {exc}")
    finally:
        await admin.close()
    for problem in problems:
        print(f"bench_tui: cleanup problem: {problem}", file=sys.stderr)


# ------------------------------------------------------------------------ measuring


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


async def _measure(cycles: int) -> dict[str, object]:
    """Run in a child process: the dashboard on the local context, headless."""
    import logging

    logging.getLogger().addHandler(logging.NullHandler())
    sys.path.insert(0, str(ROOT / "tui"))
    from mqctl_tui.app import MqctlApp
    from mqctl_tui.data import Kind

    from mqctl import gc_tuning
    from mqctl.config.schema import builtin_local_context

    gc_tuning.for_a_dashboard()  # as `mqctl tui` does

    cpu_started = time.process_time()
    app = MqctlApp(builtin_local_context(), refresh=3600)  # the bench drives the refreshes
    first = time.perf_counter()
    async with app.run_test(size=(200, 60)) as pilot:
        # First paint: the dashboard is on screen and answers keys while the panels load in
        # their own workers; each panel's rows appear when its data arrives.
        mounted_seconds = time.perf_counter() - first
        # Each panel's first rows: when its table holds them (the data arrived and the
        # panel applied it); the header's broker status when it arrived. The queues panel's
        # first rows come from the lean listing (depths); the consumers and rates follow
        # when the full listing read after it lands (Outcome.partial). CPU seconds of this
        # process beside the wall clock: the machine may be shared.
        arrived: dict[str, float] = {}
        cpu_at: dict[str, float] = {}
        stats_seconds: float | None = None
        panels = {name: app.screen.query_one(f"#{name}") for name in PANELS}
        cpu_start = time.process_time() - cpu_started

        def queue_stats_shown() -> bool:
            queues = app.latest.get(Kind.QUEUES)
            shown = panels["queues"].payload.values()  # type: ignore[attr-defined]
            return (
                queues is not None
                and queues.ok
                and not queues.partial
                # (any: a queue deleted by someone between the two listings keeps its lean
                # row until the next refresh)
                and any(q.consumers is not None for q in shown)
            )

        def note(what: str) -> None:
            if what not in arrived:
                arrived[what] = time.perf_counter() - first
                cpu_at[what] = time.process_time() - cpu_started

        while (
            app.refreshing
            or len(app.latest) < len(Kind)
            or len(arrived) < len(PANELS) + 1
            or not queue_stats_shown()
        ) and time.perf_counter() - first < FIRST_LOAD_DEADLINE:
            if Kind.STATUS in app.latest:
                note("header: broker status")
            for name, panel in panels.items():
                if panel.total_count:  # type: ignore[attr-defined]
                    note(f"panel `{name}`")
            if stats_seconds is None and queue_stats_shown():
                stats_seconds = time.perf_counter() - first
                cpu_at["stats"] = time.process_time() - cpu_started
            await pilot.pause(0.01)
        if stats_seconds is None:  # (the loop ended as they were shown)
            stats_seconds = time.perf_counter() - first
            cpu_at["stats"] = time.process_time() - cpu_started
        await pilot.pause()
        first_seconds = time.perf_counter() - first
        failures = {str(k): o.describe_error() for k, o in app.latest.items() if not o.ok}
        rows = {
            name: app.screen.query_one(f"#{name}").total_count  # type: ignore[attr-defined]
            for name in ("topics", "queues", "groups", "dlq")
        }
        cycle_times, service_times = [], []
        per_kind: dict[str, list[float]] = {str(k): [] for k in Kind}
        for _ in range(cycles):
            start = time.perf_counter()
            app.refresh_data()
            while app.refreshing:
                await pilot.pause(0.01)
            await pilot.pause()  # let every panel apply its DataUpdated message
            cycle_times.append(time.perf_counter() - start)
            service_times.append(max(o.seconds for o in app.latest.values()))
            for kind, outcome in app.latest.items():
                per_kind[str(kind)].append(outcome.seconds)
            await pilot.pause(GAP)
        rss, peak = _rss_mb()
    return {
        "mounted_seconds": mounted_seconds,
        "arrived_seconds": arrived,
        "stats_seconds": stats_seconds,
        "cpu_seconds": cpu_at,
        "cpu_at_mount": cpu_start,
        "first_seconds": first_seconds,
        "cycle_seconds": cycle_times,
        "service_seconds": service_times,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "rows": rows,
        "per_kind": {k: statistics.median(v) for k, v in per_kind.items() if v},
        "failures": failures,
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _measure_in_child(cycles: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "--cycles", str(cycles)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring failed: {done.stderr[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(
    report: list[str], topics: int = TOPICS, queues: int = QUEUES, groups: int = GROUPS
) -> None:
    """Seed, measure in a child process, clean up; append markdown lines to ``report``."""
    run_id = uuid.uuid4().hex[:6]
    prefix = f"bench-tui-{run_id}-"
    topic_names = [f"{prefix}t{i:04d}" for i in range(topics)]
    queue_names = [f"{prefix}q{i:04d}" for i in range(queues)]
    group_names = [f"{prefix}g{i:03d}" for i in range(groups)]
    seeded_at = time.perf_counter()
    try:
        asyncio.run(_create_topics(topic_names))
        asyncio.run(_commit_groups(topic_names[0], group_names))
        asyncio.run(_queues(queue_names, "PUT"))
        seed_seconds = time.perf_counter() - seeded_at
        result = _measure_in_child(CYCLES)
    finally:
        asyncio.run(_cleanup(topic_names, queue_names, group_names))
    cycles = result["cycle_seconds"]
    services = result["service_seconds"]
    assert isinstance(cycles, list) and isinstance(services, list)
    rows = result["rows"]
    failures = result["failures"]
    arrived: dict[str, float] = result["arrived_seconds"]  # type: ignore[assignment]
    cpu: dict[str, float] = result["cpu_seconds"]  # type: ignore[assignment]
    median = statistics.median(cycles)
    report += [
        "## TUI",
        "",
        f"`mqctl tui` dashboard run headless on the `local` context with {topics:,} extra "
        f"topics, {queues:,} extra queues and {groups:,} extra consumer groups (seeded in "
        f"{seed_seconds:.0f} s, deleted afterwards). First rows: when each panel's table "
        "holds its first rows (the header: when the broker status arrived); app CPU = CPU "
        "seconds the app's process used since it started (the machine may be shared). A "
        "refresh cycle = every panel's service "
        "call (status, topics, queues, lag) in background workers plus applying the new rows "
        f"to the tables in place; cycles {GAP:g} s apart (the app's default interval is 5 s). "
        "Targets: every panel's first rows under 1 s, refresh under 1 s, RSS under 150 MB.",
        "",
        "| measure | value | app CPU |",
        "|---|---:|---:|",
        "| rows shown (topics / queues / groups / DLQs) | "
        + " / ".join(f"{rows[name]:,}" for name in ("topics", "queues", "groups", "dlq"))
        + " | |",
        f"| first paint: dashboard on screen, keys answered | {result['mounted_seconds']:.2f} s"
        f" | {result['cpu_at_mount']:.2f} s |",
        *(
            f"| first rows: {what} | {seconds:.2f} s | {cpu[what]:.2f} s |"
            for what, seconds in sorted(arrived.items(), key=lambda item: item[1])
        ),
        f"| every panel's first rows (queues: the lean listing) | {max(arrived.values()):.2f} s"
        f" | {max(cpu[w] for w in arrived):.2f} s |",
        "| queues panel: consumers and rates shown (the full listing, read after) | "
        f"{result['stats_seconds']:.2f} s | {cpu.get('stats', 0.0):.2f} s |",
        f"| refresh cycle, median of {len(cycles)} | {median:.2f} s | |",
        f"| refresh cycle, 90th percentile | {_percentile(cycles, 0.9):.2f} s | |",
        f"| refresh cycle, slowest | {max(cycles):.2f} s | |",
        f"| slowest service call in a cycle, median | {statistics.median(services):.2f} s | |",
        *(
            f"| service call `{kind}`, median | {seconds:.2f} s | |"
            for kind, seconds in result["per_kind"].items()  # type: ignore[attr-defined]
        ),
        f"| RSS after the cycles | {result['rss_mb']:.0f} MB | |",
        f"| peak RSS | {result['peak_rss_mb']:.0f} MB | |",
        "",
    ]
    if failures:
        report += [f"Panels that failed in this run: {failures}", ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cycles", type=int, default=CYCLES, help=argparse.SUPPRESS)
    parser.add_argument("--topics", type=int, default=TOPICS)
    parser.add_argument("--queues", type=int, default=QUEUES)
    parser.add_argument("--groups", type=int, default=GROUPS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(_measure(args.cycles))))
        return 0
    report: list[str] = []
    run(report, args.topics, args.queues, args.groups)
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
