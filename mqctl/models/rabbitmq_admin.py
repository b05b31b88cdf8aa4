"""What the RabbitMQ administration verbs return (docs/admin.md lists the fields).

Never a password hash: users carry their tags and whether they have a password at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """What ``policies set`` asks for (one value through the CLI, service and backend)."""

    name: str
    vhost: str | None  # None: the context's vhost
    pattern: str
    definition: dict[str, Any]
    priority: int = 0
    apply_to: str = "all"
    operator: bool = False  # an operator policy


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """What ``exchanges create`` asks for."""

    name: str
    vhost: str | None
    exchange_type: str
    durable: bool = True
    auto_delete: bool = False
    internal: bool = False
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BindingSpec:
    """One binding, as ``bindings create`` and ``bindings delete`` name it."""

    source: str  # the exchange
    destination: str
    vhost: str | None
    destination_type: str = "queue"  # queue | exchange
    routing_key: str = ""
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    vhost: str
    name: str
    pattern: str
    apply_to: str  # queues | exchanges | all (| classic_queues, quorum_queues, streams)
    priority: int
    definition: dict[str, Any]
    operator: bool = False  # an operator policy (caps set by the operator, not the apps)


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """``policies set/delete``: the policy before and after (None: absent)."""

    action: str  # set | delete
    before: PolicyInfo | None
    after: PolicyInfo | None
    dry_run: bool
    changed: bool
    matching_queues: list[str] = field(default_factory=list)  # queues it applies to now


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    tags: list[str]
    has_password: bool
    limits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PermissionInfo:
    user: str
    vhost: str
    configure: str
    write: str
    read: str


@dataclass(frozen=True, slots=True)
class ShovelInfo:
    name: str
    vhost: str
    type: str  # dynamic | static
    state: str  # running | starting | terminated | unknown (not started on any node)
    node: str | None
    source: str | None  # redacted URI + queue/exchange
    destination: str | None
    reason: str | None = None  # why it is terminated, when the broker says
    blocked_status: str | None = None  # running | blocked | flow (3.10+)
    forwarded: int | None = None  # messages moved since the shovel started (when reported)


@dataclass(frozen=True, slots=True)
class FederationLink:
    """One federation link: a federated exchange or queue fed from one upstream."""

    vhost: str
    upstream: str  # the upstream's name (its definition: ``federation upstreams``)
    type: str  # exchange | queue
    local: str  # the federated exchange or queue on this broker
    upstream_name: str | None  # the exchange or queue it reads on the upstream
    status: str  # starting | running | error | shutdown ... as the broker says
    error: str | None  # why it is in error (URIs without passwords)
    node: str | None
    uri: str | None  # the upstream URI in use, without its password
    since: str | None  # when the status last changed (the broker's timestamp)


@dataclass(frozen=True, slots=True)
class FederationUpstream:
    """A ``federation-upstream`` parameter, with RabbitMQ's defaults filled in."""

    name: str
    vhost: str
    uri: str  # without passwords; several URIs joined with ", "
    prefetch_count: int
    ack_mode: str  # on-confirm | on-publish | no-ack
    reconnect_delay: float
    max_hops: int
    exchange: str | None  # upstream exchange name when it differs from the local one
    queue: str | None  # upstream queue name when it differs from the local one


@dataclass(frozen=True, slots=True)
class PluginListing(Generic[Item]):
    """A listing served by a plugin: ``plugin_enabled`` False means the broker lacks
    ``plugin``, and ``items`` is empty for that reason (not because nothing is defined)."""

    items: list[Item]
    plugin_enabled: bool = True
    plugin: str = ""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    running: bool
    type: str  # disc | ram
    rabbitmq_version: str | None
    erlang_version: str | None
    uptime_seconds: float | None
    memory_used: int | None
    memory_limit: int | None
    memory_alarm: bool
    disk_free: int | None
    disk_free_limit: int | None
    disk_free_alarm: bool
    partitions: list[str]  # nodes this one is partitioned from (network split)
    file_descriptors_used: int | None = None
    file_descriptors_total: int | None = None


@dataclass(frozen=True, slots=True)
class DefinitionChange:
    """One line of ``definitions import --dry-run``: ``kind`` (queues, exchanges, ...),
    ``key`` naming the object, ``action`` add | change | same. Import never deletes."""

    kind: str
    key: str
    action: str
    differences: dict[str, Any] = field(default_factory=dict)  # field -> [now, from file]


@dataclass(frozen=True, slots=True)
class DefinitionsImport:
    file: str
    vhost: str | None  # None: the whole broker
    dry_run: bool
    added: int
    changed: int
    unchanged: int
    changes: list[DefinitionChange]
    warnings: list[str] = field(default_factory=list)  # what was left out, and why
    backend: str = "rabbitmq"


@dataclass(frozen=True, slots=True)
class TopologyChange:
    """``vhosts|exchanges|bindings create/delete``: what was (or would be) done.
    ``impact`` says what goes with it (queues and messages of a vhost, bindings of an
    exchange); ``changed`` is false when the object already was as asked."""

    action: str  # create | delete
    kind: str  # vhost | exchange | binding
    vhost: str
    name: str
    dry_run: bool
    changed: bool
    impact: dict[str, Any] = field(default_factory=dict)
    backend: str = "rabbitmq"


@dataclass(frozen=True, slots=True)
class ConnectionClose:
    """``connections close``: the connection closed (or, in a dry run, that would be)."""

    name: str
    vhost: str | None
    user: str | None
    channels: int | None
    reason: str  # what the client is told
    dry_run: bool
