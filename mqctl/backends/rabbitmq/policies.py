"""Policies and operator policies through the management API: list, set, delete.

A dry run cannot ask the broker (the API has no validate-only mode): it checks what can be
checked here (the pattern compiles, apply-to is known, the definition is an object) and
shows the policy before and after plus the queues the pattern matches now. The broker
checks the definition's keys on the real ``set`` (unknown key: exit 2 with its reason).
"""

from __future__ import annotations

import re
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.rabbitmq_admin import PolicyChange, PolicyInfo, PolicySpec

APPLY_TO = ("queues", "exchanges", "all", "classic_queues", "quorum_queues", "streams")


def _path(operator: bool) -> str:
    return "/operator-policies" if operator else "/policies"


def _policy(doc: dict[str, Any], operator: bool) -> PolicyInfo:
    return PolicyInfo(
        vhost=str(doc.get("vhost", "/")),
        name=str(doc.get("name", "")),
        pattern=str(doc.get("pattern", "")),
        apply_to=str(doc.get("apply-to", "all")),
        priority=int(doc.get("priority") or 0),
        definition=dict(doc.get("definition") or {}),
        operator=operator,
    )


async def list_policies(
    api: ManagementClient, *, vhost: str | None, all_vhosts: bool, operator: bool | None
) -> list[PolicyInfo]:
    """Policies (``operator`` False), operator policies (True) or both (None)."""
    kinds = [False, True] if operator is None else [operator]
    target = vhost or api.settings.vhost
    if not all_vhosts:
        await api.ensure_vhost(target)
    found: list[PolicyInfo] = []
    for op in kinds:
        path = _path(op) if all_vhosts else f"{_path(op)}/{enc(target)}"
        docs = await api.get(path)
        found += [_policy(d, op) for d in docs or []]
    return sorted(found, key=lambda p: (p.vhost, p.operator, -p.priority, p.name))


async def _current(
    api: ManagementClient, name: str, vhost: str, operator: bool
) -> PolicyInfo | None:
    try:
        doc = await api.get(f"{_path(operator)}/{enc(vhost)}/{enc(name)}")
    except NotFoundError:
        return None
    return _policy(doc, operator)


async def _matching_queues(api: ManagementClient, policy: PolicyInfo) -> list[str]:
    if policy.apply_to == "exchanges":
        return []
    docs = await api.get_paged(f"/queues/{enc(policy.vhost)}", {"columns": "name,type"})
    wanted = {
        "classic_queues": "classic",
        "quorum_queues": "quorum",
        "streams": "stream",
    }.get(policy.apply_to)
    pattern = re.compile(policy.pattern)
    return sorted(
        str(d["name"])
        for d in docs
        if pattern.search(str(d.get("name", "")))
        and (wanted is None or (d.get("type") or "classic") == wanted)
    )


def validate(pattern: str, apply_to: str, definition: Any) -> None:
    if apply_to not in APPLY_TO:
        raise UsageError(f"--apply-to {apply_to!r}: choose from {', '.join(APPLY_TO)}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    if not isinstance(definition, dict) or not definition:
        raise UsageError(
            'the definition must be a non-empty JSON object, e.g. {"max-length": 1000}'
        )


async def set_policy(api: ManagementClient, spec: PolicySpec, *, dry_run: bool) -> PolicyChange:
    name, operator = spec.name, spec.operator
    validate(spec.pattern, spec.apply_to, spec.definition)
    target = spec.vhost or api.settings.vhost
    await api.ensure_vhost(target)
    before = await _current(api, name, target, operator)
    after = PolicyInfo(
        target, name, spec.pattern, spec.apply_to, spec.priority, spec.definition, operator
    )
    if not dry_run:
        await api.request(
            "PUT",
            f"{_path(operator)}/{enc(target)}/{enc(name)}",
            body={
                "pattern": spec.pattern,
                "definition": spec.definition,
                "priority": spec.priority,
                "apply-to": spec.apply_to,
            },
            what=f"policy {name!r} in vhost {target!r}",
        )
        after = await _current(api, name, target, operator) or after
    matching = await _matching_queues(api, after)
    return PolicyChange("set", before, after, dry_run, before != after, matching)


async def delete_policy(
    api: ManagementClient, name: str, *, vhost: str | None, operator: bool, dry_run: bool
) -> PolicyChange:
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    before = await _current(api, name, target, operator)
    kind = "operator policy" if operator else "policy"
    if before is None:
        raise NotFoundError(
            f"{kind} {name!r} not found in vhost {target!r} on RabbitMQ at "
            f"{api.settings.management_url}",
            hint="list them with `mqctl policies list`",
        )
    matching = await _matching_queues(api, before)
    if not dry_run:
        await api.request(
            "DELETE",
            f"{_path(operator)}/{enc(target)}/{enc(name)}",
            what=f"{kind} {name!r} in vhost {target!r}",
        )
    return PolicyChange("delete", before, None, dry_run, True, matching)
