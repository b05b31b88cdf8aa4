"""Users and permissions (never a password hash), nodes with their alarms, shovel status
and closing a client connection, through the management API."""

from __future__ import annotations

from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.config.secrets import redact_url
from mqctl.errors import NotFoundError
from mqctl.models.rabbitmq_admin import (
    ConnectionClose,
    NodeInfo,
    PermissionInfo,
    ShovelInfo,
    UserInfo,
)


async def list_users(api: ManagementClient) -> list[UserInfo]:
    docs = await api.get("/users")
    users = []
    for doc in docs or []:
        tags = doc.get("tags") or []
        if isinstance(tags, str):  # RabbitMQ < 3.9 answers "a,b"
            tags = [t for t in tags.split(",") if t]
        users.append(
            UserInfo(
                name=str(doc.get("name", "")),
                tags=[str(t) for t in tags],
                has_password=bool(doc.get("password_hash")),
                limits=dict(doc.get("limits") or {}),
            )
        )
    return sorted(users, key=lambda u: u.name)


async def list_permissions(
    api: ManagementClient, *, vhost: str | None, user: str | None
) -> list[PermissionInfo]:
    if user is not None:
        path = f"/users/{enc(user)}/permissions"
        await api.get(f"/users/{enc(user)}", what=f"user {user!r}")
    elif vhost is not None:
        await api.ensure_vhost(vhost)
        path = f"/vhosts/{enc(vhost)}/permissions"
    else:
        path = "/permissions"
    docs = await api.get(path)
    found = [
        PermissionInfo(
            user=str(d.get("user", "")),
            vhost=str(d.get("vhost", "")),
            configure=str(d.get("configure", "")),
            write=str(d.get("write", "")),
            read=str(d.get("read", "")),
        )
        for d in docs or []
    ]
    if vhost is not None:
        found = [p for p in found if p.vhost == vhost]
    return sorted(found, key=lambda p: (p.vhost, p.user))


def _node(doc: dict[str, Any], version: str | None) -> NodeInfo:
    def number(key: str) -> int | None:
        value = doc.get(key)
        return int(value) if isinstance(value, int | float) else None

    uptime = doc.get("uptime")
    return NodeInfo(
        name=str(doc.get("name", "")),
        running=bool(doc.get("running", False)),
        type=str(doc.get("type", "disc")),
        rabbitmq_version=version,
        erlang_version=doc.get("erlang_version") or None,
        uptime_seconds=uptime / 1000 if isinstance(uptime, int | float) else None,
        memory_used=number("mem_used"),
        memory_limit=number("mem_limit"),
        memory_alarm=bool(doc.get("mem_alarm", False)),
        disk_free=number("disk_free"),
        disk_free_limit=number("disk_free_limit"),
        disk_free_alarm=bool(doc.get("disk_free_alarm", False)),
        partitions=[str(p) for p in doc.get("partitions") or []],
        file_descriptors_used=number("fd_used"),
        file_descriptors_total=number("fd_total"),
    )


async def list_nodes(api: ManagementClient) -> list[NodeInfo]:
    """Every cluster node with memory/disk alarms and partitions. The version comes from each
    node's ``rabbit`` application (mixed versions show during a rolling upgrade), else from
    the overview; the Erlang version from the overview when the node doc lacks it."""
    docs = await api.get("/nodes")
    overview = await api.overview()
    fallback_version = overview.get("rabbitmq_version") if isinstance(overview, dict) else None
    erlang = overview.get("erlang_version") if isinstance(overview, dict) else None
    nodes = []
    for doc in docs or []:
        apps = {a.get("name"): a.get("version") for a in doc.get("applications") or []}
        node = _node(doc, apps.get("rabbit") or fallback_version)
        if node.erlang_version is None and erlang:
            node = _replace_erlang(node, str(erlang))
        nodes.append(node)
    return sorted(nodes, key=lambda n: n.name)


def _replace_erlang(node: NodeInfo, erlang: str) -> NodeInfo:
    from dataclasses import replace

    return replace(node, erlang_version=erlang)


