"""Topic administration (Kafka-like brokers): create, delete, alter. Every change is audited.

Each function checks the context may be written, picks the broker with
:class:`~mqctl.backend.TopicAdmin` (``kafka:`` prefix to choose) and records one audit record
with the real outcome. ``dry_run`` lets the broker validate only: it changes nothing, so it is
neither checked for writability nor audited. Destructive changes take a ``confirm`` callback
from the view (see :data:`mqctl.audit.Confirm`): asked after the checks, before the change.
"""

from __future__ import annotations

from mqctl.audit import Confirm, target_name
from mqctl.backend import TopicAdmin, TopicCatalog
from mqctl.errors import NotFoundError, UsageError
from mqctl.services.admin_audit import audited_unless_dry_run
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


def _admin(session: Session, name: str, what: str) -> tuple[str, TopicAdmin, str]:
    """The broker's name, its topic admin and the bare topic name."""
    backend_name, bare = split_prefix(name)
    backend, admin = session.backend_for(TopicAdmin, what, backend=backend_name)
    return backend.name, admin, bare


async def create_topic(
    session: Session,
    name: str,
    *,
    partitions: int | None = None,
    replication_factor: int | None = None,
    configs: dict[str, str] | None = None,
    dry_run: bool = False,
) -> str:
    """Create a topic (``dry_run``: the broker validates only). Returns the bare name."""
    with audited_unless_dry_run(session, "topic create", name, dry_run) as act:
        if not dry_run:
            session.check_writable("creating a topic")
        broker, admin, bare = _admin(session, name, "creating topics")
        act.target = target_name(broker, "topic", bare)
        act.details.update(
            partitions=partitions, replication_factor=replication_factor, configs=configs or {}
        )
        await admin.create_topic(
            bare,
            partitions=partitions,
            replication_factor=replication_factor,
            configs=configs or {},
            validate_only=dry_run,
        )
        act.counts["topics"] = 1
        return bare


async def delete_topics(
    session: Session,
    names: list[str],
    *,
    dry_run: bool = False,
    confirm: Confirm[list[str]] | None = None,
) -> list[str]:
    """Delete topics (all on one broker), after ``confirm(bare names)``. ``dry_run`` only
    checks that they all exist."""
    with audited_unless_dry_run(session, "topic delete", ", ".join(names), dry_run) as act:
        if not dry_run:
            session.check_writable("deleting topics")
        picked = [_admin(session, n, "deleting topics") for n in names]
        broker, admin = picked[0][0], picked[0][1]
        bare = [b for _, _, b in picked]
        act.target = ", ".join(target_name(broker, "topic", b) for b in bare)
        if dry_run:
            await _check_exist(session, broker, bare)
            return bare
        if confirm is not None:
            await confirm(bare)
        await admin.delete_topics(bare)
        act.counts["topics"] = len(bare)
        return bare


async def _check_exist(session: Session, broker: str, topics: list[str]) -> None:
    _, catalog = session.backend_for(TopicCatalog, "describing topics", backend=broker)
    missing = []
    for topic in topics:
        try:
            await catalog.describe_topic(topic)
        except NotFoundError:
            missing.append(topic)
    if missing:
        raise NotFoundError(f"no topic named {', '.join(map(repr, missing))}")


async def alter_topic(
    session: Session,
    name: str,
    *,
    set_configs: dict[str, str] | None = None,
    delete_configs: list[str] | None = None,
    add_partitions: int | None = None,
    dry_run: bool = False,
) -> tuple[int, int] | None:
    """Change configs and/or add partitions; returns (partitions before, after) if added."""
    if not set_configs and not delete_configs and add_partitions is None:
        raise UsageError(
            "nothing to change: give --config k=v, --delete-config k or --add-partitions N"
        )
    with audited_unless_dry_run(session, "topic alter", name, dry_run) as act:
        if not dry_run:
            session.check_writable("altering a topic")
        broker, admin, bare = _admin(session, name, "altering topics")
        act.target = target_name(broker, "topic", bare)
        act.details.update(set_configs=set_configs or {}, delete_configs=delete_configs or [])
        if set_configs or delete_configs:
            await admin.alter_topic_configs(
                bare,
                set_configs=set_configs or {},
                delete_configs=delete_configs or [],
                validate_only=dry_run,
            )
            act.counts["configs"] = len(set_configs or {}) + len(delete_configs or [])
        if add_partitions is None:
            return None
        before, after = await admin.add_partitions(
            bare, count=add_partitions, validate_only=dry_run
        )
        act.counts["partitions_added"] = after - before
        act.details.update(partitions_before=before, partitions_after=after)
        return before, after
