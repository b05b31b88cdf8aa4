"""``dlq redrive --engine shovel`` on the real RabbitMQ (the shovel plugin is enabled): a
supervised dynamic shovel moves a whole DLQ inside the broker, with the client engine's
guarantees (ack after confirm, zero-loss check, loop guard, audit, cancel)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RABBIT_MGMT, run_cli
from tests.test_dlq_support import (
    RabbitDlq,
    _audit_log,  # noqa: F401  (an autouse fixture)
    amqp_message,
    depth,
    drain,
    publish_to_queue,
    rabbit_cleanup,
    rabbit_setup,
)

pytestmark = pytest.mark.rabbitmq
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def rabbit(unique: str) -> Iterator[RabbitDlq]:
    spec = asyncio.run(rabbit_setup(f"shovel-{unique}", quorum=False))
    try:
        yield spec
    finally:
        asyncio.run(rabbit_cleanup(spec))


def mqctl_shovels() -> list[str]:
    """Names of mqctl's redrive shovels that still exist on the broker (vhost /)."""
    found = httpx.get(f"{RABBIT_MGMT}/api/parameters/shovel/%2F", auth=("guest", "guest"))
    found.raise_for_status()
    return [p["name"] for p in found.json() if p["name"].startswith("mqctl-redrive-")]


def fill(queue: str, count: int, **headers: Any) -> None:
    asyncio.run(publish_to_queue(queue, [amqp_message(n, **headers) for n in range(count)]))


def redrive(dlq: str, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dlq}", "--engine", "shovel", "-o", "json", *args)
    body = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, body, result.stderr


def test_shovel_moves_everything_marks_copies_and_audits(rabbit: RabbitDlq, tmp_path: Path):
    fill(rabbit.dlq, 60)
    code, summary, err = redrive(rabbit.dlq, "--to", rabbit.target, "--yes")
    assert code == 0, err
    assert summary["moved"] == 60 and summary["planned"] == 60 and summary["failed"] == 0
    assert summary["by_destination"] == {rabbit.target: 60}
    assert "zero-loss check: DLQ -60" in summary["note"] and "+60" in summary["note"]
    assert asyncio.run(depth(rabbit.dlq)) == 0
    copies = asyncio.run(drain(rabbit.target))
    assert sorted(m.message_id for m in copies) == [f"m-{n:05d}" for n in range(60)]
    # Order kept (one shovel, one channel), properties and headers kept, and the broker's
    # x-shovelled entry names mqctl's shovel (the loop guard counts it).
    assert [m.message_id for m in copies] == [f"m-{n:05d}" for n in range(60)]
    first = copies[0]
    assert first.headers["tenant"] == "acme" and first.content_type == "application/json"
    entries = first.headers["x-shovelled"]
    assert len(entries) == 1 and entries[0]["shovel-name"].startswith("mqctl-redrive-")
    assert mqctl_shovels() == []
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    record = records[-1]
    assert record["action"] == "dlq redrive" and record["outcome"] == "ok"
    assert record["details"]["engine"] == "shovel" and record["counts"]["moved"] == 60


def test_shovel_dry_run_and_limit(rabbit: RabbitDlq) -> None:
    fill(rabbit.dlq, 30)
    code, plan, err = redrive(rabbit.dlq, "--to", rabbit.target, "--dry-run", "--limit", "12")
    assert code == 0, err
    assert plan["dry_run"] and plan["moved"] == 12 and plan["skipped"] == {"limit": 18}
    assert asyncio.run(depth(rabbit.dlq)) == 30 and asyncio.run(depth(rabbit.target)) == 0
    code, summary, err = redrive(rabbit.dlq, "--to", rabbit.target, "--limit", "12", "--yes")
    assert code == 0, err
    assert summary["moved"] == 12 and summary["skipped"] == {"limit": 18}
    assert asyncio.run(depth(rabbit.target)) == 12 and asyncio.run(depth(rabbit.dlq)) == 18
    assert mqctl_shovels() == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--filter", "reason=x"], "--filter"),
        (["--unwrap", "payload"], "--unwrap"),
        (["--rate", "10"], "--rate"),
        (["--reset-header", "a=b"], "--reset-header"),
        ([], "needs --to"),
        (["--to", "exchange:amq.direct"], "exchange"),
    ],
)
def test_shovel_refuses_what_it_cannot_honour(rabbit: RabbitDlq, args: list[str], needle: str):
    fill(rabbit.dlq, 3)
    if args and args[0] != "--to":
        args = [*args, "--to", rabbit.target]
    code, _, err = redrive(rabbit.dlq, *args, "--yes")
    assert code == 2 and needle in err and err.startswith("error:"), err
    assert asyncio.run(depth(rabbit.dlq)) == 3 and mqctl_shovels() == []


