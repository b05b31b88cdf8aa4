"""The backend interface: everything broker-specific lives behind these Protocols.

A backend is a class registered in the ``mqctl.backends`` entry point group (the built-in
Kafka and RabbitMQ backends register exactly like third-party plugins). The class:

* has ``name`` (the entry point name and the context's config section, e.g. ``kafka``),
  ``api_version`` (must equal :data:`API_VERSION`) and a one-line ``description``;
* is built by ``from_config(section, context_name, timeout)`` from its raw config section,
  raising :class:`mqctl.errors.ConfigError` for bad values (name the key);
* implements :class:`Backend` and any of the capability Protocols below. The service layer
  asks for a capability with :func:`require`; a missing one is a clear
  "not supported by <backend>" error (exit 2), never an ``AttributeError``.

Backends must import their broker client libraries lazily (inside methods), so that loading
the registry stays cheap and ``mqctl --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from mqctl.errors import NotSupportedError

if TYPE_CHECKING:
    # Annotations only (strings here): the models are slow to define (dataclasses, ~12 ms
    # in all) and a command imports those it uses itself (docs/benchmarks.md, "Start-up").
    from mqctl.lag.model import GroupDetail, GroupSummary, OffsetResetPlan, ResetSpec
    from mqctl.models.inventory import (
        BindingInfo,
        BrokerStatus,
        ConnectionInfo,
        Destination,
        ExchangeDetail,
        ExchangeInfo,
        QueueDetail,
        QueuePage,
        QueueSummary,
        TopicDetail,
        TopicSummary,
        VhostInfo,
    )
    from mqctl.models.lag import LagEntry
    from mqctl.models.messages import (
        Message,
        OutgoingMessage,
        PeekOptions,
        PublishOptions,
        PublishResult,
    )


API_VERSION = 1
"""Bumped on any incompatible change to these Protocols; plugins declaring another version
are skipped with a warning."""


@runtime_checkable
class Backend(Protocol):
    """What every backend provides."""

    name: ClassVar[str]
    api_version: ClassVar[int]
    description: ClassVar[str]

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, context: str, timeout: float
    ) -> Backend: ...

    @property
    def address(self) -> str:
        """Where the broker is, for messages: host:port or URL, never with a password."""
        ...

    async def close(self) -> None:
        """Release connections. Safe to call more than once and when nothing was opened."""
        ...

    async def status(self) -> BrokerStatus:
        """Check connectivity; never raises for an unreachable broker (reports it)."""
        ...

    async def find_destinations(self, name: str, vhost: str | None = None) -> list[Destination]:
        """Destinations with this exact name (used to resolve names across brokers)."""
        ...


@runtime_checkable
class TopicCatalog(Protocol):
    """Topics and partitions (Kafka-like logs)."""

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicSummary]: ...

    async def describe_topic(self, name: str) -> TopicDetail: ...


@runtime_checkable
class QueueCatalog(Protocol):
    """Queues, vhosts, exchanges and bindings (AMQP-like brokers)."""

    async def list_queues(
        self, *, vhost: str | None = None, all_vhosts: bool = False, stats: bool = True
    ) -> list[QueueSummary]:
        """``stats=False``: a cheaper listing with depths; rates ``None`` (and, on RabbitMQ,
        consumers ``None``, not known, and no policy: the broker's lean listing has
        neither)."""
        ...

    async def describe_queue(self, name: str, *, vhost: str | None = None) -> QueueDetail: ...

    async def list_vhosts(self) -> list[VhostInfo]: ...

    async def list_exchanges(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ExchangeInfo]: ...

    async def list_bindings(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[BindingInfo]: ...


@runtime_checkable
class QueueStatsPages(Protocol):
    """Optional: the full queue listing one page at a time, for views that refresh thousands
    of queues often (the TUI takes the cheap listing of every depth on each refresh plus a
    couple of these pages, instead of every queue's message stats at once)."""

    async def list_queue_page(
        self, page: int, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> QueuePage:
        """Page ``page`` (from 1) of :meth:`QueueCatalog.list_queues` with ``stats=True``,
        in a stable order; a page past the end answers page 1 (so a caller going round the
        pages wraps around when the listing has shrunk)."""
        ...


@runtime_checkable
class ExchangeDetails(Protocol):
    """Optional: one exchange in depth (AMQP-like brokers)."""

    async def describe_exchange(self, name: str, *, vhost: str | None = None) -> ExchangeDetail:
        """Type, arguments, policy, rates and the bindings in and out; ``(default)`` or
        ``amq.default`` names the default exchange; an unknown one is a NotFoundError."""
        ...


@runtime_checkable
class ConnectionLister(Protocol):
    """Optional: the client connections of the broker (who, from where, how many channels)."""

    async def list_connections(
        self, *, vhost: str | None = None, all_vhosts: bool = False
    ) -> list[ConnectionInfo]: ...


@runtime_checkable
class MessageReader(Protocol):
    """Non-destructive reads (peek). Must never consume, acknowledge or commit."""

    def peek(self, destination: Destination, options: PeekOptions) -> AsyncIterator[Message]:
        """Yield messages from ``destination`` (an async generator). Stops at the end of the
        data unless ``options.follow``; the caller may stop iterating at any time, so clean
        up in ``finally`` (return unacked messages to a queue, close consumers)."""
        ...


@runtime_checkable
class MessageWriter(Protocol):
    """Publishing with broker confirmation (Kafka acks=all, RabbitMQ publisher confirms)."""

    def publish(
        self,
        destination: Destination,
        messages: AsyncIterator[OutgoingMessage],
        options: PublishOptions,
    ) -> AsyncIterator[PublishResult]:
        """Yield one result per message, in input order, each after the broker confirmed
        (or refused) it. ``destination.kind`` is ``topic``, ``queue`` or ``exchange``."""
        ...


# --- Optional fast paths ----------------------------------------------------------------------
# Bulk variants a backend (or a message source) may offer next to the per-message form; the
# caller checks with ``isinstance`` and falls back to the per-message form, which must give the
# same data. Each object is read one way only, once.


@runtime_checkable
class MessageBatches(Protocol):
    """What :meth:`MessageReader.peek` may return besides being an async iterator: the same
    messages in lists of consecutive messages (Kafka: one per fetch), so a caller spends no
    async step per message."""

    def batches(self) -> AsyncIterator[list[Message]]: ...


@runtime_checkable
class ResultTallies(Protocol):
    """What :meth:`MessageWriter.publish` may return besides being an async iterator: per run
    of consecutive messages, (how many were confirmed, the results of those that failed), in
    input order, without an object per confirmed message."""

    def tallies(self) -> AsyncIterator[tuple[int, list[PublishResult]]]: ...


@runtime_checkable
class ValueChunks(Protocol):
    """What the ``messages`` given to :meth:`MessageWriter.publish` may offer besides being
    an async iterator: when every message is a bare value (no key, partition, headers or
    properties), the values in lists; ``None`` otherwise. A writer may append them in bulk."""

    def value_chunks(self) -> AsyncIterator[list[bytes]] | None: ...


@runtime_checkable
class LagSource(Protocol):
    """Backlog per consumer: Kafka consumer groups, RabbitMQ queues."""

    async def lag(
        self, groups: list[str] | None = None, topic: str | None = None
    ) -> list[LagEntry]:
        """One snapshot. ``groups`` None means all; ``topic`` restricts Kafka partitions."""
        ...


CapabilityT = TypeVar("CapabilityT")


def require(backend: Backend, capability: type[CapabilityT], what: str) -> CapabilityT:
    """Return ``backend`` typed as ``capability`` or fail with a clear exit-2 error."""
    if not isinstance(backend, capability):
        raise NotSupportedError(f"{what} is not supported by the {backend.name} backend")
    return backend


@runtime_checkable
class GroupAdmin(Protocol):
    """Consumer groups: listing, describing, deleting and resetting committed offsets."""

    async def list_groups(self) -> list[GroupSummary]: ...

    async def describe_group(self, group: str) -> GroupDetail:
        """Members and committed offsets; unknown group is a NotFoundError."""
        ...

    async def delete_group(self, group: str) -> None:
        """Refuses (UsageError) while the group has active members."""
        ...

    async def plan_offsets_reset(self, group: str, spec: ResetSpec) -> OffsetResetPlan:
        """The plan only: nothing is changed. Refuses while the group has members."""
        ...

    async def apply_offsets_reset(self, plan: OffsetResetPlan) -> None:
        """Commit the plan's new offsets (checks again that the group is inactive)."""
        ...


@runtime_checkable
class TopicAdmin(Protocol):
    """Creating, deleting and changing topics (Kafka-like logs).

    ``validate_only`` asks the broker to check the request without applying it (dry run).
    Existing/unknown topics and invalid configs are clear errors (exit 2 / 4).
    """

    async def create_topic(
        self,
        name: str,
        *,
        partitions: int | None = None,
        replication_factor: int | None = None,
        configs: Mapping[str, str] | None = None,
        validate_only: bool = False,
    ) -> None:
        """``None`` for partitions / replication factor means the broker's default."""
        ...

    async def delete_topics(self, names: Sequence[str]) -> None:
        """Delete all ``names``; if any does not exist nothing is deleted (exit 4)."""
        ...

    async def alter_topic_configs(
        self,
        name: str,
        *,
        set_configs: Mapping[str, str] | None = None,
        delete_configs: Sequence[str] = (),
        validate_only: bool = False,
    ) -> None:
        """Change only the named configs; deleted ones fall back to their default."""
        ...

    async def add_partitions(
        self, name: str, *, count: int, validate_only: bool = False
    ) -> tuple[int, int]:
        """Add ``count`` partitions; returns (partitions before, after)."""
        ...


if TYPE_CHECKING:  # only for annotations: the DLQ core stays out of the import path
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate
    from mqctl.dlq.plan import Planner


@runtime_checkable
class DeadLetterSupport(Protocol):
    """Dead-letter queues: the broker-specific parts only. Metadata parsing, filters, plans
    and summaries are broker-neutral and live in :mod:`mqctl.dlq`."""

    async def discover_dead_letters(self, patterns: tuple[str, ...]) -> list[Candidate]:
        """Destinations that look like DLQs (dead-letter routing, names matching the
        conventions or ``patterns``, dead-letter headers), with depth and known sources."""
        ...

    async def redrive_dead_letters(
        self, dlq: Destination, planner: Planner, control: RedriveControl
    ) -> None:
        """Move messages out of ``dlq`` as ``planner`` decides, at least once: publish with
        broker confirmation, then ack/commit the DLQ message; report outcomes to
        ``control`` and stop taking messages when ``control.stopping``."""
        ...


@runtime_checkable
class QueueAdmin(Protocol):
    """Creating, deleting and purging queues (AMQP-like brokers; test set-ups, runbooks).

    A missing vhost or queue is a NotFoundError (exit 4); settings the broker refuses
    (another type or arguments for an existing queue, purging a stream) are UsageErrors.
    """

    async def create_queue(
        self,
        name: str,
        *,
        vhost: str | None = None,
        queue_type: str = "classic",
        durable: bool = True,
        arguments: Mapping[str, Any] | None = None,
    ) -> tuple[QueueSummary, bool]:
        """Returns the queue and whether it was created (False: it existed, same settings)."""
        ...

    async def delete_queue(
        self,
        name: str,
        *,
        vhost: str | None = None,
        if_empty: bool = False,
        if_unused: bool = False,
    ) -> int:
        """Returns how many messages the queue held just before."""
        ...

    async def purge_queue(self, name: str, *, vhost: str | None = None) -> int:
        """Remove ready messages; returns how many there were just before."""
        ...


from mqctl.doctor.capability import HealthChecks as HealthChecks  # noqa: E402  (doctor checks)
