"""Results of the DLQ tools (list, inspect, redrive). JSON fields are documented in
docs/dlq.md: add fields, never rename or remove them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mqctl.dlq.metadata import DeadLetterInfo
from mqctl.models.messages import Message


@dataclass(slots=True)
class Candidate:
    """A destination that looks like a DLQ, as a backend found it (before sampling).

    ``detected_by``: ``dead-letter-exchange`` (a queue's DLX routes here), ``name`` (naming
    convention or context pattern), ``headers`` (its messages carry dead-letter headers).
    ``sources`` are the queues/topics known to send here. ``sample`` holds messages the
    backend already read (Kafka); None asks the service to peek for a sample.
    """

    backend: str
    kind: str
    name: str
    vhost: str | None
    depth: int
    queue_type: str | None = None
    detected_by: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    sample: list[Message] | None = None


@dataclass(slots=True)
class ReasonCount:
    reason: str
    count: int


@dataclass(slots=True)
class DeadLetterQueue:
    """One row of ``mqctl dlq list``."""

    backend: str
    name: str
    vhost: str | None
    kind: str  # queue | topic
    depth: int
    sources: list[str]
    detected_by: list[str]
    oldest_age_seconds: float | None
    top_reasons: list[ReasonCount]
    sampled: int
    queue_type: str | None = None
    note: str | None = None


@dataclass(slots=True)
class MessageSample:
    """A short view of one dead-lettered message (inspect samples, dry-run listings)."""

    id: str  # message id, or partition/offset on Kafka
    key: str | None
    reason: str | None
    source: str | None
    failed_at: datetime | None
    redrive_count: int
    preview: str
    source_partition: int | None = None
    source_offset: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # dead-letter headers, decoded


@dataclass(slots=True)
class DeadLetterGroup:
    key: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    samples: list[MessageSample] = field(default_factory=list)


@dataclass(slots=True)
class InspectReport:
    """``mqctl dlq inspect``: the messages read, grouped."""

    backend: str
    dlq: str
    group_by: str
    examined: int
    formats: dict[str, int]
    groups: list[DeadLetterGroup]


@dataclass(slots=True)
class InspectedMessage:
    """A message with its parsed dead-letter metadata."""

    message: Message
    info: DeadLetterInfo


@dataclass(slots=True)
class PlanRow:
    """One reason/source of a redrive plan (or run): messages that matched the filters,
    of those already redriven (Kafka ledger), to move (moved, in a run), held by the loop
    guard, and left for another reason (no destination, ``--limit``, missing destination)."""

    reason: str
    source: str
    matched: int = 0
    already_redriven: int = 0
    to_move: int = 0
    loop_guard: int = 0
    left: int = 0


@dataclass(slots=True)
class RedriveSummary:
    """What a redrive did (or, with ``dry_run``, would do).

    ``by_destination`` counts moved (or planned) messages per target; ``skipped`` counts
    messages left in the DLQ per reason (filtered, loop-guard, no-destination, ...);
    ``failed`` messages were not confirmed by the destination and stay in the DLQ (in a
    plan: messages whose destination does not exist, which the run would fail the same way).
    ``already_redriven``: messages the Kafka redrive ledger records as moved by an earlier
    run (also counted in ``skipped``). ``rows``: the plan per reason/source. A run records
    ``planned`` (what its plan said to move) and ``plan_differs`` (why the result differs).
    """

    backend: str
    dlq: str
    dry_run: bool
    examined: int = 0
    moved: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_destination: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    stopped_early: str | None = None
    duration_seconds: float = 0.0
    rate_per_second: float | None = None
    samples: list[MessageSample] = field(default_factory=list)
    already_redriven: int = 0
    rows: list[PlanRow] = field(default_factory=list)
    planned: int | None = None
    plan_differs: str | None = None
    unwrap: str | None = None
    note: str | None = None


@dataclass(slots=True)
class LedgerRun:
    """One redrive run as the Kafka ledger recorded it."""

    run: str
    by: str
    first_at: str
    last_at: str
    moved: int


@dataclass(slots=True)
class AuditedRedrive:
    """One redrive of this DLQ in the local audit log."""

    time: str
    user: str
    host: str
    outcome: str
    moved: int
    failed: int
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RedriveStatus:
    """``mqctl dlq status``: how much of a DLQ was already redriven, when, by whom.

    Kafka: from the redrive ledger (``redriven`` all time; ``redriven_retained`` of the
    records still in the topic; ``not_redriven`` = retained records minus those) and the
    lease (``running``). Every broker: the local audit log (``audit``, newest first)."""

    backend: str
    dlq: str
    depth: int | None = None
    redriven: int | None = None
    redriven_retained: int | None = None
    not_redriven: int | None = None
    last_redrive_at: str | None = None
    last_redrive_by: str | None = None
    running: str | None = None
    runs: list[LedgerRun] = field(default_factory=list)
    audit: list[AuditedRedrive] = field(default_factory=list)
