"""Kafka cluster administration: cluster metadata, topic and broker configs, partition
count, offsets delete and reset over every topic of a group.

Every real change is audited here (services/admin_audit.py) and checks the context first
(read-only refuses, protected asks); dry runs are validated by the broker, change nothing and
are not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mqctl.admin_capabilities import ClusterMetadataSource, ConfigAdmin, OffsetDeleter
from mqctl.audit import Confirm, target_name
from mqctl.backend import GroupAdmin, TopicAdmin, TopicCatalog
from mqctl.errors import UsageError
from mqctl.lag.model import ResetSpec
from mqctl.models.admin import ClusterInfo, ConfigDiff, OffsetsDeleted
from mqctl.models.inventory import ConfigEntry
from mqctl.services.admin_audit import audited_unless_dry_run, confirmed
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


async def describe_cluster(
    session: Session,
    *,
    topics: list[str] | None = None,
    include_internal: bool = False,
    partitions: bool = True,
) -> ClusterInfo:
    _, source = session.backend_for(ClusterMetadataSource, "describing the cluster")
    return await source.describe_cluster(
        topics=topics, include_internal=include_internal, partitions=partitions
    )


def _config_admin(session: Session, name: str, what: str) -> tuple[ConfigAdmin, str]:
    prefix, bare = split_prefix(name)
    _, admin = session.backend_for(ConfigAdmin, what, backend=prefix)
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
    prefix, bare = split_prefix(name)
    target = target_name(prefix or "kafka", kind, bare or "(default)")
    with audited_unless_dry_run(session, f"{kind} config change", target, dry_run) as act:
        act.details.update(set_configs=dict(set_configs), delete_configs=list(delete_configs))
        if not dry_run:
            keys = ", ".join([*set_configs, *delete_configs])
            session.check_writable(f"changing configs {keys} of {label}")
        admin, bare = _config_admin(session, name, f"changing {kind} configs")
        diff = await admin.alter_resource_configs(
            kind,
            bare,
            set_configs=set_configs,
            delete_configs=delete_configs,
            validate_only=dry_run,
        )
        act.counts["configs"] = sum(1 for c in diff.changes if c.changed)
        return diff


async def set_partition_count(
    session: Session, name: str, total: int, *, dry_run: bool = False
) -> tuple[int, int]:
    """Grow a topic to ``total`` partitions (never shrinks: Kafka cannot); returns
    (before, after). Equal counts change nothing."""
    prefix, bare = split_prefix(name)
    _, catalog = session.backend_for(TopicCatalog, "describing topics", backend=prefix)
    current = len((await catalog.describe_topic(bare)).partitions)
    if total < current:
        raise UsageError(
            f"topic {bare!r} has {current} partitions: Kafka cannot remove partitions "
            f"(asked for {total})",
            hint="create a new topic with fewer partitions and move the data instead",
        )
    if total == current:
        return current, current
    target = target_name(prefix or "kafka", "topic", bare)
    with audited_unless_dry_run(session, "topic alter", target, dry_run) as act:
        if not dry_run:
            session.check_writable(f"growing topic {bare!r} to {total} partitions")
        _, admin = session.backend_for(TopicAdmin, "adding partitions", backend=prefix)
        before, after = await admin.add_partitions(
            bare, count=total - current, validate_only=dry_run
        )
        act.counts["partitions_added"] = after - before
        act.details.update(partitions_before=before, partitions_after=after)
        return before, after


async def delete_offsets(
    session: Session,
    group: str,
    topic: str,
    partitions: list[int] | None = None,
    *,
    dry_run: bool = False,
    confirm: Confirm[OffsetsDeleted] | None = None,
) -> OffsetsDeleted:
    """Delete ``group``'s committed offsets for ``topic``, after ``confirm(plan)``."""
    prefix, bare = split_prefix(group)
    target = target_name(prefix or "kafka", "group", bare)
    with audited_unless_dry_run(session, "offsets delete", target, dry_run) as act:
        act.details["topic"] = topic
        if not dry_run:
            session.check_writable(f"deleting committed offsets of group {group!r} for {topic!r}")
        _, deleter = session.backend_for(OffsetDeleter, "deleting group offsets", backend=prefix)

        async def run(dry: bool) -> OffsetsDeleted:
            return await deleter.delete_group_offsets(bare, topic, partitions, dry_run=dry)

        result = await confirmed(run, dry_run=dry_run, confirm=confirm)
        act.counts["partitions"] = len(result.partitions)
        return result


async def committed_topics(session: Session, group: str) -> list[str]:
    """The topics ``group`` has committed offsets for (``offsets reset --all-topics``)."""
    prefix, bare = split_prefix(group)
    _, admin = session.backend_for(GroupAdmin, "describing consumer groups", backend=prefix)
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
