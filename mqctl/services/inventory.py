"""Listing and describing what the context's brokers hold, and resolving names across them."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from mqctl.backend import QueueCatalog, QueueStatsPages, TopicCatalog
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.inventory import (
    BindingInfo,
    BrokerStatus,
    Destination,
    ExchangeInfo,
    QueueDetail,
    QueuePage,
    QueueSummary,
    TopicDetail,
    TopicSummary,
    VhostInfo,
)
from mqctl.session import Session

T = TypeVar("T")


async def broker_status(session: Session) -> list[BrokerStatus]:
    return list(await asyncio.gather(*(b.status() for b in session.backends())))


async def list_topics(session: Session, *, include_internal: bool = False) -> list[TopicSummary]:
    found = session.backends_with(TopicCatalog, "listing topics")
    results = await asyncio.gather(
        *(cat.list_topics(include_internal=include_internal) for _, cat in found)
    )
    return [topic for batch in results for topic in batch]


async def _holder(
    session: Session, capability: type[T], name: str, what: str, vhost: str | None = None
) -> tuple[T, str]:
    """The backend with ``capability`` that holds ``name`` (a ``kafka:``-style prefix
    chooses). With several such brokers and no prefix, the one that has the name: a name
    on none of them goes to the first (it reports "not found"), on several is ambiguous."""
    backend_name, bare = split_prefix(name)
    capable = session.backends_with(capability, what) if backend_name is None else []
    if len(capable) > 1:
        answers = await asyncio.gather(
            *(b.find_destinations(bare, vhost) for b, _ in capable), return_exceptions=True
        )
        holders = [
            b.name for (b, _), a in zip(capable, answers, strict=True) if a and isinstance(a, list)
        ]
        if len(holders) > 1:
            raise UsageError(
                f"{bare!r} is ambiguous in context {session.context.name!r}: on "
                f"{', '.join(holders)}",
                hint="prefix the name with the broker, e.g. kafka:NAME or rabbitmq:NAME",
            )
        backend_name = holders[0] if holders else capable[0][0].name
    _, found = session.backend_for(capability, what, backend=backend_name)
    return found, bare


async def describe_topic(session: Session, name: str) -> TopicDetail:
    catalog, bare = await _holder(session, TopicCatalog, name, "describing topics")
    return await catalog.describe_topic(bare)


async def list_queues(
    session: Session, *, vhost: str | None = None, all_vhosts: bool = False, stats: bool = True
) -> list[QueueSummary]:
    """``stats=False`` lists depths without message rates (rates ``None``; on RabbitMQ also
    consumers ``None``, not known, and no policy): much cheaper for the broker with
    thousands of queues."""
    found = session.backends_with(QueueCatalog, "listing queues")
    results = await asyncio.gather(
        *(cat.list_queues(vhost=vhost, all_vhosts=all_vhosts, stats=stats) for _, cat in found)
    )
    return [q for batch in results for q in batch]


def has_queue_pages(session: Session) -> bool:
    """Whether every queue backend of the session lists queues page by page."""
    queues = [b for b in session.backends() if isinstance(b, QueueCatalog)]
    return bool(queues) and all(isinstance(b, QueueStatsPages) for b in queues)


async def list_queue_page(
    session: Session, page: int, *, vhost: str | None = None, all_vhosts: bool = False
) -> QueuePage:
    """Page ``page`` of the full queue listing (see :class:`QueueStatsPages`); with several
    queue backends, each one's page ``page`` together (page_count: the largest)."""
    found = session.backends_with(QueueStatsPages, "listing queues page by page")
    pages = await asyncio.gather(
        *(p.list_queue_page(page, vhost=vhost, all_vhosts=all_vhosts) for _, p in found)
    )
    return QueuePage(
        [q for one in pages for q in one.queues],
        min(one.page for one in pages),
        max(one.page_count for one in pages),
    )


async def describe_queue(session: Session, name: str, *, vhost: str | None = None) -> QueueDetail:
    catalog, bare = await _holder(session, QueueCatalog, name, "describing queues", vhost)
    return await catalog.describe_queue(bare, vhost=vhost)


async def list_vhosts(session: Session) -> list[VhostInfo]:
    _, catalog = session.backend_for(QueueCatalog, "listing vhosts")
    return await catalog.list_vhosts()


async def list_exchanges(
    session: Session, *, vhost: str | None = None, all_vhosts: bool = False
) -> list[ExchangeInfo]:
    _, catalog = session.backend_for(QueueCatalog, "listing exchanges")
    return await catalog.list_exchanges(vhost=vhost, all_vhosts=all_vhosts)


async def list_bindings(
    session: Session, *, vhost: str | None = None, all_vhosts: bool = False
) -> list[BindingInfo]:
    _, catalog = session.backend_for(QueueCatalog, "listing bindings")
    return await catalog.list_bindings(vhost=vhost, all_vhosts=all_vhosts)


def split_prefix(name: str) -> tuple[str | None, str]:
    """``kafka:orders`` -> ("kafka", "orders"); names without a known prefix are left alone."""
    head, sep, rest = name.partition(":")
    if sep and head and rest and head.replace("-", "").replace("_", "").isalnum():
        from mqctl import registry

        if registry.is_backend_name(head):
            return head, rest
    return None, name


async def resolve(session: Session, name: str, *, vhost: str | None = None) -> Destination:
    """Find ``name`` on the context's brokers; ambiguous or unknown names are errors.

    A ``kafka:`` / ``rabbitmq:`` (any backend name) prefix restricts the search.
    """
    backend_name, bare = split_prefix(name)
    if not bare:
        raise UsageError("empty destination name")
    candidates = [session.backend(backend_name)] if backend_name else session.backends()
    results = await asyncio.gather(
        *(b.find_destinations(bare, vhost) for b in candidates), return_exceptions=True
    )
    found: list[Destination] = []
    errors: list[BaseException] = []
    for result in results:
        if isinstance(result, BaseException):
            errors.append(result)
        else:
            found.extend(result)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = ", ".join(d.qualified for d in found)
        raise UsageError(
            f"{bare!r} is ambiguous in context {session.context.name!r}: {options}",
            hint="prefix the name with the broker, e.g. kafka:NAME or rabbitmq:NAME",
        )
    if errors:
        raise errors[0]
    where = backend_name or " or ".join(b.name for b in candidates)
    raise NotFoundError(f"no topic or queue named {bare!r} on {where}")
