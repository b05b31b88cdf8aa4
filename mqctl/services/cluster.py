"""Kafka cluster administration: cluster metadata, topic and broker configs, partition
count, offsets delete and reset over every topic of a group.

Every write checks the context first (read-only refuses, protected asks) and is recorded in
the audit log by the view's session; dry runs are validated by the broker and change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mqctl.admin_capabilities import ClusterMetadataSource, ConfigAdmin, OffsetDeleter
from mqctl.backend import GroupAdmin, TopicAdmin, TopicCatalog
from mqctl.errors import UsageError
from mqctl.lag.model import ResetSpec
from mqctl.models.admin import ClusterInfo, ConfigDiff, OffsetsDeleted
from mqctl.models.inventory import ConfigEntry
from mqctl.services.inventory import split_prefix
from mqctl.session import Session

# `# type: ignore[type-abstract]` below: mypy refuses a Protocol class where
# Session.backend_for expects type[T], although backend_for only uses it for isinstance().


async def describe_cluster(
    session: Session,
    *,
    topics: list[str] | None = None,
    include_internal: bool = False,
    partitions: bool = True,
) -> ClusterInfo:
    _, source = session.backend_for(ClusterMetadataSource, "describing the cluster")  # type: ignore[type-abstract]
    return await source.describe_cluster(
        topics=topics, include_internal=include_internal, partitions=partitions
    )


def _config_admin(session: Session, name: str, what: str) -> tuple[ConfigAdmin, str]:
    prefix, bare = split_prefix(name)
    _, admin = session.backend_for(ConfigAdmin, what, backend=prefix)  # type: ignore[type-abstract]
    return admin, bare


async def get_configs(
    session: Session, kind: str, name: str, *, all_configs: bool = True
) -> list[ConfigEntry]:
    """``kind`` topic or broker; a broker ``name`` is its id, "" the cluster-wide default.
    Without ``all_configs`` only the overrides, as kafka-configs --describe shows them: a
    topic's own (source topic), a broker's dynamic ones (per broker and cluster-wide)."""
    admin, bare = _config_admin(session, name, f"reading {kind} configs")
    entries = await admin.describe_resource_configs(kind, bare)
    if all_configs:
        return entries
    if kind == "topic":
        return [e for e in entries if e.source == "topic"]
    return [e for e in entries if e.source.startswith("dynamic-")]


async def change_configs(
    session: Session,
    kind: str,
    name: str,
    *,
    set_configs: Mapping[str, str],
    delete_configs: Sequence[str] = (),
    dry_run: bool = False,
) -> ConfigDiff:
    label = f"{kind} {name}" if name else "the cluster-wide broker default"
    if not dry_run:
        keys = ", ".join([*set_configs, *delete_configs])
        session.check_writable(f"changing configs {keys} of {label}")
    admin, bare = _config_admin(session, name, f"changing {kind} configs")
    return await admin.alter_resource_configs(
        kind,
        bare,
        set_configs=set_configs,
        delete_configs=delete_configs,
        validate_only=dry_run,
    )


async def set_partition_count(
    session: Session, name: str, total: int, *, dry_run: bool = False
) -> tuple[int, int]:
    """Grow a topic to ``total`` partitions (never shrinks: Kafka cannot); returns
    (before, after). Equal counts change nothing."""
    prefix, bare = split_prefix(name)
    _, catalog = session.backend_for(TopicCatalog, "describing topics", backend=prefix)  # type: ignore[type-abstract]
    current = len((await catalog.describe_topic(bare)).partitions)
    if total < current:
        raise UsageError(
            f"topic {bare!r} has {current} partitions: Kafka cannot remove partitions "
            f"(asked for {total})",
            hint="create a new topic with fewer partitions and move the data instead",
        )
    if total == current:
        return current, current
    if not dry_run:
        session.check_writable(f"growing topic {bare!r} to {total} partitions")
    _, admin = session.backend_for(TopicAdmin, "adding partitions", backend=prefix)  # type: ignore[type-abstract]
    return await admin.add_partitions(bare, count=total - current, validate_only=dry_run)


async def delete_offsets(
    session: Session,
    group: str,
    topic: str,
    partitions: list[int] | None = None,
    *,
    dry_run: bool = False,
) -> OffsetsDeleted:
    if not dry_run:
        session.check_writable(f"deleting committed offsets of group {group!r} for {topic!r}")
    prefix, bare = split_prefix(group)
    _, deleter = session.backend_for(OffsetDeleter, "deleting group offsets", backend=prefix)  # type: ignore[type-abstract]
    return await deleter.delete_group_offsets(bare, topic, partitions, dry_run=dry_run)


async def committed_topics(session: Session, group: str) -> list[str]:
    """The topics ``group`` has committed offsets for (``offsets reset --all-topics``)."""
    prefix, bare = split_prefix(group)
    _, admin = session.backend_for(GroupAdmin, "describing consumer groups", backend=prefix)  # type: ignore[type-abstract]
    detail = await admin.describe_group(bare)
    topics = sorted({p.topic for p in detail.offsets if p.committed_offset is not None})
    if not topics:
        raise UsageError(
            f"group {bare!r} has no committed offsets: --all-topics has nothing to reset",
            hint="name the topics with --topic",
        )
    return topics


def all_topics_spec(spec: ResetSpec, topics: list[str]) -> ResetSpec:
    """``spec`` with every partition of each of ``topics`` as its targets."""
    return ResetSpec(spec.mode, tuple((t, None) for t in topics), spec.value, spec.file_offsets)
