"""Queue administration (AMQP-like brokers): create, delete, purge. Every change is audited.

Each function checks the context may be written, picks the broker with
:class:`~mqctl.backend.QueueAdmin` (``rabbitmq:`` prefix to choose) and writes one audit
record with the real outcome and counts. Delete and purge look the queue up first and hand
it to the view's ``confirm`` callback (:data:`mqctl.audit.Confirm`) before changing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mqctl.audit import Action, Confirm, audited, target_name
from mqctl.backend import QueueAdmin, QueueCatalog
from mqctl.models.inventory import QueueSummary
from mqctl.services.inventory import split_prefix
from mqctl.session import Session


@dataclass(frozen=True, slots=True)
class QueueRemoval:
    """What a delete or purge did: ``messages`` the queue held (delete) or the ready
    messages removed (purge), as the broker counted them just before."""

    vhost: str
    queue: str
    action: str  # deleted | purged
    messages: int


def _admin(session: Session, name: str, what: str) -> tuple[str, QueueAdmin, str]:
    """The broker's name, its queue admin and the bare queue name."""
    backend_name, bare = split_prefix(name)
    backend, admin = session.backend_for(QueueAdmin, what, backend=backend_name)
    return backend.name, admin, bare


def _aim(act: Action, broker: str, name: str, vhost: str | None) -> None:
    act.target = target_name(broker, "queue", name)
    if vhost is not None:
        act.details["vhost"] = vhost


async def create_queue(
    session: Session,
    name: str,
    *,
    vhost: str | None = None,
    queue_type: str = "classic",
    durable: bool = True,
    arguments: Mapping[str, Any] | None = None,
) -> tuple[QueueSummary, bool]:
    """Create a queue (idempotent): the queue and whether it was created (False: an
    identical one existed)."""
    with audited(session, "queue create", name) as act:
        session.check_writable(f"creating queue {name!r}")
        broker, admin, bare = _admin(session, name, "creating queues")
        _aim(act, broker, bare, vhost)
        act.details.update(type=queue_type, durable=durable, arguments=dict(arguments or {}))
        queue, created = await admin.create_queue(
            bare, vhost=vhost, queue_type=queue_type, durable=durable, arguments=arguments
        )
        _aim(act, broker, queue.name, queue.vhost)
        act.counts["created"] = int(created)
        return queue, created


async def _look_up(
    session: Session, act: Action, name: str, vhost: str | None, what: str
) -> tuple[QueueAdmin, QueueSummary]:
    broker, admin, bare = _admin(session, name, what)
    _aim(act, broker, bare, vhost)
    _, catalog = session.backend_for(QueueCatalog, what, backend=broker)
    queue = (await catalog.describe_queue(bare, vhost=vhost)).queue
    _aim(act, broker, queue.name, queue.vhost)
    return admin, queue


async def delete_queue(
    session: Session,
    name: str,
    *,
    vhost: str | None = None,
    if_empty: bool = False,
    if_unused: bool = False,
    confirm: Confirm[QueueSummary] | None = None,
) -> QueueRemoval:
    """Delete a queue and its messages, after ``confirm(queue as it is now)``."""
    with audited(session, "queue delete", name) as act:
        session.check_writable(f"deleting queue {name!r}")
        admin, queue = await _look_up(session, act, name, vhost, "deleting queues")
        act.details.update(if_empty=if_empty, if_unused=if_unused)
        if confirm is not None:
            await confirm(queue)
        held = await admin.delete_queue(
            queue.name, vhost=queue.vhost, if_empty=if_empty, if_unused=if_unused
        )
        act.counts["messages"] = held
        return QueueRemoval(queue.vhost, queue.name, "deleted", held)


async def purge_queue(
    session: Session,
    name: str,
    *,
    vhost: str | None = None,
    confirm: Confirm[QueueSummary] | None = None,
) -> QueueRemoval:
    """Remove a queue's ready messages, after ``confirm(queue as it is now)``."""
    with audited(session, "queue purge", name) as act:
        session.check_writable(f"purging queue {name!r}")
        admin, queue = await _look_up(session, act, name, vhost, "purging queues")
        if confirm is not None:
            await confirm(queue)
        removed = await admin.purge_queue(queue.name, vhost=queue.vhost)
        act.counts["purged"] = removed
        return QueueRemoval(queue.vhost, queue.name, "purged", removed)
