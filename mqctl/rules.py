"""The rule book: what counts as a dead-letter queue, how long a queue takes to drain, and
what status a backlog has. The CLI, the TUI and the lag exporter all ask these functions, so
a queue never shows two answers (docs/dlq.md "Which queues are DLQs", docs/lag.md "Drain
time" and "Statuses").

* DLQ: :func:`is_dlq_name` (defined with the naming conventions in ``mqctl.dlq.discovery``).
* Drain time: :func:`drain_seconds` (here).
* Lag status: :func:`partition_snapshot_status` / :func:`queue_snapshot_status` for one
  snapshot, Burrow's rules in :func:`evaluate_window` (defined in ``mqctl.lag.status``).
"""

from __future__ import annotations

import math

from mqctl.dlq.discovery import is_dlq_name
from mqctl.lag.status import evaluate_window, partition_snapshot_status, queue_snapshot_status
from mqctl.models.inventory import QueueSummary

__all__ = [
    "consume_rate",
    "drain_seconds",
    "evaluate_window",
    "is_dlq_name",
    "partition_snapshot_status",
    "queue_drain_seconds",
    "queue_snapshot_status",
]


def _rate(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def consume_rate(
    ack: float | None, deliver_no_ack: float | None = None, get_no_ack: float | None = None
) -> float | None:
    """Messages leaving a queue per second: acknowledged deliveries plus deliveries and gets
    without acknowledgement (None when the broker reported none of them)."""
    known = [r for r in map(_rate, (ack, deliver_no_ack, get_no_ack)) if r is not None]
    return sum(known) if known else None


def drain_seconds(
    ready: int, consumers: int, publish: float | None, consume: float | None
) -> float | None:
    """Seconds until ``ready`` reaches 0 if the rates stay as they are; None = never.

    The backlog shrinks by what consumers take minus what publishers add, so the time is
    ``ready / (consume - publish)``: with 100 ready, consumers at 10/s and publishers at
    5/s the queue is empty in 20 s, not 10. Never when nobody consumes, the consumption rate
    is unknown or zero, or consumers are not faster than publishers. An empty queue: 0."""
    if ready <= 0:
        return 0.0
    consume = _rate(consume)
    if consumers <= 0 or consume is None or consume <= 0:
        return None
    net = consume - (_rate(publish) or 0.0)
    if not net > 0:  # (also NaN: infinite rates both ways)
        return None
    return ready / net


def queue_drain_seconds(queue: QueueSummary) -> float | None:
    """:func:`drain_seconds` of a queue listing row (its consumption rate is the ack rate:
    the listing does not carry the no-ack rates). A lean listing's row (consumers not known,
    no rates) has no estimate: None, as for any unknown rate; a view showing such rows says
    "not known" instead (the TUI's queues panel does)."""
    if queue.consumers is None:
        return None
    consume = consume_rate(queue.ack_rate)
    return drain_seconds(queue.ready, queue.consumers, queue.publish_rate, consume)
