"""Queues, vhosts, exchanges and bindings from the management API, as core models."""

from __future__ import annotations

import asyncio
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import NotFoundError
from mqctl.models.inventory import (
    BindingInfo,
    ConsumerInfo,
    ExchangeInfo,
    QueueDetail,
    QueueSummary,
    VhostInfo,
)


def _rate(stats: Any, key: str) -> float | None:
    if not isinstance(stats, dict):
        return None
    details = stats.get(f"{key}_details")
    if isinstance(details, dict) and isinstance(details.get("rate"), int | float):
        return float(details["rate"])
    return None


def _policy_value(doc: dict[str, Any], argument: str, policy_key: str) -> Any:
    """A queue argument wins over the effective policy, as in the broker."""
    arguments = doc.get("arguments") or {}
    if argument in arguments:
        return arguments[argument]
    effective = doc.get("effective_policy_definition") or {}
    if isinstance(effective, dict):
        return effective.get(policy_key)
    return None


def queue_summary(doc: dict[str, Any]) -> QueueSummary:
    stats = doc.get("message_stats") or {}
    dlx = _policy_value(doc, "x-dead-letter-exchange", "dead-letter-exchange")
    dlrk = _policy_value(doc, "x-dead-letter-routing-key", "dead-letter-routing-key")
    return QueueSummary(
        vhost=doc.get("vhost", "/"),
        name=doc["name"],
        type=doc.get("type") or "classic",
        durable=bool(doc.get("durable", False)),
        state=str(doc.get("state", "unknown")),
        messages=int(doc.get("messages") or 0),
        ready=int(doc.get("messages_ready") or 0),
        unacked=int(doc.get("messages_unacknowledged") or 0),
        consumers=int(doc.get("consumers") or 0),
        publish_rate=_rate(stats, "publish"),
        deliver_rate=_rate(stats, "deliver_get"),
        ack_rate=_rate(stats, "ack"),
        policy=doc.get("policy") or None,
        dead_letter_exchange=dlx if isinstance(dlx, str) else None,
        dead_letter_routing_key=dlrk if isinstance(dlrk, str) else None,
        arguments=dict(doc.get("arguments") or {}),
        backend="rabbitmq",
    )


async def list_queues(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[QueueSummary]:
    if all_vhosts:
        docs = await api.get_paged("/queues")
    else:
        target = vhost or api.settings.vhost
        await api.ensure_vhost(target)
        docs = await api.get_paged(f"/queues/{enc(target)}")
    return sorted((queue_summary(d) for d in docs), key=lambda q: (q.vhost, q.name))


async def describe_queue(api: ManagementClient, name: str, vhost: str | None) -> QueueDetail:
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    what = f"queue {name!r} in vhost {target!r}"
    doc, bindings = await asyncio.gather(
        api.get(f"/queues/{enc(target)}/{enc(name)}", what=what),
        api.get(f"/queues/{enc(target)}/{enc(name)}/bindings", what=what),
    )
    consumers = []
    for c in doc.get("consumer_details") or []:
        channel = c.get("channel_details") or {}
        consumers.append(
            ConsumerInfo(
                consumer_tag=str(c.get("consumer_tag", "")),
                channel=str(channel.get("name", "")),
                connection=channel.get("connection_name"),
                client_host=channel.get("peer_host"),
                ack_required=bool(c.get("ack_required", False)),
                prefetch_count=int(c.get("prefetch_count") or 0),
                active=bool(c.get("active", True)),
            )
        )
    limit = _policy_value(doc, "x-delivery-limit", "delivery-limit")
    effective = doc.get("effective_policy_definition")
    return QueueDetail(
        queue=queue_summary(doc),
        effective_policy=effective if isinstance(effective, dict) else {},
        delivery_limit=int(limit) if isinstance(limit, int) else None,
        consumer_details=consumers,
        bindings_in=[binding(b) for b in bindings],
        node=doc.get("node"),
        head_message_age_seconds=None,
    )


def binding(doc: dict[str, Any]) -> BindingInfo:
    return BindingInfo(
        vhost=doc.get("vhost", "/"),
        source=doc.get("source", ""),
        destination=doc.get("destination", ""),
        destination_type=doc.get("destination_type", "queue"),
        routing_key=doc.get("routing_key", ""),
        arguments=dict(doc.get("arguments") or {}),
    )


async def list_vhosts(api: ManagementClient) -> list[VhostInfo]:
    docs = await api.get("/vhosts")
    return sorted(
        (
            VhostInfo(
                name=d["name"],
                description=str(d.get("description") or ""),
                messages=int(d.get("messages") or 0),
                ready=int(d.get("messages_ready") or 0),
                unacked=int(d.get("messages_unacknowledged") or 0),
                tracing=bool(d.get("tracing", False)),
            )
            for d in docs
        ),
        key=lambda v: v.name,
    )


async def list_exchanges(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[ExchangeInfo]:
    if all_vhosts:
        docs = await api.get_paged("/exchanges")
    else:
        target = vhost or api.settings.vhost
        await api.ensure_vhost(target)
        docs = await api.get_paged(f"/exchanges/{enc(target)}")
    return [
        ExchangeInfo(
            vhost=d.get("vhost", "/"),
            name=d.get("name", ""),
            type=d.get("type", ""),
            durable=bool(d.get("durable", False)),
            auto_delete=bool(d.get("auto_delete", False)),
            internal=bool(d.get("internal", False)),
            arguments=dict(d.get("arguments") or {}),
        )
        for d in docs
    ]


async def list_bindings(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[BindingInfo]:
    if all_vhosts:
        docs = await api.get("/bindings")
    else:
        target = vhost or api.settings.vhost
        await api.ensure_vhost(target)
        docs = await api.get(f"/bindings/{enc(target)}")
    return [binding(d) for d in docs]


async def find_queue(api: ManagementClient, name: str, vhost: str | None) -> bool:
    target = vhost or api.settings.vhost
    try:
        await api.get(f"/queues/{enc(target)}/{enc(name)}")
    except NotFoundError:
        return False
    return True
