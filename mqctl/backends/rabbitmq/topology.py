"""Vhosts, exchanges, bindings and connections from the management API, as models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from mqctl.backends.rabbitmq.inventory import binding, rate
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.models.inventory import (
    BindingInfo,
    ConnectionInfo,
    ExchangeDetail,
    ExchangeInfo,
    VhostInfo,
)


async def list_vhosts(api: ManagementClient) -> list[VhostInfo]:
    docs = await api.get_paged("/vhosts")
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


def exchange(doc: dict[str, Any]) -> ExchangeInfo:
    return ExchangeInfo(
        vhost=doc.get("vhost", "/"),
        name=doc.get("name", ""),
        type=doc.get("type", ""),
        durable=bool(doc.get("durable", False)),
        auto_delete=bool(doc.get("auto_delete", False)),
        internal=bool(doc.get("internal", False)),
        arguments=dict(doc.get("arguments") or {}),
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
    return sorted((exchange(d) for d in docs), key=lambda e: (e.vhost, e.name))


async def describe_exchange(api: ManagementClient, name: str, vhost: str | None) -> ExchangeDetail:
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    # The default exchange is "" in the API but users call it "(default)" or "amq.default".
    bare = "" if name in ("(default)", "amq.default") else name
    what = f"exchange {name!r} in vhost {target!r}"
    path = f"/exchanges/{enc(target)}/{enc(bare) if bare else 'amq.default'}"
    doc, out, inbound = await asyncio.gather(
        api.get(path, what=what),
        api.get(f"{path}/bindings/source", what=what),
        api.get(f"{path}/bindings/destination", what=what),
    )
    stats = doc.get("message_stats") or {}
    return ExchangeDetail(
        exchange=exchange(doc),
        policy=doc.get("policy") or None,
        bindings_in=[binding(b) for b in inbound],
        bindings_out=[binding(b) for b in out],
        publish_in_rate=rate(stats, "publish_in"),
        publish_out_rate=rate(stats, "publish_out"),
    )


async def list_bindings(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[BindingInfo]:
    # /bindings is not paginated by the API; it is one request either way.
    if all_vhosts:
        docs = await api.get("/bindings")
    else:
        target = vhost or api.settings.vhost
        await api.ensure_vhost(target)
        docs = await api.get(f"/bindings/{enc(target)}")
    return [binding(d) for d in docs]


def connection(doc: dict[str, Any]) -> ConnectionInfo:
    client = doc.get("client_properties") or {}
    product = " ".join(str(client[k]) for k in ("product", "version") if client.get(k))
    connected = doc.get("connected_at")
    port = doc.get("peer_port")
    return ConnectionInfo(
        name=str(doc.get("name", "")),
        vhost=str(doc.get("vhost", "/")),
        user=str(doc.get("user", "")),
        state=str(doc.get("state", "unknown")),
        protocol=str(doc.get("protocol", "")),
        client=product,
        connection_name=client.get("connection_name") or doc.get("user_provided_name"),
        peer_host=doc.get("peer_host"),
        peer_port=port if isinstance(port, int) else None,
        channels=int(doc.get("channels") or 0),
        tls=bool(doc.get("ssl", False)),
        connected_at=(
            datetime.fromtimestamp(connected / 1000, UTC)
            if isinstance(connected, int | float)
            else None
        ),
        recv_rate=rate(doc, "recv_oct"),
        send_rate=rate(doc, "send_oct"),
        client_properties=_plain_properties(client),
    )


def _plain_properties(client: dict[str, Any]) -> dict[str, Any]:
    """What the client library reports about itself (product, platform, connection name,
    capabilities ...); values that could carry credentials are left out."""
    from mqctl.config.secrets import scrub

    return {
        str(k): scrub(v) if isinstance(v, str) else v
        for k, v in client.items()
        if not any(word in str(k).lower() for word in ("password", "secret", "token"))
    }


async def list_connections(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[ConnectionInfo]:
    docs = await api.get_paged("/connections")
    found = [connection(d) for d in docs]
    if not all_vhosts:
        target = vhost or api.settings.vhost
        await api.ensure_vhost(target)
        found = [c for c in found if c.vhost == target]
    return sorted(found, key=lambda c: (c.vhost, c.name))
