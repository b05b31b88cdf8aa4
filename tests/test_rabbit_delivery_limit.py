"""Quorum delivery limits can never be reached by reading (issue 17).

Repeated `peek --allow-requeue` on quorum queues with delivery limits 1, 2 and 3, set by
argument and by policy (peeking right after the policy is applied): no message is ever
dead-lettered or dropped. Each queue dead-letters into its own queue, so a message lost to
the limit would show up there. Real shared RabbitMQ; unique names, everything removed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import RABBIT_MGMT, run_cli

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
MESSAGES = 3
PEEKS = 6  # more than any limit here: without the fence the head message would be lost


async def _declare(queue: str, limit: int | None) -> None:
    import aio_pika

    async with await aio_pika.connect(AMQP, timeout=10) as connection:
        channel = await connection.channel()
        await channel.declare_queue(f"{queue}.dead", durable=True)
        arguments: dict[str, Any] = {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": f"{queue}.dead",
        }
        if limit is not None:
            arguments["x-delivery-limit"] = limit
        await channel.declare_queue(queue, durable=True, arguments=arguments)
        for i in range(MESSAGES):
            await channel.default_exchange.publish(
                aio_pika.Message(f"m{i}".encode(), message_id=f"m{i}"), routing_key=queue
            )


async def _depths(queue: str) -> tuple[int, int]:
    """(messages in the queue, messages dead-lettered) from passive declares."""
    import aio_pika

    async with await aio_pika.connect(AMQP, timeout=10) as connection:
        channel = await connection.channel()
        live = await channel.declare_queue(queue, passive=True)
        dead = await channel.declare_queue(f"{queue}.dead", passive=True)
        return (
            int(live.declaration_result.message_count or 0),
            int(dead.declaration_result.message_count or 0),
        )


async def _delete(queue: str) -> None:
    import aio_pika

    async with await aio_pika.connect(AMQP, timeout=10) as connection:
        channel = await connection.channel()
        for name in (queue, f"{queue}.dead"):
            await channel.queue_delete(name)


@pytest.fixture
def http() -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as c:
        yield c


@pytest.mark.parametrize("source", ["argument", "policy"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_repeated_peeks_never_reach_the_limit(
    limit: int, source: str, unique: str, http: Any
) -> None:
    queue = f"faults-dl-{unique}-{source}-{limit}"
    policy = f"faults-dl-{unique}-{limit}"
    try:
        asyncio.run(_declare(queue, limit if source == "argument" else None))
        if source == "policy":
            http.put(
                f"/policies/%2F/{policy}",
                json={
                    "pattern": f"^{queue}$",
                    "definition": {"delivery-limit": limit},
                    "apply-to": "queues",
                    "priority": 7,
                },
            ).raise_for_status()
        shown: list[int] = []
        refused = 0
        for _ in range(PEEKS):  # the first right after the policy was applied
            result = run_cli("peek", f"rabbitmq:{queue}", "--allow-requeue", "-n", "0",
                             "-o", "jsonl")  # fmt: skip
            assert result.exit_code in (0, 2), result.output
            assert "Traceback" not in result.stderr
            if result.exit_code == 2:
                refused += 1
                assert len([x for x in result.stderr.splitlines() if x.startswith("error:")]) == 1
                continue
            for line in result.stdout.splitlines():
                message = json.loads(line)
                count = dict(message.get("headers") or []).get("x-delivery-count") or 0
                shown.append(int(count))
            live, dead = asyncio.run(_depths(queue))
            assert (live, dead) == (MESSAGES, 0), f"after a peek: {live} left, {dead} dead"
        live, dead = asyncio.run(_depths(queue))
        assert dead == 0, f"{dead} message(s) dead-lettered by peeking (limit {limit})"
        assert live == MESSAGES
        # every message shown could be returned twice more without passing the limit
        assert all(count + 2 <= limit for count in shown), shown
        assert refused >= 1 or limit > PEEKS, "repeated peeks were never refused"
        if limit == 1:
            assert not shown  # even one return of a fresh message leaves none to spare
    finally:
        if source == "policy":
            http.delete(f"/policies/%2F/{policy}")
        asyncio.run(_delete(queue))


def test_a_policy_the_queue_has_not_picked_up_yet_is_settling(unique: str, http: Any) -> None:
    """The limit is read from the policies themselves: a queue that does not report the
    matching policy yet is 'settling' and peek refuses (exit 2), whatever the delay."""
    from mqctl.backends.rabbitmq.delivery_limit import _applying

    queue = f"faults-dl-{unique}-settle"
    policies = [
        {"name": "low", "pattern": "^faults-dl-", "apply-to": "queues", "priority": 1,
         "definition": {"delivery-limit": 9}},
        {"name": "high", "pattern": f"^{queue}$", "apply-to": "quorum_queues", "priority": 5,
         "definition": {"delivery-limit": 2}},
        {"name": "exchanges", "pattern": ".*", "apply-to": "exchanges", "priority": 99,
         "definition": {}},
    ]  # fmt: skip
    assert [p["name"] for p in _applying(policies, queue)] == ["high"]


def test_an_operator_policy_lowers_the_limit(unique: str, http: Any) -> None:
    """Argument 5, operator policy 2: the lower one counts, read from the operator policies
    themselves (the second peek stops, the third is refused; nothing dead-lettered)."""
    queue = f"faults-dl-{unique}-op"
    policy = f"faults-dl-{unique}-op"
    try:
        asyncio.run(_declare(queue, 5))
        http.put(
            f"/operator-policies/%2F/{policy}",
            json={
                "pattern": f"^{queue}$",
                "definition": {"delivery-limit": 2},
                "apply-to": "queues",
                "priority": 3,
            },
        ).raise_for_status()
        codes = []
        shown = []
        for _ in range(4):
            result = run_cli("peek", f"rabbitmq:{queue}", "--allow-requeue", "-n", "0",
                             "-o", "jsonl")  # fmt: skip
            codes.append(result.exit_code)
            shown.append(len(result.stdout.splitlines()))
        live, dead = asyncio.run(_depths(queue))
        assert (live, dead) == (MESSAGES, 0), (codes, shown)
        # (the first peeks may be refused while the operator policy settles on the queue)
        assert codes.count(0) <= 2 and max(shown) <= MESSAGES and 2 in codes, (codes, shown)
    finally:
        http.delete(f"/operator-policies/%2F/{policy}")
        asyncio.run(_delete(queue))
