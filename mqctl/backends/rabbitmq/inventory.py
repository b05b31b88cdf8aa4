"""Queues from the management API, as models (vhosts, exchanges, bindings and connections:
:mod:`.topology`).

Listings use paginated collection endpoints only (one request per page, never one per
queue); ``describe`` commands make a handful of requests for one object.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from mqctl.backends.rabbitmq.management import PAGE_SIZE, ManagementClient, enc
from mqctl.backends.rabbitmq.models import (
    RabbitConsumerInfo,
    RabbitQueueDetail,
)
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.inventory import (
    BindingInfo,
    QueuePage,
    QueueSummary,
)

# message_stats keys shown by `queues describe` (the API adds "<key>_details.rate").
RATE_KEYS = (
    "publish",
    "deliver_get",
    "deliver",
    "deliver_no_ack",
    "get",
    "get_no_ack",
    "ack",
    "redeliver",
)


def rate(stats: Any, key: str) -> float | None:
    if not isinstance(stats, dict):
        return None
    details = stats.get(f"{key}_details")
    if isinstance(details, dict) and isinstance(details.get("rate"), int | float):
        return float(details["rate"])
    return None


def policy_value(doc: dict[str, Any], argument: str, policy_key: str) -> Any:
    """A queue argument wins over the effective policy, as in the broker."""
    arguments = doc.get("arguments") or {}
    if argument in arguments:
        return arguments[argument]
    effective = doc.get("effective_policy_definition") or {}
    if isinstance(effective, dict):
        return effective.get(policy_key)
    return None


def delivery_limit(doc: dict[str, Any]) -> int | None:
    """A quorum queue's delivery limit; with both an argument and a policy the lower wins
    (the conservative reading: a peek must never push a message over either)."""
    found: list[int] = []
    argument = (doc.get("arguments") or {}).get("x-delivery-limit")
    effective = doc.get("effective_policy_definition") or {}
    from_policy = effective.get("delivery-limit") if isinstance(effective, dict) else None
    for value in (argument, from_policy):
        if isinstance(value, int) and not isinstance(value, bool):
            found.append(value)
    return min(found) if found else None


def head_timestamp(doc: dict[str, Any]) -> datetime | None:
    """The head message's ``timestamp`` property (classic queues; only when publishers set
    it). The broker reports it in the listing, so it costs nothing extra."""
    value = doc.get("head_message_timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def head_age(doc: dict[str, Any]) -> float | None:
    stamp = head_timestamp(doc)
    return None if stamp is None else max(0.0, time.time() - stamp.timestamp())


def queue_summary(doc: dict[str, Any], *, lean: bool = False) -> QueueSummary:
    """A listing row; ``lean``: from the lean listing, which has no consumer count (None)."""
    stats = doc.get("message_stats") or {}
    dlx = policy_value(doc, "x-dead-letter-exchange", "dead-letter-exchange")
    dlrk = policy_value(doc, "x-dead-letter-routing-key", "dead-letter-routing-key")
    return QueueSummary(
        vhost=doc.get("vhost", "/"),
        name=doc["name"],
        type=doc.get("type") or "classic",
        durable=bool(doc.get("durable", False)),
        state=str(doc.get("state", "unknown")),
        messages=int(doc.get("messages") or 0),
        ready=int(doc.get("messages_ready") or 0),
        unacked=int(doc.get("messages_unacknowledged") or 0),
        consumers=None if lean else int(doc.get("consumers") or 0),
        publish_rate=rate(stats, "publish"),
        deliver_rate=rate(stats, "deliver_get"),
        ack_rate=rate(stats, "ack"),
        policy=doc.get("policy") or None,
        dead_letter_exchange=dlx if isinstance(dlx, str) else None,
        dead_letter_routing_key=dlrk if isinstance(dlrk, str) else None,
        arguments=dict(doc.get("arguments") or {}),
        backend="rabbitmq",
    )


# Only what the listings, lag and DLQ discovery read: a quarter of the full documents' size,
# which matters with thousands of queues (the broker renders less, we parse less).
QUEUE_COLUMNS = ",".join(
    [
        "name", "vhost", "type", "durable", "auto_delete", "exclusive", "state", "node",
        "messages", "messages_ready", "messages_unacknowledged", "consumers", "policy",
        "arguments", "effective_policy_definition", "head_message_timestamp",
        "message_stats.publish_details.rate", "message_stats.deliver_get_details.rate",
        "message_stats.ack_details.rate",
    ]
)  # fmt: skip


# The lean listing: no per-queue message stats (rates), but the depth totals. The broker
# then skips its stats database, which is what makes listing thousands of queues slow. It
# has no policy, consumer count or head timestamp either, so only what queue_summary reads
# of the rest is asked for (less for the broker to render and for us to parse).
LEAN_QUEUE_COLUMNS = ",".join(
    [
        "name", "vhost", "type", "durable", "state", "messages", "messages_ready",
        "messages_unacknowledged", "arguments",
    ]
)  # fmt: skip
LEAN_PARAMS = {"disable_stats": "true", "enable_queue_totals": "true"}


async def _queues_path(api: ManagementClient, *, vhost: str | None, all_vhosts: bool) -> str:
    if all_vhosts:
        return "/queues"
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    return f"/queues/{enc(target)}"


async def queue_docs(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool, stats: bool = True
) -> list[dict[str, Any]]:
    """Raw queue documents of one vhost or all of them, page by page.

    ``stats=False`` asks for the lean listing (depths; no rates, consumer count, policy or
    head timestamp) in one request: the broker builds the lean
    listing in full for every page requested, so pages would cost more, not less (5,000
    queues: ~0.3 s unpaged, ~1 s in pages of 500, ~0.7-0.8 s with stats)."""
    path = await _queues_path(api, vhost=vhost, all_vhosts=all_vhosts)
    if not stats:
        docs = await api.get(path, {"columns": LEAN_QUEUE_COLUMNS, **LEAN_PARAMS})
        if isinstance(docs, dict):  # a paginated answer after all
            docs = docs.get("items", [])
        return [d for d in docs if isinstance(d, dict)]
    return await api.get_paged(path, {"columns": QUEUE_COLUMNS})


async def list_queues(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool, stats: bool = True
) -> list[QueueSummary]:
    """``stats=False``: depths; rates and consumers ``None`` (not known), no policy (see
    :func:`queue_docs`)."""
    docs = await queue_docs(api, vhost=vhost, all_vhosts=all_vhosts, stats=stats)
    rows = (queue_summary(d, lean=not stats) for d in docs)
    return sorted(rows, key=attrgetter("vhost", "name"))


async def queue_page(
    api: ManagementClient, page: int, *, vhost: str | None, all_vhosts: bool
) -> QueuePage:
    """One page (PAGE_SIZE queues, with stats) in the broker's order (vhost, name): a page
    costs the broker about a fifth of the whole listing with stats at 5,000 queues."""
    path = await _queues_path(api, vhost=vhost, all_vhosts=all_vhosts)
    params = {"columns": QUEUE_COLUMNS, "page_size": PAGE_SIZE}
    try:
        doc = await api.get(path, {**params, "page": max(1, page)})
    except UsageError as exc:
        if "page out of range" not in str(exc).lower():
            raise
        page, doc = 1, await api.get(path, {**params, "page": 1})  # the listing shrank
    if isinstance(doc, list):  # a broker without pagination: everything is page 1
        return QueuePage([queue_summary(d) for d in doc if isinstance(d, dict)], 1, 1)
    items = [d for d in doc.get("items", []) if isinstance(d, dict)]
    count = int(doc.get("page_count") or 1)
    return QueuePage([queue_summary(d) for d in items], int(doc.get("page") or page), count)


async def queue_doc(api: ManagementClient, name: str, vhost: str) -> dict[str, Any]:
    doc = await api.get(
        f"/queues/{enc(vhost)}/{enc(name)}", what=f"queue {name!r} in vhost {vhost!r}"
    )
    if not isinstance(doc, dict):
        raise NotFoundError(f"queue {name!r} in vhost {vhost!r} not found")
    return doc


def consumer(doc: dict[str, Any]) -> RabbitConsumerInfo:
    channel = doc.get("channel_details") or {}
    port = channel.get("peer_port")
    number = channel.get("number")
    return RabbitConsumerInfo(
        consumer_tag=str(doc.get("consumer_tag", "")),
        channel=str(channel.get("name", "")),
        connection=channel.get("connection_name"),
        client_host=channel.get("peer_host"),
        ack_required=bool(doc.get("ack_required", False)),
        prefetch_count=int(doc.get("prefetch_count") or 0),
        active=bool(doc.get("active", True)),
        channel_number=number if isinstance(number, int) else None,
        user=channel.get("user"),
        peer_port=port if isinstance(port, int) else None,
        exclusive=bool(doc.get("exclusive", False)),
        arguments=dict(doc.get("arguments") or {}),
    )


async def describe_queue(api: ManagementClient, name: str, vhost: str | None) -> RabbitQueueDetail:
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    doc, bindings = await asyncio.gather(
        queue_doc(api, name, target),
        api.get(
            f"/queues/{enc(target)}/{enc(name)}/bindings",
            what=f"queue {name!r} in vhost {target!r}",
        ),
    )
    summary = queue_summary(doc)
    dead_letter: list[BindingInfo] = []
    if summary.dead_letter_exchange:
        dead_letter = await _dead_letter_route(api, target, summary)
    stats = doc.get("message_stats") or {}
    rates = {key: r for key in RATE_KEYS if (r := rate(stats, key)) is not None}
    effective = doc.get("effective_policy_definition")
    memory = doc.get("memory")
    return RabbitQueueDetail(
        queue=summary,
        effective_policy=effective if isinstance(effective, dict) else {},
        delivery_limit=delivery_limit(doc),
        consumer_details=[consumer(c) for c in doc.get("consumer_details") or []],
        bindings_in=[binding(b) for b in bindings],
        node=doc.get("node"),
        head_message_age_seconds=head_age(doc),
        dead_letter_bindings=dead_letter,
        message_rates=rates,
        head_message_timestamp=head_timestamp(doc),
        exclusive=bool(doc.get("exclusive", False)),
        auto_delete=bool(doc.get("auto_delete", False)),
        memory_bytes=memory if isinstance(memory, int) else None,
    )


async def _dead_letter_route(
    api: ManagementClient, vhost: str, queue: QueueSummary
) -> list[BindingInfo]:
    """Where this queue's dead letters go: the bindings out of its dead-letter exchange.

    The default exchange ("") routes straight to the queue named by the routing key, so it is
    shown as that one implicit binding. For other exchanges every binding is listed (which
    of them match depends on the exchange type and the dead-letter routing key shown next
    to them).
    """
    dlx = queue.dead_letter_exchange or ""
    if dlx == "":
        target = queue.dead_letter_routing_key or queue.name
        return [BindingInfo(vhost, "", target, "queue", target)]
    try:
        docs = await api.get(f"/exchanges/{enc(vhost)}/{enc(dlx)}/bindings/source")
    except NotFoundError:
        return []  # the DLX does not exist: dead letters are dropped (no route to show)
    return [binding(d) for d in docs]


def binding(doc: dict[str, Any]) -> BindingInfo:
    return BindingInfo(
        vhost=doc.get("vhost", "/"),
        source=doc.get("source", ""),
        destination=doc.get("destination", ""),
        destination_type=doc.get("destination_type", "queue"),
        routing_key=doc.get("routing_key", ""),
        arguments=dict(doc.get("arguments") or {}),
    )


async def find_queue(api: ManagementClient, name: str, vhost: str | None) -> bool:
    target = vhost or api.settings.vhost
    try:
        await api.get(f"/queues/{enc(target)}/{enc(name)}")
    except NotFoundError:
        return False
    return True
