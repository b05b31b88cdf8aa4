"""RabbitMQ dead-letter queues: discovery from dead-letter routing and names.

A queue is a DLQ when another queue's dead-letter exchange (queue argument
``x-dead-letter-exchange`` or the ``dead-letter-exchange`` key of its effective policy)
routes to it: we follow the exchange's bindings with the dead-letter routing key (or any key
when none is set, since the broker then keeps the message's own keys), through
exchange-to-exchange bindings too. Queues whose names match a DLQ pattern count as well.
Everything comes from the management API in three listings, never one request per queue.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mqctl.backends.rabbitmq.inventory import queue_summary
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.dlq import discovery
from mqctl.dlq.models import Candidate
from mqctl.dlq.plan import Target
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.inventory import Destination, QueueSummary

MAX_HOPS = 5  # exchange-to-exchange bindings followed at most this deep


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more words."""
    words, parts = pattern.split("."), key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(words):
            return j == len(parts)
        if words[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(parts) + 1))
        if j == len(parts):
            return False
        return (words[i] == "*" or words[i] == parts[j]) and match(i + 1, j + 1)

    return match(0, 0)


def route(
    exchange: str,
    routing_key: str | None,
    exchange_types: dict[str, str],
    bindings: list[dict[str, Any]],
    hops: int = 0,
) -> set[str]:
    """Queues a message published to ``exchange`` may reach (``routing_key`` None: any)."""
    if exchange == "":
        return {routing_key} if routing_key else set()
    kind = exchange_types.get(exchange, "direct")
    found: set[str] = set()
    for b in bindings:
        if b.get("source") != exchange:
            continue
        key = str(b.get("routing_key", ""))
        if routing_key is not None:
            if kind == "direct" and key != routing_key:
                continue
            if kind == "topic" and not topic_matches(key, routing_key):
                continue
        destination = str(b.get("destination", ""))
        if b.get("destination_type") == "exchange":
            if hops < MAX_HOPS and destination != exchange:
                found |= route(destination, routing_key, exchange_types, bindings, hops + 1)
        else:
            found.add(destination)
    return found


async def discover(api: ManagementClient, vhost: str, patterns: tuple[str, ...]) -> list[Candidate]:
    await api.ensure_vhost(vhost)
    queue_docs, binding_docs, exchange_docs = await asyncio.gather(
        api.get_paged(f"/queues/{enc(vhost)}"),
        api.get(f"/bindings/{enc(vhost)}"),
        api.get_paged(f"/exchanges/{enc(vhost)}"),
    )
    queues: dict[str, QueueSummary] = {q.name: q for q in map(queue_summary, queue_docs)}
    types = {str(e.get("name", "")): str(e.get("type", "direct")) for e in exchange_docs}
    bindings = list(binding_docs)
    sources: dict[str, list[str]] = {}
    for queue in queues.values():
        if queue.dead_letter_exchange is None:
            continue
        for target in route(
            queue.dead_letter_exchange, queue.dead_letter_routing_key, types, bindings
        ):
            if target in queues and target != queue.name:
                sources.setdefault(target, []).append(queue.name)
    every = (*patterns, *discovery.RABBITMQ_PATTERNS)
    candidates = []
    for name, queue in sorted(queues.items()):
        detected = []
        if name in sources:
            detected.append("dead-letter-exchange")
        if discovery.matching_pattern(name, every):
            detected.append("name")
        if not detected:
            continue
        known = sorted(sources.get(name, []))
        derived = discovery.source_from_name(name, every)
        if not known and derived and derived in queues:
            known.append(derived)
        candidates.append(
            Candidate(
                backend="rabbitmq",
                kind="queue",
                name=name,
                vhost=queue.vhost,
                depth=queue.messages,
                queue_type=queue.type,
                detected_by=detected,
                sources=known,
            )
        )
    return candidates


async def missing_target(api: ManagementClient, vhost: str, target: Target) -> str | None:
    """Why a redrive cannot send to ``target``: it does not exist (None: it does).

    Publishing to a missing exchange would close the publishing channel and fail every
    message in flight, so exchanges are checked before the first publish; a missing queue
    behind the default exchange is also caught by ``mandatory`` (returned)."""
    if target.kind == "exchange" and not target.name:  # the default exchange always exists
        return None
    kind = "exchanges" if target.kind == "exchange" else "queues"
    what = f"{target.kind} {target.name!r} in vhost {vhost!r}"
    try:
        await api.get(f"/{kind}/{enc(vhost)}/{enc(target.name)}", what=what)
    except NotFoundError:
        return f"{what} does not exist"
    return None


async def check_redrive(
    api: ManagementClient, default_vhost: str, dlq: Destination, targets: list[Target]
) -> dict[tuple[str, str], str | None]:
    """What a plan and a run refuse alike: a stream DLQ (exit 2); and per destination, why
    it cannot take messages (it does not exist; the run fails those messages the same way)."""
    vhost = dlq.vhost or default_vhost
    doc = await api.get(
        f"/queues/{enc(vhost)}/{enc(dlq.name)}", what=f"queue {dlq.name!r} in vhost {vhost!r}"
    )
    if doc.get("type") == "stream":
        raise UsageError(
            f"{dlq.name!r} is a stream: reading a stream never removes messages, so "
            f"it cannot be redriven (use --to with a queue that streams into it instead)"
        )
    found = await asyncio.gather(*(missing_target(api, vhost, t) for t in targets))
    return {(t.kind, t.name): error for t, error in zip(targets, found, strict=True)}
