"""Publish N messages (default 2,000,000) from the TUI's publish form, headless, to a topic
it creates and deletes: peak RSS and how late a 50 ms UI timer ran (the event loop's
responsiveness) while the form streams. Issue 18's bound: RSS under 150 MB.

    .venv/bin/python scripts/bench_tui_publish.py [--count N]

Prints one JSON object. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = 0.05


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(count: int) -> dict[str, object]:
    import logging

    logging.getLogger().addHandler(logging.NullHandler())
    sys.path.insert(0, str(ROOT / "tui"))
    from mqctl_tui.app import MqctlApp
    from mqctl_tui.screens.publish_screen import PublishScreen
    from textual.widgets import Input

    from mqctl import gc_tuning
    from mqctl.config.schema import builtin_local_context
    from mqctl.models.inventory import Destination
    from mqctl.services import topics
    from mqctl.session import Session

    gc_tuning.for_a_dashboard()
    context = builtin_local_context()
    topic = f"bench-tui-publish-{uuid.uuid4().hex[:8]}"
    async with Session(context) as session:
        await topics.create_topic(session, f"kafka:{topic}", partitions=3)
    try:
        app = MqctlApp(context, refresh=3600)
        async with app.run_test(size=(160, 50)) as pilot:
            rss_before = _peak_rss_mb()
            app.publish_to(Destination("kafka", "topic", topic))
            while not (isinstance(app.screen, PublishScreen) and app.screen.is_mounted):
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            screen = app.screen
            screen.query_one("#count", Input).value = str(count)
            lateness: list[float] = []
            expected = time.monotonic() + TICK

            def tick() -> None:
                nonlocal expected
                now = time.monotonic()
                lateness.append(max(0.0, now - expected))
                expected = now + TICK

            timer = app.set_interval(TICK, tick)
            started = time.perf_counter()
            await pilot.press("ctrl+s")
            while not screen.finished and (screen.worker is None or screen.worker.is_running):
                await pilot.pause(0.2)
            seconds = time.perf_counter() - started
            timer.stop()
        return {
            "messages": count,
            "sent": screen.sent,
            "failed": screen.failed,
            "seconds": round(seconds, 1),
            "per_second": round(screen.sent / seconds) if seconds else None,
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "peak_rss_before_mb": round(rss_before, 1),
            "ui_timer_max_late_ms": round(max(lateness, default=0.0) * 1000),
            "ui_timer_p99_late_ms": round(
                sorted(lateness)[int(len(lateness) * 0.99)] * 1000 if lateness else 0.0
            ),
        }
    finally:
        async with Session(context) as session:
            await topics.delete_topics(session, [f"kafka:{topic}"])


def run(report: list[str]) -> None:
    """`make bench` part: the measurement in a process of its own (its peak RSS is the
    form's, not the other benchmarks')."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [str(ROOT / ".venv/bin/python"), __file__],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=900,
    )
    r = json.loads(done.stdout)
    report += [
        "## TUI: publishing 2,000,000 messages from the form",
        "",
        "The publish form streams the messages as the broker takes them (issue 18's bound: "
        "peak RSS under 150 MB, the UI responsive). A 50 ms UI timer measures how late the "
        "event loop answers while it runs.",
        "",
        "| messages | sent | failed | seconds | msg/s | peak RSS | UI timer late (max / p99) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['messages']:,} | {r['sent']:,} | {r['failed']:,} | {r['seconds']} "
        f"| {r['per_second']:,} | {r['peak_rss_mb']} MB | {r['ui_timer_max_late_ms']} ms / "
        f"{r['ui_timer_p99_late_ms']} ms |",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2_000_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.count)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
