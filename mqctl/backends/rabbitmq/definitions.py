"""Definitions export and import (the broker's topology as one JSON document).

Export leaves secrets out unless asked: users' password hashes, and passwords in the URIs
of shovel and federation parameters (shown as ``***``). Import never deletes anything on
the broker; its dry run compares the file with what the broker has now, object by object
(added, changed with the differing fields, unchanged). Entries that cannot be imported
faithfully from a secret-free export (a user without a hash, a URI with ``***``) are left
out with a warning instead of breaking a working user or shovel.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.config.secrets import REDACTED, redact_url
from mqctl.errors import UsageError
from mqctl.models.rabbitmq_admin import DefinitionChange, DefinitionsImport

KindKey = Callable[[dict[str, Any], str | None], tuple[Any, ...]]


def _v(item: dict[str, Any], vhost: str | None) -> str:
    return str(item.get("vhost", vhost if vhost is not None else "/"))


KEYS: dict[str, KindKey] = {
    "vhosts": lambda i, v: (i.get("name"),),
    "users": lambda i, v: (i.get("name"),),
    "permissions": lambda i, v: (i.get("user"), _v(i, v)),
    "topic_permissions": lambda i, v: (i.get("user"), _v(i, v), i.get("exchange")),
    "policies": lambda i, v: (_v(i, v), i.get("name")),
    "parameters": lambda i, v: (i.get("component"), _v(i, v), i.get("name")),
    "global_parameters": lambda i, v: (i.get("name"),),
    "queues": lambda i, v: (_v(i, v), i.get("name")),
    "exchanges": lambda i, v: (_v(i, v), i.get("name")),
    "bindings": lambda i, v: (
        _v(i, v),
        i.get("source"),
        i.get("destination_type"),
        i.get("destination"),
        i.get("routing_key"),
        json.dumps(i.get("arguments") or {}, sort_keys=True),
    ),
}
SECRET_FIELDS = ("password_hash", "password")


def _path(vhost: str | None) -> str:
    return "/definitions" if vhost is None else f"/definitions/{enc(vhost)}"


def _redact_uris(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _redact_uris(v) if not k.endswith("uri") else _redact_uri_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_uris(v) for v in value]
    return value


def _redact_uri_value(value: Any) -> Any:
    if isinstance(value, list):
        return [redact_url(str(v)) for v in value]
    return redact_url(str(value)) if isinstance(value, str) else value


async def export(
    api: ManagementClient, *, vhost: str | None, include_secrets: bool
) -> dict[str, Any]:
    if vhost is not None:
        await api.ensure_vhost(vhost)
    doc = await api.get(_path(vhost))
    if not isinstance(doc, dict):
        raise UsageError("RabbitMQ answered definitions that are not a JSON object")
    if include_secrets:
        return doc
    clean = copy.deepcopy(doc)
    for user in clean.get("users") or []:
        for field in SECRET_FIELDS:
            user.pop(field, None)
    for kind in ("parameters", "global_parameters"):
        for param in clean.get(kind) or []:
            if "value" in param:
                param["value"] = _redact_uris(param["value"])
    return clean


def _importable(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The document without entries a secret-free export cannot restore, and why."""
    clean = copy.deepcopy(doc)
    warnings: list[str] = []
    users = []
    for user in clean.get("users") or []:
        if not any(user.get(f) for f in SECRET_FIELDS):
            warnings.append(
                f"user {user.get('name')!r} has no password hash in the file (exported "
                "without --include-secrets): left out, the broker's user is kept"
            )
            continue
        users.append(user)
    if "users" in clean:
        clean["users"] = users
    for kind in ("parameters", "global_parameters"):
        kept = []
        for param in clean.get(kind) or []:
            if REDACTED in json.dumps(param.get("value")):
                warnings.append(
                    f"{kind[:-1].replace('_', ' ')} {param.get('name')!r} has a redacted "
                    "password in its URI: left out"
                )
                continue
            kept.append(param)
        if kind in clean:
            clean[kind] = kept
    return clean, warnings


def _differences(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field, value in wanted.items():
        if field in SECRET_FIELDS:
            if current.get(field) != value:
                found[field] = ["(hidden)", "(hidden, differs)"]
            continue
        if field == "hashing_algorithm" and "password_hash" not in wanted:
            continue
        if current.get(field) != value:
            found[field] = [current.get(field), value]
    return found


def _label(kind: str, key: tuple[Any, ...]) -> str:
    """How a change names its object: ``orders (vhost /)``, ``x -> q [rk] (vhost /)``."""
    if kind in ("vhosts", "users", "global_parameters"):
        return str(key[0])
    if kind == "bindings":
        vhost, source, dtype, dest, rk = key[:5]
        return f"{source or '(default)'} -> {dtype} {dest} [{rk}] (vhost {vhost})"
    if kind in ("permissions", "topic_permissions"):
        user, vhost, *rest = key
        return f"{user}{''.join(f' {r}' for r in rest)} (vhost {vhost})"
    if kind == "parameters":
        component, vhost, name = key
        return f"{component} {name} (vhost {vhost})"
    return f"{key[1]} (vhost {key[0]})"


def diff(
    current: dict[str, Any], wanted: dict[str, Any], vhost: str | None
) -> list[DefinitionChange]:
    changes: list[DefinitionChange] = []
    for kind, key_of in KEYS.items():
        have = {key_of(i, vhost): i for i in current.get(kind) or [] if isinstance(i, dict)}
        items = wanted.get(kind) or []
        if any(not isinstance(item, dict) for item in items):
            raise UsageError(f"definitions: an entry of {kind} is not an object")
        # the same object twice in a file: the broker applies both, the last one stays
        last = {key_of(item, vhost): item for item in items}
        for key, item in last.items():
            label = _label(kind, key)
            existing = have.get(key)
            if existing is None:
                changes.append(DefinitionChange(kind, label, "add"))
                continue
            differences = _differences(existing, item)
            action = "change" if differences else "same"
            changes.append(DefinitionChange(kind, label, action, differences))
    return changes


async def import_definitions(
    api: ManagementClient, doc: dict[str, Any], *, source: str, vhost: str | None, dry_run: bool
) -> DefinitionsImport:
    if vhost is not None:
        await api.ensure_vhost(vhost)
    payload, warnings = _importable(doc)
    current = await api.get(_path(vhost))
    changes = diff(current if isinstance(current, dict) else {}, payload, vhost)
    if not dry_run and any(c.action != "same" for c in changes):
        await api.request("POST", _path(vhost), body=payload, what="definitions")
    return DefinitionsImport(
        file=source,
        vhost=vhost,
        dry_run=dry_run,
        added=sum(1 for c in changes if c.action == "add"),
        changed=sum(1 for c in changes if c.action == "change"),
        unchanged=sum(1 for c in changes if c.action == "same"),
        changes=changes,
        warnings=warnings,
    )
