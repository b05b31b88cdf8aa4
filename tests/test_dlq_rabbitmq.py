"""DLQ tools against the real RabbitMQ broker, with messages dead-lettered by the broker
itself (reject, TTL expiry, max-length, quorum delivery limit)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import answer_on_a_terminal, run_cli
from tests.test_dlq_support import (
    RabbitDlq,
    _audit_log,  # noqa: F401  (an autouse fixture)
    amqp_message,
    dead_letter,
    depth,
    drain,
    publish_to_queue,
    rabbit_cleanup,
    rabbit_setup,
)

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def rabbit(unique: str) -> Iterator[RabbitDlq]:
    spec = asyncio.run(rabbit_setup(f"dlqt-{unique}"))
    try:
        yield spec
    finally:
        asyncio.run(rabbit_cleanup(spec))


@pytest.fixture
def dead(rabbit: RabbitDlq) -> RabbitDlq:
    """2 rejected, 2 expired, 1 maxlen and 1 delivery_limit message in the DLQ."""
    asyncio.run(dead_letter(rabbit, rejected=2, expired=2, maxlen=1, delivery_limit=1))
    assert asyncio.run(depth(rabbit.dlq)) == 6
    return rabbit


def inspect_json(name: str, *args: str) -> dict:
    result = run_cli("dlq", "inspect", f"rabbitmq:{name}", "-o", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_inspect_understands_every_broker_reason(dead: RabbitDlq) -> None:
    report = inspect_json(dead.dlq, "--allow-requeue")
    counts = {g["key"]: g["count"] for g in report["groups"]}
    assert counts == {"rejected": 2, "expired": 2, "maxlen": 1, "delivery_limit": 1}
    assert report["formats"]["rabbitmq-x-death"] == 6
    by_source = {g["key"]: g["count"] for g in inspect_json(dead.dlq, "-g", "source")["groups"]}
    assert by_source == {dead.work: 4, dead.small: 1, dead.quorum: 1}
    sample = report["groups"][0]["samples"][0]
    assert sample["id"].startswith("m-") and sample["failed_at"]
    # x-death decoded: counts stay numbers, times are ISO text.
    death = sample["metadata"]["x-death"][0]
    assert isinstance(death["count"], int) and isinstance(death["time"], str)
    assert sample["metadata"]["x-first-death-queue"] in {dead.work, dead.small, dead.quorum}
    # Inspect is a peek: nothing left the DLQ.
    assert asyncio.run(depth(dead.dlq)) == 6


def test_inspect_group_by_header_and_filter(dead: RabbitDlq) -> None:
    report = inspect_json(dead.dlq, "-g", "header:tenant", "--filter", "reason=expired")
    assert [(g["key"], g["count"]) for g in report["groups"]] == [("acme", 2)]


def test_list_finds_dlq_through_dead_letter_routing(dead: RabbitDlq) -> None:
    result = run_cli("dlq", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout) if r["backend"] == "rabbitmq"}
    row = rows[dead.dlq]
    assert "dead-letter-exchange" in row["detected_by"]
    assert {dead.work, dead.small, dead.quorum} <= set(row["sources"])
    assert row["oldest_age_seconds"] is not None and row["sampled"] >= 1
    assert row["top_reasons"][0]["reason"] in {"rejected", "expired", "maxlen", "delivery_limit"}
    # The work queues themselves are not DLQs.
    assert dead.work not in rows and dead.target not in rows


def test_dry_run_changes_nothing(dead: RabbitDlq) -> None:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dead.dlq}", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True and plan["moved"] == 6
    assert plan["by_destination"] == {dead.work: 4, dead.small: 1, dead.quorum: 1}
    assert asyncio.run(depth(dead.dlq)) == 6
    assert asyncio.run(depth(dead.work)) == 0


def test_redrive_moves_back_preserving_properties(dead: RabbitDlq) -> None:
    audit_log = Path(os.environ["MQCTL_AUDIT_LOG"])
    result = run_cli(
        "dlq",
        "redrive",
        f"rabbitmq:{dead.dlq}",
        "--filter",
        "source=" + dead.work,
        "--reset-header",
        "tenant=globex",
        "--yes",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 4 and summary["failed"] == 0
    assert summary["skipped"] == {"filtered": 2}
    assert asyncio.run(depth(dead.dlq)) == 2  # the other sources' messages stay, in order
    moved = asyncio.run(drain(dead.work))
    assert sorted(m.message_id for m in moved) == ["m-00000", "m-00001", "m-00002", "m-00003"]
    for m in moved:
        assert m.correlation_id == f"c-{int(m.message_id[2:])}"
        assert m.content_type == "application/json"
        assert m.delivery_mode == 2
        assert json.loads(m.body)["orderId"] == f"ord-{int(m.message_id[2:])}"
        assert m.headers["tenant"] == "globex"
        assert m.headers["x-mqctl-redrive-count"] == 1
        assert not any(k == "x-death" or k.startswith("x-first-death") for k in m.headers)
    records = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert records[-1]["action"] == "dlq redrive"
    assert records[-1]["counts"]["moved"] == 4 and records[-1]["outcome"] == "ok"
    assert records[-1]["target"] == f"rabbitmq:queue/{dead.dlq}" and records[-1]["user"]
    status = json.loads(run_cli("dlq", "status", f"rabbitmq:{dead.dlq}", "-o", "json").stdout)
    assert isinstance(status["depth"], int) and status["redriven"] == 4  # depth: mgmt API
    assert status["audit"][0]["moved"] == 4 and status["last_redrive_by"]
    assert "guest" not in json.dumps(records[-1]).replace('"user": "guest"', "")


def test_limit_and_reason_filter(dead: RabbitDlq) -> None:
    result = run_cli(
        "dlq",
        "redrive",
        f"rabbitmq:{dead.dlq}",
        "--filter",
        "reason=rejected",
        "--filter",
        "reason=expired",
        "--limit",
        "3",
        "--to",
        dead.target,
        "--yes",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 3 and "--limit 3" in summary["stopped_early"]
    moved = asyncio.run(drain(dead.target))
    assert [m.message_id for m in moved] == ["m-00000", "m-00001", "m-00002"]  # order kept
    assert asyncio.run(depth(dead.dlq)) == 3


def test_loop_guard_skips_messages_redriven_too_often(rabbit: RabbitDlq) -> None:
    asyncio.run(
        publish_to_queue(
            rabbit.dlq,
            [amqp_message(1, **{"x-mqctl-redrive-count": 3}), amqp_message(2)],
        )
    )
    args = ("dlq", "redrive", f"rabbitmq:{rabbit.dlq}", "--to", rabbit.target, "--yes")
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["moved"] == 1 and summary["skipped"] == {"loop-guard": 1}
    assert asyncio.run(depth(rabbit.dlq)) == 1
    result = run_cli(*args, "--max-redrives", "5", "-o", "json")
    assert json.loads(result.stdout)["moved"] == 1
    counts = sorted(m.headers["x-mqctl-redrive-count"] for m in asyncio.run(drain(rabbit.target)))
    assert counts == [1, 4]


def test_convention_destination_and_table_output(rabbit: RabbitDlq) -> None:
    # No x-death at all: `<prefix>.work.dlq` -> `<prefix>.work` by the naming convention.
    asyncio.run(publish_to_queue(rabbit.dlq, [amqp_message(7)]))
    result = run_cli("dlq", "redrive", f"rabbitmq:{rabbit.dlq}", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "moved 1" in result.stdout and rabbit.work in result.stdout
    assert asyncio.run(depth(rabbit.work)) == 1


def test_missing_destination_queue_is_refused_by_plan_and_run(dead: RabbitDlq) -> None:
    for mode in ("--dry-run", "--yes"):
        result = run_cli(
            "dlq", "redrive", f"rabbitmq:{dead.dlq}", "--to", dead.prefix + ".nowhere", mode
        )
        assert result.exit_code == 4, result.output
        assert "does not exist" in result.stderr and "Traceback" not in result.output
    assert asyncio.run(depth(dead.dlq)) == 6


def test_unroutable_exchange_destination_is_returned_not_lost(dead: RabbitDlq) -> None:
    # The exchange exists but nothing is bound: mandatory + confirm brings the copy back.
    result = run_cli(
        "dlq",
        "redrive",
        f"rabbitmq:{dead.dlq}",
        "--to",
        f"exchange:{dead.dlx}",
        "--filter",
        "reason=maxlen",
        "--yes",
        "-o",
        "json",
    )
    assert result.exit_code == 5
    summary = json.loads(result.stdout)
    assert summary["failed"] == 1 and "unroutable" in summary["errors"][0]
    assert asyncio.run(depth(dead.dlq)) == 6


def test_missing_exchange_destination_leaves_messages(dead: RabbitDlq) -> None:
    for mode in ("--dry-run", "--yes"):
        args = ("--to", f"exchange:{dead.prefix}.none", mode)
        result = run_cli("dlq", "redrive", f"rabbitmq:{dead.dlq}", *args)
        assert result.exit_code == 4, result.output
    assert asyncio.run(depth(dead.dlq)) == 6


def test_refuses_without_yes_when_not_interactive(dead: RabbitDlq) -> None:
    result = run_cli("dlq", "redrive", f"rabbitmq:{dead.dlq}")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert asyncio.run(depth(dead.dlq)) == 6


def test_redrive_of_a_stream_is_refused(unique: str) -> None:
    import aio_pika

    name = f"dlqt-{unique}.stream.dlq"

    async def declare(delete: bool) -> None:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            if delete:
                await channel.queue_delete(name)
            else:
                await channel.declare_queue(
                    name, durable=True, arguments={"x-queue-type": "stream"}
                )

    asyncio.run(declare(False))
    try:
        for mode in ("--yes", "--dry-run"):  # the plan refuses exactly as the run does
            result = run_cli("dlq", "redrive", f"rabbitmq:{name}", "--to", "x", mode)
            assert result.exit_code == 2, result.output
            assert "stream" in result.stderr
    finally:
        asyncio.run(declare(True))


def test_unknown_dlq_is_exit_4(unique: str) -> None:
    result = run_cli("dlq", "inspect", f"rabbitmq:dlqt-{unique}-missing")
    assert result.exit_code == 4
    result = run_cli("dlq", "redrive", f"rabbitmq:dlqt-{unique}-missing", "--yes")
    assert result.exit_code == 4


def test_broker_unreachable_is_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'[contexts.down.rabbitmq]\nurl = "amqp://guest@127.0.0.1:{closed_port}/"\n'
        f'management-url = "http://127.0.0.1:{closed_port}"\npassword = "s3cret-pw"\n'
    )
    for args in (
        ("dlq", "list"),
        ("dlq", "inspect", "rabbitmq:x.dlq"),
        ("dlq", "redrive", "rabbitmq:x.dlq", "--yes"),
        ("dlq", "redrive", "rabbitmq:x.dlq", "--dry-run"),
    ):
        result = run_cli("-c", "down", *args)
        assert result.exit_code == 3, (args, result.output)
        assert "s3cret-pw" not in result.output
        assert "Traceback" not in result.output


def test_refused_and_declined_redrives_are_audited(dead: RabbitDlq, isolated_config: Path) -> None:
    audit_log = Path(os.environ["MQCTL_AUDIT_LOG"])

    def last() -> dict:
        return [json.loads(line) for line in audit_log.read_text().splitlines()][-1]

    refused = run_cli("dlq", "redrive", f"rabbitmq:{dead.dlq}")  # no terminal, no --yes
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert (last()["action"], last()["outcome"]) == ("dlq redrive", "refused")
    declined = answer_on_a_terminal(["dlq", "redrive", f"rabbitmq:{dead.dlq}"], "n\n")
    assert declined.returncode == 6, declined
    assert b"Plan for" in declined.stdout  # the plan was shown before the question
    assert (last()["outcome"], last()["counts"]) == ("declined", {})
    isolated_config.write_text(
        '[contexts.ro]\nread-only = true\n[contexts.ro.rabbitmq]\nurl = "amqp://guest:guest@127.0.0.1:5672/"\n'
    )
    result = run_cli("-c", "ro", "dlq", "redrive", f"rabbitmq:{dead.dlq}", "--yes")
    assert result.exit_code == 2 and "read-only" in result.stderr
    assert (last()["outcome"], last()["context"]) == ("refused", "ro")
    assert asyncio.run(depth(dead.dlq)) == 6  # nothing moved by any of them