def _endpoint(uri: Any, queue: Any, exchange: Any, key: Any) -> str | None:
    uris = uri if isinstance(uri, list) else [uri] if uri else []
    where = ", ".join(redact_url(str(u)) for u in uris) or "?"
    if queue:
        return f"{where} queue {queue}"
    if exchange is not None:
        suffix = f" key {key}" if key else ""
        return f"{where} exchange {exchange or '(default)'}{suffix}"
    return where


async def list_shovels(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool
) -> list[ShovelInfo]:
    """Shovels with their state from ``/shovels`` joined with their definitions from the
    ``shovel`` runtime parameters (a defined shovel not running anywhere shows as
    ``unknown``). Source and destination URIs never show a password."""
    target = vhost or api.settings.vhost
    if not all_vhosts:
        await api.ensure_vhost(target)
    status_path = "/shovels" if all_vhosts else f"/shovels/{enc(target)}"
    try:
        statuses = await api.get(status_path)
        params = await api.get(
            "/parameters/shovel" if all_vhosts else f"/parameters/shovel/{enc(target)}"
        )
    except NotFoundError:
        raise NotFoundError(
            f"the shovel plugin is not enabled on RabbitMQ at {api.settings.management_url}",
            hint="enable rabbitmq_shovel and rabbitmq_shovel_management",
        ) from None
    definitions = {(p.get("vhost"), p.get("name")): p.get("value") or {} for p in params or []}
    found: dict[tuple[str, str], ShovelInfo] = {}
    for doc in statuses or []:
        key = (str(doc.get("vhost", "/")), str(doc.get("name", "")))
        value = definitions.get(key, {})
        found[key] = ShovelInfo(
            name=key[1],
            vhost=key[0],
            type=str(doc.get("type", "dynamic")),
            state=str(doc.get("state", "unknown")),
            node=doc.get("node"),
            source=_endpoint(
                doc.get("src_uri") or value.get("src-uri"),
                doc.get("src_queue") or value.get("src-queue"),
                doc.get("src_exchange", value.get("src-exchange")),
                doc.get("src_exchange_key") or value.get("src-exchange-key"),
            ),
            destination=_endpoint(
                doc.get("dest_uri") or value.get("dest-uri"),
                doc.get("dest_queue") or value.get("dest-queue"),
                doc.get("dest_exchange", value.get("dest-exchange")),
                doc.get("dest_exchange_key") or value.get("dest-exchange-key"),
            ),
            reason=_reason(doc.get("reason")),
            blocked_status=doc.get("blocked_status"),
            forwarded=doc.get("forwarded") if isinstance(doc.get("forwarded"), int) else None,
        )
    for key, value in definitions.items():
        if key not in found:
            found[key] = ShovelInfo(
                name=str(key[1]),
                vhost=str(key[0]),
                type="dynamic",
                state="unknown",
                node=None,
                source=_endpoint(
                    value.get("src-uri"),
                    value.get("src-queue"),
                    value.get("src-exchange"),
                    value.get("src-exchange-key"),
                ),
                destination=_endpoint(
                    value.get("dest-uri"),
                    value.get("dest-queue"),
                    value.get("dest-exchange"),
                    value.get("dest-exchange-key"),
                ),
            )
    return sorted(found.values(), key=lambda s: (s.vhost, s.name))


def _reason(reason: Any) -> str | None:
    if not reason:
        return None
    from mqctl.config.secrets import scrub

    return scrub(" ".join(str(reason).split()))[:300]


async def close_connection(
    api: ManagementClient, name: str, *, reason: str, dry_run: bool
) -> ConnectionClose:
    """Close a client connection by its name (``connections list`` shows it); the client
    sees ``reason`` in the connection.close it gets."""
    doc = await api.get(f"/connections/{enc(name)}", what=f"connection {name!r}")
    if not dry_run:
        await api.request(
            "DELETE",
            f"/connections/{enc(name)}",
            headers={"X-Reason": reason},
            what=f"connection {name!r}",
        )
    return ConnectionClose(
        name=name,
        vhost=doc.get("vhost"),
        user=doc.get("user"),
        channels=doc.get("channels"),
        reason=reason,
        dry_run=dry_run,
    )
