"""RabbitMQ administration: policies, vhosts, exchanges, bindings, users and permissions,
nodes, shovels, federation, connections and definitions.

Every real change is audited here (services/admin_audit.py) and checks the context first
(read-only refuses, protected asks); destructive ones take the view's ``confirm`` callback,
called with their own dry run's answer. Dry runs read only and are not recorded.
"""

from __future__ import annotations

from typing import Any, TypeVar

from mqctl.admin_capabilities import (
    AccessAdmin,
    BrokerOperations,
    FederationStatus,
    PolicyAdmin,
    TopologyAdmin,
)
from mqctl.audit import Confirm, audited, target_name
from mqctl.models.rabbitmq_admin import (
    BindingSpec,
    ConnectionClose,
    DefinitionsImport,
    ExchangeSpec,
    FederationLink,
    FederationUpstream,
    NodeInfo,
    PermissionInfo,
    PluginListing,
    PolicyChange,
    PolicyInfo,
    PolicySpec,
    ShovelInfo,
    TopologyChange,
    UserInfo,
)
from mqctl.services.admin_audit import audited_unless_dry_run, confirmed
from mqctl.session import Session

T = TypeVar("T")


def _find(session: Session, capability: type[T], what: str) -> T:
    """The one backend with ``capability`` (ambiguous or missing: exit 2), typed as it."""
    return session.backend_for(capability, what)[1]


def _vhost_target(kind: str, name: str, vhost: str | None) -> str:
    where = f"{vhost}/" if vhost else ""
    return target_name("rabbitmq", kind, f"{where}{name}")


# --- policies ---------------------------------------------------------------------------


async def list_policies(
    session: Session, *, vhost: str | None, all_vhosts: bool, operator: bool | None
) -> list[PolicyInfo]:
    admin = _find(session, PolicyAdmin, "listing policies")
    return await admin.list_policies(vhost=vhost, all_vhosts=all_vhosts, operator=operator)


async def set_policy(session: Session, policy: PolicySpec, *, dry_run: bool) -> PolicyChange:
    kind = "operator policy" if policy.operator else "policy"
    target = _vhost_target(kind.replace(" ", "-"), policy.name, policy.vhost)
    with audited_unless_dry_run(session, f"{kind} set", target, dry_run) as act:
        act.details.update(
            pattern=policy.pattern, definition=policy.definition, apply_to=policy.apply_to
        )
        if not dry_run:
            session.check_writable(f"setting {kind} {policy.name!r}")
        admin = _find(session, PolicyAdmin, "setting policies")
        change = await admin.set_policy(policy, dry_run=dry_run)
        act.counts["matching_queues"] = len(change.matching_queues)
        return change


async def delete_policy(
    session: Session,
    name: str,
    *,
    vhost: str | None,
    operator: bool,
    dry_run: bool,
    confirm: Confirm[PolicyChange] | None = None,
) -> PolicyChange:
    kind = "operator policy" if operator else "policy"
    target = _vhost_target(kind.replace(" ", "-"), name, vhost)
    with audited_unless_dry_run(session, f"{kind} delete", target, dry_run):
        if not dry_run:
            session.check_writable(f"deleting {kind} {name!r}")
        admin = _find(session, PolicyAdmin, "deleting policies")

        async def run(dry: bool) -> PolicyChange:
            return await admin.delete_policy(name, vhost=vhost, operator=operator, dry_run=dry)

        return await confirmed(run, dry_run=dry_run, confirm=confirm)


# --- vhosts, exchanges, bindings --------------------------------------------------------


async def create_vhost(
    session: Session, name: str, *, description: str | None, tags: list[str]
) -> TopologyChange:
    with audited(session, "vhost create", target_name("rabbitmq", "vhost", name)) as act:
        session.check_writable(f"creating vhost {name!r}")
        admin = _find(session, TopologyAdmin, "creating vhosts")
        change = await admin.create_vhost(name, description=description, tags=tags)
        act.counts["created"] = int(change.changed)
        return change


async def delete_vhost(
    session: Session,
    name: str,
    *,
    dry_run: bool,
    confirm: Confirm[TopologyChange] | None = None,
) -> TopologyChange:
    target = target_name("rabbitmq", "vhost", name)
    with audited_unless_dry_run(session, "vhost delete", target, dry_run) as act:
        if not dry_run:
            session.check_writable(f"deleting vhost {name!r}")
        admin = _find(session, TopologyAdmin, "deleting vhosts")

        async def run(dry: bool) -> TopologyChange:
            return await admin.delete_vhost(name, dry_run=dry)

        change = await confirmed(run, dry_run=dry_run, confirm=confirm)
        act.counts.update({k: v for k, v in change.impact.items() if isinstance(v, int)})
        return change


async def create_exchange(session: Session, exchange: ExchangeSpec) -> TopologyChange:
    target = _vhost_target("exchange", exchange.name, exchange.vhost)
    with audited(session, "exchange create", target) as act:
        session.check_writable(f"creating exchange {exchange.name!r}")
        change = await _find(session, TopologyAdmin, "creating exchanges").create_exchange(exchange)
        act.counts["created"] = int(change.changed)
        return change


