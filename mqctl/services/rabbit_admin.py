"""RabbitMQ administration: policies, vhosts, exchanges, bindings, users and permissions,
nodes, shovels, connections and definitions.

Every write checks the context first (read-only refuses, protected asks) and is recorded in
the audit log by the view's session; dry runs read only and change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from mqctl.admin_capabilities import AccessAdmin, BrokerOperations, PolicyAdmin, TopologyAdmin
from mqctl.models.rabbitmq_admin import (
    DefinitionsImport,
    NodeInfo,
    PermissionInfo,
    PolicyChange,
    PolicyInfo,
    ShovelInfo,
    TopologyChange,
    UserInfo,
)
from mqctl.session import Session

T = TypeVar("T")


def _find(session: Session, capability: type[T], what: str) -> T:
    _, found = session.backend_for(capability, what)
    return found


def _write(session: Session, action: str, dry_run: bool = False) -> None:
    if not dry_run:
        session.check_writable(action)


# --- policies ---------------------------------------------------------------------------


async def list_policies(
    session: Session, *, vhost: str | None, all_vhosts: bool, operator: bool | None
) -> list[PolicyInfo]:
    admin = _find(session, PolicyAdmin, "listing policies")  # type: ignore[type-abstract]
    return await admin.list_policies(vhost=vhost, all_vhosts=all_vhosts, operator=operator)


async def set_policy(
    session: Session,
    name: str,
    *,
    vhost: str | None,
    pattern: str,
    definition: dict[str, Any],
    priority: int,
    apply_to: str,
    operator: bool,
    dry_run: bool,
) -> PolicyChange:
    kind = "operator policy" if operator else "policy"
    _write(session, f"setting {kind} {name!r}", dry_run)
    admin = _find(session, PolicyAdmin, "setting policies")  # type: ignore[type-abstract]
    return await admin.set_policy(
        name,
        vhost=vhost,
        pattern=pattern,
        definition=definition,
        priority=priority,
        apply_to=apply_to,
        operator=operator,
        dry_run=dry_run,
    )


async def delete_policy(
    session: Session, name: str, *, vhost: str | None, operator: bool, dry_run: bool
) -> PolicyChange:
    kind = "operator policy" if operator else "policy"
    _write(session, f"deleting {kind} {name!r}", dry_run)
    admin = _find(session, PolicyAdmin, "deleting policies")  # type: ignore[type-abstract]
    return await admin.delete_policy(name, vhost=vhost, operator=operator, dry_run=dry_run)


# --- vhosts, exchanges, bindings --------------------------------------------------------


def _topology(session: Session, what: str) -> TopologyAdmin:
    return _find(session, TopologyAdmin, what)  # type: ignore[type-abstract]


async def create_vhost(
    session: Session, name: str, *, description: str | None, tags: list[str]
) -> TopologyChange:
    _write(session, f"creating vhost {name!r}")
    admin = _topology(session, "creating vhosts")
    return await admin.create_vhost(name, description=description, tags=tags)


async def delete_vhost(session: Session, name: str, *, dry_run: bool) -> TopologyChange:
    _write(session, f"deleting vhost {name!r}", dry_run)
    return await _topology(session, "deleting vhosts").delete_vhost(name, dry_run=dry_run)


async def create_exchange(
    session: Session,
    name: str,
    *,
    vhost: str | None,
    exchange_type: str,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: Mapping[str, Any],
) -> TopologyChange:
    _write(session, f"creating exchange {name!r}")
    return await _topology(session, "creating exchanges").create_exchange(
        name,
        vhost=vhost,
        exchange_type=exchange_type,
        durable=durable,
        auto_delete=auto_delete,
        internal=internal,
        arguments=arguments,
    )


async def delete_exchange(
    session: Session, name: str, *, vhost: str | None, if_unused: bool, dry_run: bool
) -> TopologyChange:
    _write(session, f"deleting exchange {name!r}", dry_run)
    return await _topology(session, "deleting exchanges").delete_exchange(
        name, vhost=vhost, if_unused=if_unused, dry_run=dry_run
    )


async def create_binding(
    session: Session,
    source: str,
    destination: str,
    *,
    vhost: str | None,
    destination_type: str,
    routing_key: str,
    arguments: Mapping[str, Any],
) -> TopologyChange:
    _write(session, f"binding {destination_type} {destination!r} to exchange {source!r}")
    return await _topology(session, "creating bindings").create_binding(
        source,
        destination,
        vhost=vhost,
        destination_type=destination_type,
        routing_key=routing_key,
        arguments=arguments,
    )


async def delete_binding(
    session: Session,
    source: str,
    destination: str,
    *,
    vhost: str | None,
    destination_type: str,
    routing_key: str,
    arguments: Mapping[str, Any],
    dry_run: bool,
) -> TopologyChange:
    action = f"unbinding {destination_type} {destination!r} from exchange {source!r}"
    _write(session, action, dry_run)
    return await _topology(session, "deleting bindings").delete_binding(
        source,
        destination,
        vhost=vhost,
        destination_type=destination_type,
        routing_key=routing_key,
        arguments=arguments,
        dry_run=dry_run,
    )


# --- users, permissions, connections ----------------------------------------------------


async def list_users(session: Session) -> list[UserInfo]:
    return await _find(session, AccessAdmin, "listing users").list_users()  # type: ignore[type-abstract]


async def list_permissions(
    session: Session, *, vhost: str | None, user: str | None
) -> list[PermissionInfo]:
    admin = _find(session, AccessAdmin, "listing permissions")  # type: ignore[type-abstract]
    return await admin.list_permissions(vhost=vhost, user=user)


async def close_connection(
    session: Session, name: str, *, reason: str, dry_run: bool
) -> dict[str, Any]:
    _write(session, f"closing connection {name!r}", dry_run)
    admin = _find(session, AccessAdmin, "closing connections")  # type: ignore[type-abstract]
    return await admin.close_connection(name, reason=reason, dry_run=dry_run)


# --- nodes, shovels, definitions --------------------------------------------------------


def _ops(session: Session, what: str) -> BrokerOperations:
    return _find(session, BrokerOperations, what)  # type: ignore[type-abstract]


async def list_nodes(session: Session) -> list[NodeInfo]:
    return await _ops(session, "listing nodes").list_nodes()


async def list_shovels(
    session: Session, *, vhost: str | None, all_vhosts: bool
) -> list[ShovelInfo]:
    return await _ops(session, "listing shovels").list_shovels(vhost=vhost, all_vhosts=all_vhosts)


async def export_definitions(
    session: Session, *, vhost: str | None, include_secrets: bool
) -> dict[str, Any]:
    ops = _ops(session, "exporting definitions")
    return await ops.export_definitions(vhost=vhost, include_secrets=include_secrets)


async def import_definitions(
    session: Session, doc: dict[str, Any], *, source: str, vhost: str | None, dry_run: bool
) -> DefinitionsImport:
    _write(session, f"importing definitions from {source}", dry_run)
    ops = _ops(session, "importing definitions")
    return await ops.import_definitions(doc, source=source, vhost=vhost, dry_run=dry_run)


DEFINITION_LISTS = (
    "vhosts",
    "users",
    "permissions",
    "topic_permissions",
    "policies",
    "parameters",
    "global_parameters",
    "queues",
    "exchanges",
    "bindings",
)


def parse_definitions(text: str, source: str) -> dict[str, Any]:
    """A definitions file as the broker exports it: a JSON object of lists."""
    import json

    from mqctl.errors import UsageError

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{source}: definitions must be a JSON object")
    wrong = [k for k in DEFINITION_LISTS if k in doc and not isinstance(doc[k], list)]
    if wrong:
        raise UsageError(f"{source}: {', '.join(wrong)} must be lists")
    if not any(k in doc for k in DEFINITION_LISTS):
        raise UsageError(
            f"{source}: no definitions in it (expected lists such as queues, exchanges, users)"
        )
    return doc
