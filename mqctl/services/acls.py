"""Kafka ACLs: list, create, delete. Creates and deletes are audited here (refusals and
declined confirmations too); a delete runs its own dry run first so the view's ``confirm``
sees exactly the ACLs it would remove. Dry runs change nothing and are not recorded."""

from __future__ import annotations

from mqctl.admin_capabilities import AclAdmin
from mqctl.audit import Confirm, target_name
from mqctl.errors import UsageError
from mqctl.models.admin import AclBinding, AclChange, AclQuery
from mqctl.services.admin_audit import audited_unless_dry_run, confirmed
from mqctl.session import Session


def _admin(session: Session, what: str) -> AclAdmin:
    _, admin = session.backend_for(AclAdmin, what)
    return admin


async def list_acls(session: Session, query: AclQuery) -> list[AclBinding]:
    return await _admin(session, "listing ACLs").list_acls(query)


def _target(resource_type: str, name: str | None) -> str:
    return target_name("kafka", f"acl-{resource_type}", name or "*")


async def create_acl(session: Session, binding: AclBinding, *, dry_run: bool) -> AclChange:
    target = _target(binding.resource_type, binding.resource_name)
    with audited_unless_dry_run(session, "acl create", target, dry_run) as act:
        act.details.update(
            principal=binding.principal,
            operation=binding.operation,
            permission=binding.permission,
            pattern_type=binding.pattern_type,
        )
        if not dry_run:
            session.check_writable(f"creating an ACL for {binding.principal}")
        change = await _admin(session, "creating ACLs").create_acl(binding, dry_run=dry_run)
        act.counts["acls"] = len(change.acls)
        return change


async def delete_acls(
    session: Session,
    query: AclQuery,
    *,
    dry_run: bool,
    confirm: Confirm[AclChange] | None = None,
) -> AclChange:
    if query.principal is None and query.resource_name is None:
        raise UsageError(
            "name a --principal or a --resource-name: a filter that matches every ACL is refused",
            hint="list them first with `mqctl acls list`",
        )
    target = _target(query.resource_type, query.resource_name)
    with audited_unless_dry_run(session, "acl delete", target, dry_run) as act:
        act.details.update(principal=query.principal, operation=query.operation)
        if not dry_run:
            session.check_writable("deleting ACLs")
        admin = _admin(session, "deleting ACLs")

        async def run(dry: bool) -> AclChange:
            return await admin.delete_acls(query, dry_run=dry)

        change = await confirmed(run, dry_run=dry_run, confirm=confirm)
        act.counts["acls"] = len(change.acls)
        return change
