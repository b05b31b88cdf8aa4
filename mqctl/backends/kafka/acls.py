"""Kafka ACLs: list, create, delete (DescribeAcls, CreateAcls, DeleteAcls v1).

Names are the ones kafka-acls uses (read, write, describe, ...; topic, group, cluster ...;
literal, prefixed), matched case-insensitively. A filter leaves unknown parts out ("any").
The delete dry run is the same filter through DescribeAcls, so it lists exactly what the
real delete removes. A cluster without an authorizer answers SECURITY_DISABLED: that is
"not supported" (exit 2) with the broker setting to change.
"""

from __future__ import annotations

from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.errors import AuthError, BrokerError, NotFoundError, NotSupportedError, UsageError
from mqctl.models.admin import AclBinding, AclChange, AclQuery

ANY = 1
RESOURCE_TYPES = {
    "any": 1,
    "topic": 2,
    "group": 3,
    "cluster": 4,
    "transactional-id": 5,
    "delegation-token": 6,
    "user": 7,
}
PATTERN_TYPES = {"any": 1, "match": 2, "literal": 3, "prefixed": 4}
OPERATIONS = {
    "any": 1,
    "all": 2,
    "read": 3,
    "write": 4,
    "create": 5,
    "delete": 6,
    "alter": 7,
    "describe": 8,
    "cluster-action": 9,
    "describe-configs": 10,
    "alter-configs": 11,
    "idempotent-write": 12,
    "create-tokens": 13,
    "describe-tokens": 14,
}
PERMISSIONS = {"any": 1, "deny": 2, "allow": 3}
SECURITY_DISABLED = 54
CLUSTER_AUTHORIZATION_FAILED = 31
INVALID_REQUEST = 42


def _code(table: dict[str, int], value: str, what: str) -> int:
    key = value.strip().lower().replace("_", "-")
    if key not in table:
        raise UsageError(f"{what} {value!r}: choose from {', '.join(table)}")
    return table[key]


def _name(table: dict[str, int], code: int) -> str:
    return next((k for k, v in table.items() if v == code), str(code))


def request_args(query: AclQuery) -> tuple[Any, ...]:
    """The filter fields of the Describe/DeleteAcls requests (also a CreateAcls entry)."""
    return (
        _code(RESOURCE_TYPES, query.resource_type, "resource type"),
        query.resource_name,
        _code(PATTERN_TYPES, query.pattern_type, "pattern type"),
        query.principal,
        query.host,
        _code(OPERATIONS, query.operation, "operation"),
        _code(PERMISSIONS, query.permission, "permission"),
    )


def _check(code: int, message: str | None, conn: KafkaConnection, what: str) -> None:
    if not code:
        return
    reason = (message or "").strip()
    if code == SECURITY_DISABLED:
        raise NotSupportedError(
            f"Kafka at {conn.settings.address} has no authorizer: ACLs are not enabled",
            hint="set authorizer.class.name (StandardAuthorizer on KRaft) on the brokers",
        )
    if code == CLUSTER_AUTHORIZATION_FAILED:
        raise AuthError(f"Kafka at {conn.settings.address} does not let this user {what}")
    if code == INVALID_REQUEST:
        raise UsageError(f"{what}: {reason or 'the broker refused the ACL as invalid'}")
    from aiokafka.errors import for_code

    raise BrokerError(f"{what}: {for_code(code).__name__} {reason}".strip())


async def _send(conn: KafkaConnection, request: Any, what: str) -> Any:
    client = await conn.client()
    return await conn.call(client.send(client.get_random_node(), request), what)


def _binding(resource: Any, acl: Any) -> AclBinding:
    rtype, rname, ptype = resource
    principal, host, operation, permission = acl
    return AclBinding(
        principal=principal,
        host=host,
        operation=_name(OPERATIONS, operation),
        permission=_name(PERMISSIONS, permission),
        resource_type=_name(RESOURCE_TYPES, rtype),
        resource_name=rname,
        pattern_type=_name(PATTERN_TYPES, ptype),
    )


async def list_acls(conn: KafkaConnection, acl_filter: AclQuery) -> list[AclBinding]:
    from aiokafka.protocol.admin import DescribeAclsRequest

    request = DescribeAclsRequest(*request_args(acl_filter))
    response = await _send(conn, request, "DescribeAcls request")
    _check(response.error_code, response.error_message, conn, "listing ACLs")
    found = [_binding((r[0], r[1], r[2]), tuple(acl)) for r in response.resources for acl in r[3]]
    return sorted(found, key=lambda b: (b.resource_type, b.resource_name, b.principal, b.operation))


def _exact(binding: AclBinding) -> AclQuery:
    for field, value in (
        ("resource type", binding.resource_type),
        ("pattern type", binding.pattern_type),
        ("operation", binding.operation),
        ("permission", binding.permission),
    ):
        if value in ("any", "match"):
            raise UsageError(f"an ACL needs a concrete {field}, not {value!r}")
    if not binding.principal or ":" not in binding.principal:
        raise UsageError(f"principal {binding.principal!r}: expected TYPE:NAME, e.g. User:alice")
    return AclQuery(
        principal=binding.principal,
        host=binding.host,
        operation=binding.operation,
        permission=binding.permission,
        resource_type=binding.resource_type,
        resource_name=binding.resource_name,
        pattern_type=binding.pattern_type,
    )


async def create_acl(conn: KafkaConnection, binding: AclBinding, *, dry_run: bool) -> AclChange:
    from aiokafka.protocol.admin import CreateAclsRequest

    args = request_args(_exact(binding))
    if dry_run:
        # what the broker answers for listing tells whether an authorizer is there at all
        await list_acls(conn, AclQuery(resource_type="topic", resource_name="-"))
        return AclChange("create", True, [binding])
    response = await _send(conn, CreateAclsRequest(*args), "CreateAcls request")
    for code, message in response.creation_responses:
        _check(code, message, conn, "creating the ACL")
    await _wait_until(conn, _exact(binding), present=True)
    return AclChange("create", False, [binding])


async def delete_acls(conn: KafkaConnection, acl_filter: AclQuery, *, dry_run: bool) -> AclChange:
    """Delete every ACL matching the filter; the dry run lists them."""
    from aiokafka.protocol.admin import DeleteAclsRequest

    matching = await list_acls(conn, acl_filter)
    if not matching:
        raise NotFoundError(
            f"no ACL on Kafka at {conn.settings.address} matches the filter; nothing deleted",
            hint="list them with `mqctl acls list`",
        )
    if dry_run:
        return AclChange("delete", True, matching)
    response = await _send(conn, DeleteAclsRequest(*request_args(acl_filter)), "DeleteAcls")
    deleted: list[AclBinding] = []
    for code, message, matches in response.filter_responses:
        _check(code, message, conn, "deleting ACLs")
        for match in matches:
            _check(match[0], match[1], conn, "deleting an ACL")
            deleted.append(_binding((match[2], match[3], match[4]), tuple(match[5:9])))
    await _wait_until(conn, acl_filter, present=False)
    return AclChange("delete", False, deleted)


async def _wait_until(conn: KafkaConnection, acl_filter: AclQuery, *, present: bool) -> None:
    """ACL changes reach the brokers through the metadata log a moment after the answer:
    wait (bounded by the timeout) until a listing agrees, so scripts can rely on it."""
    import asyncio
    import time

    deadline = time.monotonic() + conn.timeout
    while True:
        if bool(await list_acls(conn, acl_filter)) == present or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.1)