async def delete_exchange(
    session: Session,
    name: str,
    *,
    vhost: str | None,
    if_unused: bool,
    dry_run: bool,
    confirm: Confirm[TopologyChange] | None = None,
) -> TopologyChange:
    target = _vhost_target("exchange", name, vhost)
    with audited_unless_dry_run(session, "exchange delete", target, dry_run):
        if not dry_run:
            session.check_writable(f"deleting exchange {name!r}")
        admin = _find(session, TopologyAdmin, "deleting exchanges")

        async def run(dry: bool) -> TopologyChange:
            return await admin.delete_exchange(name, vhost=vhost, if_unused=if_unused, dry_run=dry)

        return await confirmed(run, dry_run=dry_run, confirm=confirm)


def _binding_target(binding: BindingSpec) -> str:
    return _vhost_target("binding", f"{binding.source}->{binding.destination}", binding.vhost)


async def create_binding(session: Session, binding: BindingSpec) -> TopologyChange:
    with audited(session, "binding create", _binding_target(binding)) as act:
        act.details["routing_key"] = binding.routing_key
        session.check_writable(
            f"binding {binding.destination_type} {binding.destination!r} to {binding.source!r}"
        )
        change = await _find(session, TopologyAdmin, "creating bindings").create_binding(binding)
        act.counts["created"] = int(change.changed)
        return change


async def delete_binding(
    session: Session,
    binding: BindingSpec,
    *,
    dry_run: bool,
    confirm: Confirm[TopologyChange] | None = None,
) -> TopologyChange:
    target = _binding_target(binding)
    with audited_unless_dry_run(session, "binding delete", target, dry_run) as act:
        act.details["routing_key"] = binding.routing_key
        if not dry_run:
            session.check_writable(
                f"unbinding {binding.destination!r} from exchange {binding.source!r}"
            )
        admin = _find(session, TopologyAdmin, "deleting bindings")

        async def run(dry: bool) -> TopologyChange:
            return await admin.delete_binding(binding, dry_run=dry)

        return await confirmed(run, dry_run=dry_run, confirm=confirm)


# --- users, permissions, connections ----------------------------------------------------


async def list_users(session: Session) -> list[UserInfo]:
    return await _find(session, AccessAdmin, "listing users").list_users()


async def list_permissions(
    session: Session, *, vhost: str | None, user: str | None
) -> list[PermissionInfo]:
    admin = _find(session, AccessAdmin, "listing permissions")
    return await admin.list_permissions(vhost=vhost, user=user)


async def close_connection(
    session: Session,
    name: str,
    *,
    reason: str,
    dry_run: bool,
    confirm: Confirm[ConnectionClose] | None = None,
) -> ConnectionClose:
    target = target_name("rabbitmq", "connection", name)
    with audited_unless_dry_run(session, "connection close", target, dry_run) as act:
        act.details["reason"] = reason
        if not dry_run:
            session.check_writable(f"closing connection {name!r}")
        admin = _find(session, AccessAdmin, "closing connections")

        async def run(dry: bool) -> ConnectionClose:
            return await admin.close_connection(name, reason=reason, dry_run=dry)

        return await confirmed(run, dry_run=dry_run, confirm=confirm)


# --- nodes, shovels, definitions --------------------------------------------------------


async def list_nodes(session: Session) -> list[NodeInfo]:
    return await _find(session, BrokerOperations, "listing nodes").list_nodes()


async def list_shovels(
    session: Session, *, vhost: str | None, all_vhosts: bool
) -> list[ShovelInfo]:
    return await _find(session, BrokerOperations, "listing shovels").list_shovels(
        vhost=vhost, all_vhosts=all_vhosts
    )


async def list_federation_links(
    session: Session, *, vhost: str | None, all_vhosts: bool
) -> PluginListing[FederationLink]:
    source = _find(session, FederationStatus, "listing federation links")
    return await source.list_federation_links(vhost=vhost, all_vhosts=all_vhosts)


async def list_federation_upstreams(
    session: Session, *, vhost: str | None, all_vhosts: bool
) -> PluginListing[FederationUpstream]:
    source = _find(session, FederationStatus, "listing federation upstreams")
    return await source.list_federation_upstreams(vhost=vhost, all_vhosts=all_vhosts)


async def export_definitions(
    session: Session, *, vhost: str | None, include_secrets: bool
) -> dict[str, Any]:
    ops = _find(session, BrokerOperations, "exporting definitions")
    return await ops.export_definitions(vhost=vhost, include_secrets=include_secrets)


async def import_definitions(
    session: Session,
    doc: dict[str, Any],
    *,
    source: str,
    vhost: str | None,
    dry_run: bool,
    confirm: Confirm[DefinitionsImport] | None = None,
) -> DefinitionsImport:
    target = target_name("rabbitmq", "definitions", vhost if vhost is not None else "(broker)")
    with audited_unless_dry_run(session, "definitions import", target, dry_run) as act:
        act.details["file"] = source
        if not dry_run:
            session.check_writable(f"importing definitions from {source}")
        ops = _find(session, BrokerOperations, "importing definitions")

        async def run(dry: bool) -> DefinitionsImport:
            return await ops.import_definitions(doc, source=source, vhost=vhost, dry_run=dry)

        result = await confirmed(run, dry_run=dry_run, confirm=confirm)
        act.counts.update(added=result.added, changed=result.changed)
        return result


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
