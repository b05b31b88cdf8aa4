"""What the admin verbs return: cluster metadata, config changes, offsets deleted.

JSON field names are the dataclass field names (docs/admin.md); add fields, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BrokerNode:
    """One Kafka broker as the cluster metadata names it (``cluster describe``)."""

    id: int
    host: str
    port: int
    rack: str | None
    is_controller: bool
    leader_partitions: int  # partitions this broker leads
    replica_partitions: int  # partitions with a replica on this broker


@dataclass(frozen=True, slots=True)
class PartitionHealth:
    partition: int
    leader: int | None  # None: no leader, the partition is offline
    replicas: list[int]
    isr: list[int]
    offline_replicas: list[int]


@dataclass(frozen=True, slots=True)
class TopicHealth:
    name: str
    internal: bool
    partition_count: int
    replication_factor: int
    under_replicated: int  # partitions whose ISR is smaller than their replica set
    offline: int  # partitions without a leader
    leaders: dict[int, int]  # broker id -> partitions it leads
    partitions: list[PartitionHealth] = field(default_factory=list)
    error: str | None = None  # the broker's error for this topic, if any


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """``cluster describe``: what ``kcat -L`` shows, plus the health counts."""

    cluster_id: str | None
    controller: int | None
    bootstrap: str
    brokers: list[BrokerNode]
    topic_count: int
    partition_count: int
    under_replicated_partitions: int
    offline_partitions: int
    topics: list[TopicHealth]
    backend: str = "kafka"


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One line of a config diff: ``value`` before and ``new_value`` after (None = the
    default / no override). Sensitive values are never shown."""

    name: str
    action: str  # set | delete
    value: str | None
    new_value: str | None
    source: str | None  # where the current value comes from (topic, dynamic-broker, default)
    sensitive: bool = False
    changed: bool = True  # False: the value is already what was asked for


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """``topics config set/delete``, ``brokers config set/delete``: what changes, and
    whether it was applied (``dry_run`` false) or only validated by the broker."""

    resource_type: str  # topic | broker | broker-default
    resource: str
    dry_run: bool
    changes: list[ConfigChange]
    backend: str = "kafka"


@dataclass(frozen=True, slots=True)
class OffsetsDeleted:
    """``offsets delete``: the committed offsets removed from a group."""

    group: str
    topic: str
    partitions: list[int]
    dry_run: bool
    backend: str = "kafka"


@dataclass(frozen=True, slots=True)
class AclBinding:
    """One Kafka ACL: ``principal`` may (``permission`` allow/deny) do ``operation`` on the
    resource (``resource_type`` topic, group, cluster, transactional-id, delegation-token,
    user; ``pattern_type`` literal or prefixed) from ``host`` ("*" = any)."""

    principal: str
    host: str
    operation: str
    permission: str
    resource_type: str
    resource_name: str
    pattern_type: str


@dataclass(frozen=True, slots=True)
class AclChange:
    """``acls create/delete``: the bindings created, or deleted (matched by the filter)."""

    action: str  # create | delete
    dry_run: bool
    acls: list[AclBinding]
    backend: str = "kafka"


@dataclass(frozen=True, slots=True)
class AclQuery:
    """Which ACLs to list or delete; None (and "any") parts match anything."""

    principal: str | None = None
    host: str | None = None
    operation: str = "any"
    permission: str = "any"
    resource_type: str = "any"
    resource_name: str | None = None
    pattern_type: str = "any"
