"""Live consumers that make the seeded scenario look like a running system.

After `make seed` two services are "running": `inventory-group` consumes `order.created` and
commits as it goes (caught up, status OK), and `notification-group` has a member that is
stuck: it holds its partitions but makes no progress (lag stays, status LAGGING; STALL over a
window). `analytics-group` has no member at all (STOPPED). Without these processes every
seeded group would have no members, and a group with lag and no members is STOPPED.

Usage: .venv/bin/python scripts/scenario_consumers.py up|down|status
A daemon with a pid file in .run/scenario/; `down` stops only that pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run" / "scenario"
PID = RUN / "consumers.pid"
LOG = RUN / "consumers.log"
KAFKA = "127.0.0.1:9092"
TOPIC = "order.created"


def _pid() -> int | None:
    try:
        pid = int(PID.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


async def _serve() -> None:
    from aiokafka import AIOKafkaConsumer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    inventory = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=KAFKA,
        group_id="inventory-group",
        client_id="inventory-service",
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    notification = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=KAFKA,
        group_id="notification-group",
        client_id="notification-service",
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await inventory.start()
    await notification.start()
    try:
        while not stop.is_set():
            # inventory-service: consume and commit, so it stays caught up.
            batch = await inventory.getmany(timeout_ms=500)
            if batch:
                await inventory.commit()
            # notification-service: stuck on a slow downstream; it keeps its partitions
            # (polling keeps the membership alive) but never processes or commits.
            assigned = notification.assignment()
            if assigned:
                notification.pause(*assigned)
            await notification.getmany(timeout_ms=100)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        await notification.stop()
        await inventory.stop()


def up() -> int:
    if _pid() is not None:
        print(f"scenario consumers already running (pid {_pid()})")
        return 0
    RUN.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, __file__, "serve"],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    PID.write_text(f"{proc.pid}\n")
    time.sleep(0.5)
    if proc.poll() is not None:
        print(f"scenario consumers failed to start; see {LOG}", file=sys.stderr)
        return 1
    print(f"scenario consumers started (pid {proc.pid})")
    return 0


def down() -> int:
    pid = _pid()
    if pid is None:
        PID.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    PID.unlink(missing_ok=True)
    print(f"scenario consumers stopped (pid {pid})")
    return 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "serve":
        asyncio.run(_serve())
        return 0
    if command == "up":
        return up()
    if command == "down":
        return down()
    pid = _pid()
    print(f"scenario  {'up' if pid else 'down'}  pid {pid or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