def test_shovel_missing_destination_is_not_found(rabbit: RabbitDlq) -> None:
    fill(rabbit.dlq, 2)
    code, _, err = redrive(rabbit.dlq, "--to", f"{rabbit.target}-absent", "--yes")
    assert code == 4, err
    assert asyncio.run(depth(rabbit.dlq)) == 2 and mqctl_shovels() == []


def test_loop_guard_counts_header_and_shovel_moves(rabbit: RabbitDlq) -> None:
    fill(rabbit.dlq, 4, **{"x-mqctl-redrive-count": 3})
    code, _, err = redrive(rabbit.dlq, "--to", rabbit.target, "--yes")
    assert code == 2 and "loop guard" in err, err
    assert asyncio.run(depth(rabbit.dlq)) == 4
    # One shovel move counts as one redrive: with --max-redrives 4 the first move is allowed
    # (3 < 4), moving the copies back is refused (3 + 1 x-shovelled entry = 4).
    code, _, err = redrive(rabbit.dlq, "--to", rabbit.target, "--max-redrives", "4", "--yes")
    assert code == 0, err
    code, _, err = redrive(rabbit.target, "--to", rabbit.dlq, "--max-redrives", "4", "--yes")
    assert code == 2 and "loop guard" in err, err
    # The client engine's guard sees the shovel's moves too.
    result = run_cli(
        "dlq", "redrive", f"rabbitmq:{rabbit.target}", "--to", rabbit.dlq,
        "--max-redrives", "4", "--yes", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == {"loop-guard": 4}
    assert asyncio.run(depth(rabbit.target)) == 4


def test_ctrl_c_deletes_the_shovel_and_loses_nothing(rabbit: RabbitDlq, tmp_path: Path) -> None:
    total = 20_000
    fill(rabbit.dlq, total)
    env = {**os.environ, "MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    cmd = [sys.executable, "-m", "mqctl", "dlq", "redrive", f"rabbitmq:{rabbit.dlq}"]
    cmd += ["--to", rabbit.target, "--engine", "shovel", "--yes", "-o", "json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if mqctl_shovels() or asyncio.run(depth(rabbit.target)) > 0:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 130), err  # 0: it finished before the signal arrived
    assert mqctl_shovels() == []
    summary = json.loads(out)
    left, reached = asyncio.run(depth(rabbit.dlq)), asyncio.run(depth(rabbit.target))
    # Nothing lost: every message is in the DLQ or the target (a copy confirmed but not yet
    # acked when the shovel was deleted may be in both: a duplicate, never a loss).
    assert left + reached >= total
    assert summary["moved"] == total - left and reached >= summary["moved"]
    if proc.returncode == 130:
        assert summary["interrupted"]
        record = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
        assert record["outcome"] == "interrupted" and record["details"]["engine"] == "shovel"


def test_guard_off_moves_guarded_messages_unmarked(rabbit: RabbitDlq) -> None:
    """--max-redrives 0: no sample, no x-shovelled marking (the shovel's main cost)."""
    fill(rabbit.dlq, 5, **{"x-mqctl-redrive-count": 9})
    code, summary, err = redrive(rabbit.dlq, "--to", rabbit.target, "--max-redrives", "0", "--yes")
    assert code == 0 and summary["moved"] == 5, err
    copies = asyncio.run(drain(rabbit.target))
    assert len(copies) == 5 and all("x-shovelled" not in m.headers for m in copies)
    assert all(m.headers["x-mqctl-redrive-count"] == 9 for m in copies)


def test_kill_9_leaves_a_shovel_that_finishes_without_loss(
    rabbit: RabbitDlq, tmp_path: Path
) -> None:
    """mqctl killed mid-run: the shovel (on-confirm, src-delete-after N) still moves its N
    messages and deletes itself; nothing is lost."""
    total = 5_000
    fill(rabbit.dlq, total)
    env = {**os.environ, "MQCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    cmd = [sys.executable, "-m", "mqctl", "dlq", "redrive", f"rabbitmq:{rabbit.dlq}"]
    cmd += ["--to", rabbit.target, "--engine", "shovel", "--yes", "-o", "json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not mqctl_shovels():
            time.sleep(0.02)
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and mqctl_shovels():
        time.sleep(0.2)
    assert mqctl_shovels() == []
    left, reached = asyncio.run(depth(rabbit.dlq)), asyncio.run(depth(rabbit.target))
    assert left + reached >= total
    assert left in (0, total), (left, reached)  # the shovel moved all N, or never started


def test_a_shovel_that_cannot_be_deleted_is_named_with_how_to_stop_it(closed_port: int) -> None:
    """The management API gone at cancel time: the error says the shovel keeps running
    (on-confirm, nothing lost) and how to stop it."""
    from mqctl.backends.rabbitmq.management import ManagementClient
    from mqctl.backends.rabbitmq.settings import parse_rabbit_settings
    from mqctl.backends.rabbitmq.shovel import ShovelRedrive
    from mqctl.dlq.plan import Target
    from mqctl.errors import ConnectError
    from mqctl.models.inventory import Destination

    section = {
        "url": f"amqp://guest:guest@127.0.0.1:{closed_port}/",
        "management-url": f"http://127.0.0.1:{closed_port}",
    }
    settings = parse_rabbit_settings(section, "test")
    api = ManagementClient(settings, 2.0, "test")
    dlq = Destination("rabbitmq", "queue", "orders.dlq", "/")
    run = ShovelRedrive(settings, api, 2.0, "test", dlq, Target("queue", "orders"))

    async def delete() -> None:
        try:
            await run._delete()
        finally:
            await api.close()

    with pytest.raises(ConnectError) as caught:
        asyncio.run(delete())
    assert run.name in caught.value.message and "nothing is lost" in caught.value.message
    assert caught.value.hint is not None and "clear_parameter" in caught.value.hint


def test_quorum_dlq_needs_the_loop_guard_off(rabbit: RabbitDlq) -> None:
    """A quorum DLQ cannot be sampled safely: refused (exit 2) unless --max-redrives 0."""
    import aio_pika

    quorum = f"{rabbit.prefix}.quorum.dlq"

    async def declare() -> None:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(quorum, durable=True, arguments={"x-queue-type": "quorum"})

    asyncio.run(declare())
    rabbit.queues.append(quorum)
    fill(quorum, 3)
    code, _, err = redrive(quorum, "--to", rabbit.target, "--yes")
    assert code == 2 and "loop guard" in err, err
    assert asyncio.run(depth(quorum)) == 3
    code, summary, err = redrive(quorum, "--to", rabbit.target, "--max-redrives", "0", "--yes")
    assert code == 0 and summary["moved"] == 3, err
    assert asyncio.run(depth(rabbit.target)) == 3


def test_shovel_in_another_vhost(unique: str, isolated_config: Path) -> None:
    """The shovel's own URIs name the DLQ's vhost (percent-encoded)."""
    vhost = f"shovel vh/{unique}"
    api = f"{RABBIT_MGMT}/api"
    auth = ("guest", "guest")
    path = vhost.replace("/", "%2F").replace(" ", "%20")
    httpx.put(f"{api}/vhosts/{path}", auth=auth).raise_for_status()
    try:
        perms = {"configure": ".*", "write": ".*", "read": ".*"}
        httpx.put(f"{api}/permissions/{path}/guest", auth=auth, json=perms).raise_for_status()
        for queue in ("orders.dlq", "orders"):
            body = {"durable": True}
            httpx.put(f"{api}/queues/{path}/{queue}", auth=auth, json=body).raise_for_status()
        for n in range(7):
            message = {
                "properties": {"delivery_mode": 2, "message_id": f"m-{n}"},
                "routing_key": "orders.dlq",
                "payload": f"p{n}",
                "payload_encoding": "string",
            }
            httpx.post(
                f"{api}/exchanges/{path}/amq.default/publish", auth=auth, json=message
            ).raise_for_status()
        isolated_config.write_text(
            'current-context = "vh"\n[contexts.vh.rabbitmq]\n'
            f'url = "amqp://guest@127.0.0.1:5672/{path}"\n'
            f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\n'
        )
        result = run_cli(
            "dlq", "redrive", "rabbitmq:orders.dlq", "--to", "orders",
            "--engine", "shovel", "--yes", "-o", "json",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["moved"] == 7
        depths = httpx.get(f"{api}/queues/{path}/orders", auth=auth).json()
        deadline = time.monotonic() + 30
        while depths.get("messages") != 7 and time.monotonic() < deadline:
            time.sleep(0.5)  # the management API's counts are refreshed every few seconds
            depths = httpx.get(f"{api}/queues/{path}/orders", auth=auth).json()
        assert depths.get("messages") == 7
    finally:
        httpx.delete(f"{api}/vhosts/{path}", auth=auth)
