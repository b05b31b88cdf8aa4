"""Vhosts, exchanges and bindings: create and delete through the management API.

Deletes say what goes with the object (a vhost's queues and messages, an exchange's
bindings) so the dry run and the confirmation can show it. Creating what already exists
with the same settings is not an error (``changed`` false), as with a passive declare; with
other settings the broker refuses (exit 2, its reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.rabbitmq_admin import BindingSpec, ExchangeSpec, TopologyChange

EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers")
DEST_TYPES = {"queue": "q", "exchange": "e"}


async def _exists(api: ManagementClient, path: str) -> Any:
    try:
        return await api.get(path)
    except NotFoundError:
        return None


async def create_vhost(
    api: ManagementClient, name: str, *, description: str | None, tags: list[str]
) -> TopologyChange:
    if not name:
        raise UsageError("a vhost name must not be empty")
    existed = await _exists(api, f"/vhosts/{enc(name)}")
    body: dict[str, Any] = {"tags": ",".join(tags)}
    if description is not None:
        body["description"] = description
    await api.request("PUT", f"/vhosts/{enc(name)}", body=body, what=f"vhost {name!r}")
    return TopologyChange("create", "vhost", name, name, False, existed is None)


async def delete_vhost(api: ManagementClient, name: str, *, dry_run: bool) -> TopologyChange:
    await api.ensure_vhost(name)
    queues = await api.get_paged(f"/queues/{enc(name)}", {"columns": "name,messages"})
    impact = {
        "queues": len(queues),
        "messages": sum(int(q.get("messages") or 0) for q in queues),
    }
    if not dry_run:
        await api.request("DELETE", f"/vhosts/{enc(name)}", what=f"vhost {name!r}")
    return TopologyChange("delete", "vhost", name, name, dry_run, True, impact)


async def create_exchange(api: ManagementClient, spec: ExchangeSpec) -> TopologyChange:
    name, exchange_type = spec.name, spec.exchange_type
    target = spec.vhost or api.settings.vhost
    if not name or name.startswith("amq."):
        raise UsageError(f"invalid exchange name {name!r} (empty, or amq.* which is reserved)")
    if exchange_type not in EXCHANGE_TYPES and not exchange_type.startswith("x-"):
        raise UsageError(
            f"unknown exchange type {exchange_type!r} (choose from "
            f"{', '.join(EXCHANGE_TYPES)}, or a plugin's x-... type)"
        )
    await api.ensure_vhost(target)
    path = f"/exchanges/{enc(target)}/{enc(name)}"
    existed = await _exists(api, path)
    await api.request(
        "PUT",
        path,
        body={
            "type": exchange_type,
            "durable": spec.durable,
            "auto_delete": spec.auto_delete,
            "internal": spec.internal,
            "arguments": dict(spec.arguments),
        },
        what=f"exchange {name!r} in vhost {target!r}",
    )
    return TopologyChange("create", "exchange", target, name, False, existed is None)


async def delete_exchange(
    api: ManagementClient, name: str, *, vhost: str | None, if_unused: bool, dry_run: bool
) -> TopologyChange:
    target = vhost or api.settings.vhost
    if not name or name.startswith("amq."):
        raise UsageError(f"exchange {name!r} is built in and cannot be deleted")
    await api.ensure_vhost(target)
    path = f"/exchanges/{enc(target)}/{enc(name)}"
    await api.get(path, what=f"exchange {name!r} in vhost {target!r}")
    outgoing = await api.get(f"{path}/bindings/source")
    incoming = await api.get(f"{path}/bindings/destination")
    impact = {"bindings": len(outgoing or []) + len(incoming or [])}
    if if_unused and impact["bindings"]:
        raise UsageError(
            f"exchange {name!r} has {impact['bindings']} binding(s): not deleted (--if-unused)"
        )
    if not dry_run:
        params = {"if-unused": "true"} if if_unused else None
        await api.request(
            "DELETE", path, params=params, what=f"exchange {name!r} in vhost {target!r}"
        )
    return TopologyChange("delete", "exchange", target, name, dry_run, True, impact)


def _binding_path(vhost: str, source: str, destination: str, destination_type: str) -> str:
    if destination_type not in DEST_TYPES:
        raise UsageError(f"destination type {destination_type!r}: choose queue or exchange")
    kind = DEST_TYPES[destination_type]
    return f"/bindings/{enc(vhost)}/e/{enc(source)}/{kind}/{enc(destination)}"


def _binding_name(source: str, destination: str, routing_key: str) -> str:
    return f"{source or '(default)'} -> {destination} [{routing_key}]"


async def _bindings(
    api: ManagementClient, path: str, routing_key: str, arguments: Mapping[str, Any]
) -> list[Any]:
    found = await api.get(path) or []
    return [
        b
        for b in found
        if b.get("routing_key") == routing_key and dict(b.get("arguments") or {}) == arguments
    ]


async def create_binding(api: ManagementClient, spec: BindingSpec) -> TopologyChange:
    source, destination, destination_type = spec.source, spec.destination, spec.destination_type
    routing_key, arguments = spec.routing_key, spec.arguments
    target = spec.vhost or api.settings.vhost
    if not source:
        raise UsageError("the default exchange binds every queue by name; pick another source")
    await api.ensure_vhost(target)
    await api.get(
        f"/exchanges/{enc(target)}/{enc(source)}", what=f"exchange {source!r} in vhost {target!r}"
    )
    dest_path = "queues" if destination_type == "queue" else "exchanges"
    await api.get(
        f"/{dest_path}/{enc(target)}/{enc(destination)}",
        what=f"{destination_type} {destination!r} in vhost {target!r}",
    )
    path = _binding_path(target, source, destination, destination_type)
    existed = await _bindings(api, path, routing_key, arguments)
    if not existed:
        await api.request(
            "POST",
            path,
            body={"routing_key": routing_key, "arguments": dict(arguments)},
            what=f"binding {_binding_name(source, destination, routing_key)}",
        )
    name = _binding_name(source, destination, routing_key)
    return TopologyChange("create", "binding", target, name, False, not existed)


async def delete_binding(
    api: ManagementClient, spec: BindingSpec, *, dry_run: bool
) -> TopologyChange:
    target = spec.vhost or api.settings.vhost
    await api.ensure_vhost(target)
    path = _binding_path(target, spec.source, spec.destination, spec.destination_type)
    name = _binding_name(spec.source, spec.destination, spec.routing_key)
    found = await _bindings(api, path, spec.routing_key, spec.arguments)
    if not found:
        raise NotFoundError(
            f"binding {name} not found in vhost {target!r} on RabbitMQ at "
            f"{api.settings.management_url}",
            hint="list them with `mqctl bindings list`",
        )
    if not dry_run:
        key = str(found[0].get("properties_key", ""))
        await api.request("DELETE", f"{path}/{enc(key)}", what=f"binding {name}")
    return TopologyChange("delete", "binding", target, name, dry_run, True)
