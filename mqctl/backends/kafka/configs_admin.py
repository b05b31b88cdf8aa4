"""Topic and broker configs: read them, and change only the named keys with a diff.

Reads use DescribeConfigs with synonyms: a config's synonyms list where its value comes
from in order (topic override, dynamic broker, static file, default), so the diff of a
``delete`` can say what the value falls back to. Changes use IncrementalAlterConfigs (only
the named keys change) with ``validate_only`` as the broker's own dry run. A per-broker
config is read from and written through that broker, as the Java admin client does; the
cluster-wide broker default (resource name "") through any broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mqctl.backends.kafka.connection import KafkaConnection
from mqctl.backends.kafka.topics import CONFIG_SOURCES
from mqctl.errors import AuthError, BrokerError, NotFoundError, UsageError
from mqctl.models.admin import ConfigChange, ConfigDiff
from mqctl.models.inventory import ConfigEntry

TOPIC, BROKER = 2, 4
SET, DELETE = 0, 1
DEFAULT_SOURCES = {4, 5}  # static-broker, default
UNKNOWN_TOPIC = 3
NOT_AUTHORISED = {29: "topic", 31: "cluster"}
BAD_INPUT = {
    17: "invalid topic name",
    40: "invalid config",
    42: "invalid request",
    44: "the broker's policy refused the change",
}


@dataclass(frozen=True, slots=True)
class Resource:
    """A config resource: a topic, one broker (by id) or the broker default ("")."""

    type: int
    name: str

    @property
    def kind(self) -> str:
        if self.type == TOPIC:
            return "topic"
        return "broker" if self.name else "broker-default"

    @property
    def override_sources(self) -> set[int]:
        """Config sources that are this resource's own override (what a delete removes):
        topic (1), dynamic per-broker (2), dynamic cluster-wide default (3)."""
        if self.type == TOPIC:
            return {1}
        return {2} if self.name else {3}

    @property
    def label(self) -> str:
        if self.type == TOPIC:
            return f"topic {self.name!r}"
        return f"broker {self.name}" if self.name else "the cluster-wide broker default"


def resource_for(kind: str, name: str) -> Resource:
    """``kind`` topic or broker (the words of the ConfigAdmin capability)."""
    if kind not in ("topic", "broker"):
        raise UsageError(f"unknown config resource {kind!r} (choose from topic, broker)")
    return Resource(TOPIC if kind == "topic" else BROKER, name)


def looks_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("password", "secret", "sasl.jaas", "credential"))


async def _node_for(conn: KafkaConnection, resource: Resource) -> int:
    client = await conn.client()
    if resource.type == BROKER and resource.name:
        try:
            node = int(resource.name)
        except ValueError:
            raise UsageError(f"broker id must be a number, got {resource.name!r}") from None
        known = {b.nodeId for b in client.cluster.brokers()}
        if node not in known:
            await conn.call(client.force_metadata_update(), "metadata request")
            known = {b.nodeId for b in client.cluster.brokers()}
        if node not in known:
            raise NotFoundError(
                f"no broker with id {node} on Kafka at {conn.settings.address} "
                f"(brokers: {', '.join(map(str, sorted(known))) or 'none'})",
                hint="see the brokers with `mqctl cluster describe`",
            )
        return node
    return int(client.get_random_node())


def _check(code: int, message: str | None, resource: Resource, conn: KafkaConnection) -> None:
    if not code:
        return
    reason = (message or "").strip()
    if code == UNKNOWN_TOPIC:
        raise NotFoundError(
            f"{resource.label} not found on Kafka at {conn.settings.address}",
            hint="list topics with `mqctl topics list`",
        )
    if code in NOT_AUTHORISED:
        raise AuthError(
            f"Kafka at {conn.settings.address} refused access to {resource.label} "
            f"({NOT_AUTHORISED[code]} authorization failed)"
        )
    if code in BAD_INPUT:
        raise UsageError(f"{resource.label}: {reason or BAD_INPUT[code]}")
    from aiokafka.errors import for_code

    name = for_code(code).__name__
    raise BrokerError(f"{resource.label}: Kafka refused the request ({name}) {reason}".strip())


@dataclass(frozen=True, slots=True)
class _Described:
    entry: ConfigEntry
    source_code: int
    fallback: str | None  # the value once this resource's override is removed


async def _describe(conn: KafkaConnection, resource: Resource) -> dict[str, _Described]:
    from aiokafka.protocol.admin import DescribeConfigsRequest

    client = await conn.client()
    node = await _node_for(conn, resource)
    request = DescribeConfigsRequest([(resource.type, resource.name, None)], include_synonyms=True)
    response = await conn.call(client.send(node, request), "DescribeConfigs request")
    found: dict[str, _Described] = {}
    for error_code, error_message, _rtype, _rname, configs in response.resources:
        _check(error_code, error_message, resource, conn)
        for config in configs:
            name, value, read_only, source, sensitive = config[:5]
            synonyms = config[5] if len(config) > 5 else []
            overrides = resource.override_sources
            fallback = next(
                (syn[1] for syn in synonyms if syn[2] not in overrides),
                None,
            )
            hidden = bool(sensitive) or looks_sensitive(name)
            entry = ConfigEntry(
                name=name,
                value=None if hidden else value,
                is_default=source in DEFAULT_SOURCES,
                source=CONFIG_SOURCES.get(source, str(source)),
                sensitive=hidden,
                read_only=bool(read_only),
            )
            found[name] = _Described(entry, int(source), None if hidden else fallback)
    return found


async def describe_configs(conn: KafkaConnection, resource: Resource) -> list[ConfigEntry]:
    described = await _describe(conn, resource)
    return sorted((d.entry for d in described.values()), key=lambda e: e.name)


def _requests() -> Any:
    from mqctl.backends.kafka.topic_admin import _requests as topic_requests

    return topic_requests()[1]


async def alter_configs(
    conn: KafkaConnection,
    resource: Resource,
    *,
    set_configs: Mapping[str, str],
    delete_configs: Sequence[str] = (),
    validate_only: bool = False,
) -> ConfigDiff:
    """Change the named keys (the broker validates them first when ``validate_only``) and
    return the diff against the values read just before."""
    both = set(set_configs) & set(delete_configs)
    if both:
        raise UsageError(f"config {', '.join(sorted(both))} is both set and deleted")
    if not set_configs and not delete_configs:
        raise UsageError("nothing to change: give KEY=VALUE to set or KEY to delete")
    current = await _describe(conn, resource)
    changes = [_set_change(current.get(k), k, v, resource) for k, v in set_configs.items()]
    changes += [_delete_change(current.get(k), k, resource) for k in delete_configs]
    entries: list[tuple[str, int, str | None]] = [(k, SET, v) for k, v in set_configs.items()]
    entries += [(k, DELETE, None) for k in delete_configs]
    request = _requests()([(resource.type, resource.name, entries)], validate_only)
    client = await conn.client()
    node = await _node_for(conn, resource)
    response = await conn.call(client.send(node, request), "IncrementalAlterConfigs request")
    for code, message, _rtype, _name in response.responses:
        _check(code, message, resource, conn)
    if not validate_only:
        after = await _wait_until_applied(conn, resource, set_configs, delete_configs)
        # What a removed override fell back to, as the broker now reports it (synonyms do
        # not always name the default, e.g. retention.ms derived from log.retention.hours).
        changes = [
            replace(c, new_value=after[c.name].entry.value)
            if c.action == "delete" and c.changed and c.name in after
            else c
            for c in changes
        ]
    return ConfigDiff(resource.kind, resource.name, validate_only, changes)


async def _wait_until_applied(
    conn: KafkaConnection,
    resource: Resource,
    set_configs: Mapping[str, str],
    delete_configs: Sequence[str],
) -> dict[str, _Described]:
    """The change reaches the brokers through the metadata log a moment after the answer:
    wait (bounded) until a read shows it, so `config set X && config get` in a script agrees."""
    import asyncio
    import time

    deadline = time.monotonic() + conn.timeout
    while True:
        current = await _describe(conn, resource)
        pending = [
            k
            for k, v in set_configs.items()
            if k in current
            and not current[k].entry.sensitive
            and (
                current[k].entry.value != v
                or current[k].source_code not in resource.override_sources
            )
        ]
        pending += [
            k
            for k in delete_configs
            if k in current and current[k].source_code in resource.override_sources
        ]
        if not pending or time.monotonic() > deadline:
            return current
        await asyncio.sleep(0.1)


def _set_change(
    current: _Described | None, name: str, value: str, resource: Resource
) -> ConfigChange:
    if current is None and resource.type == BROKER and resource.name:
        # Brokers accept any key (custom plugin configs), so a typo would "succeed".
        raise UsageError(
            f"{name} is not a config {resource.label} knows (a typo?)",
            hint=f"list them with `mqctl brokers config get {resource.name} --all`",
        )
    if current is None:
        hidden = looks_sensitive(name)
        return ConfigChange(name, "set", None, None if hidden else value, None, hidden)
    entry = current.entry
    if entry.read_only:
        raise UsageError(f"config {name} is read-only (set in the broker's static config)")
    return ConfigChange(
        name,
        "set",
        entry.value,
        None if entry.sensitive else value,
        entry.source,
        entry.sensitive,
        changed=entry.sensitive or entry.value != value or current.source_code in DEFAULT_SOURCES,
    )


def _delete_change(current: _Described | None, name: str, resource: Resource) -> ConfigChange:
    if current is None:
        return ConfigChange(name, "delete", None, None, None, looks_sensitive(name), False)
    entry = current.entry
    overridden = current.source_code in resource.override_sources
    return ConfigChange(
        name,
        "delete",
        entry.value,
        current.fallback if overridden else entry.value,
        entry.source,
        entry.sensitive,
        changed=overridden,
    )
