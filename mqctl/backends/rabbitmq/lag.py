"""Queue depth as lag: one :class:`LagEntry` per queue, from one paginated listing.

Rules (docs/rabbitmq.md, "Lag"):

* backlog (``total_lag``) = ready messages; ``max_time_lag_seconds`` = head message age when
  the broker knows it (classic queues whose publishers set the timestamp property);
* consumption rate = ack + no-ack deliver + no-ack get rates; drain time = ready ÷ (that
  rate − publish rate), ``None`` ("never") when there are no consumers or they are not
  faster than publishers (``mqctl.rules.drain_seconds``, shared with the TUI);
* status: messages and no consumers -> STOPPED; a backlog that never drains -> LAGGING;
  otherwise OK;
* streams keep every message, so depth is not a backlog: their lag is the largest
  stream-protocol consumer's offset lag (read position to committed end) where the broker
  exposes it (the ``rabbitmq_stream_management`` plugin), else 0.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from mqctl import rules
from mqctl.backends.rabbitmq.amqp import AmqpConnections
from mqctl.backends.rabbitmq.inventory import head_age, queue_docs, queue_summary, rate
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import MqctlError, NotFoundError, UsageError
from mqctl.models.inventory import QueueSummary
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, QueueDepth


def consume_rate(stats: Any) -> float | None:
    return rules.consume_rate(*(rate(stats, k) for k in ("ack", "deliver_no_ack", "get_no_ack")))


drain_seconds = rules.drain_seconds  # the one drain rule (mqctl/rules.py)


def queue_status(
    messages: int, ready: int, consumers: int, drain: float | None, queue_type: str
) -> LagStatus:
    if queue_type == "stream":
        return LagStatus.OK
    if messages > 0 and consumers == 0:
        return LagStatus.STOPPED
    if ready > 0 and drain is None:
        return LagStatus.LAGGING
    return LagStatus.OK


def stream_consumer_lag(stream: str, doc: dict[str, Any]) -> PartitionLag:
    """One stream-protocol consumer (a ``/api/stream/consumers`` document) as a lag row.

    The broker reports the consumer's read position (``offset``: the last chunk it was sent)
    and ``offset_lag`` (the stream's committed end minus that position); the offset a
    consumer *stores* (server-side offset tracking) is not in the management API. The owner
    is the consumer's ``name`` property when the client sets one, else its connection."""
    offset = doc.get("offset")
    position = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
    raw_lag = doc.get("offset_lag")
    lag = max(raw_lag, 0) if isinstance(raw_lag, int) and not isinstance(raw_lag, bool) else 0
    details = doc.get("connection_details")
    details = details if isinstance(details, dict) else {}
    props = doc.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    owner = name if isinstance(name, str) and name else None
    return PartitionLag(
        topic=stream,
        partition=0,
        committed_offset=position,
        log_start_offset=0,
        end_offset=position + lag if position is not None else lag,
        lag=lag,
        time_lag_seconds=None,
        owner=owner or details.get("name") or details.get("peer_host"),
    )


def lag_entry(doc: dict[str, Any], stream_consumers: list[dict[str, Any]]) -> LagEntry:
    stats = doc.get("message_stats") or {}
    return summary_lag_entry(
        queue_summary(doc), consume_rate(stats), head_age(doc), stream_consumers
    )


def summary_lag_entry(
    q: QueueSummary,
    consume: float | None,
    age: float | None,
    stream_consumers: list[dict[str, Any]],
) -> LagEntry:
    consumers = q.consumers
    if consumers is None:  # lag reads the full listing: a lean row here is a bug, not a 0
        raise ValueError(f"queue {q.name!r}: a lean listing row has no consumer count")
    partitions: list[PartitionLag] = []
    if q.type == "stream":
        drain = None
        partitions = [stream_consumer_lag(q.name, c) for c in stream_consumers]
        total = max((p.lag for p in partitions), default=0)
    else:
        drain = drain_seconds(q.ready, consumers, q.publish_rate, consume)
        total = q.ready
    return LagEntry(
        backend="rabbitmq",
        kind="queue",
        group=q.name,
        status=queue_status(q.messages, q.ready, consumers, drain, q.type),
        total_lag=total,
        max_time_lag_seconds=age,
        topics=[q.name],
        members=consumers,
        state=q.state,
        partitions=partitions,
        queue=QueueDepth(
            vhost=q.vhost,
            queue_type=q.type,
            ready=q.ready,
            unacked=q.unacked,
            consumers=consumers,
            publish_rate=q.publish_rate,
            deliver_rate=q.deliver_rate,
            ack_rate=q.ack_rate,
            drain_seconds=drain,
            head_age_seconds=age,
        ),
    )


async def _stream_consumers(api: ManagementClient, vhost: str) -> dict[str, list[dict[str, Any]]]:
    """Stream-protocol consumers by stream name; {} when the plugin is not enabled."""
    try:
        docs = await api.get(f"/stream/consumers/{enc(vhost)}")
    except (NotFoundError, UsageError):
        return {}  # 404/400: the stream management plugin is not enabled
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in docs if isinstance(docs, list) else []:
        queue = (doc.get("queue") or {}).get("name")
        if isinstance(queue, str):
            found.setdefault(queue, []).append(doc)
    return found


# The figures a status needs; a queue document without them comes from a node whose
# statistics are not rebuilt yet (the first seconds after a restart): not "0 messages".
STATS_KEYS = ("messages", "messages_ready", "consumers")
# Queue states in which the management figures may be stale or absent.
UNSETTLED_STATES = frozenset({"down", "crashed", "stopped", "minority", "terminated"})
CROSS_CHECK_LIMIT = 200  # passive declares per sample, at most (one round trip each)
STATS_MISSING = "statistics not available from the management API yet (node restarting?)"


def stats_missing(doc: dict[str, Any]) -> bool:
    return any(key not in doc for key in STATS_KEYS) or doc.get("state") in UNSETTLED_STATES


def unknown_entry(doc: dict[str, Any], reason: str) -> LagEntry:
    """A queue whose figures are not known: UNKNOWN with the reason, never OK."""
    entry = lag_entry({k: v for k, v in doc.items() if k not in ("message_stats",)}, [])
    entry.status = LagStatus.UNKNOWN
    entry.error = reason
    return entry


async def amqp_counts(
    amqp: AmqpConnections, vhost: str, names: list[str]
) -> dict[str, tuple[int, int]]:
    """(ready messages, consumers) of each queue from an AMQP passive declare: the broker's
    own answer, for when the management API's statistics are missing or stale. Queues that
    cannot be declared (gone, node down) are left out; an unreachable node gives {}."""
    found: dict[str, tuple[int, int]] = {}
    # bounded as a whole: a node that is going down may leave a call hanging
    with contextlib.suppress(MqctlError, TimeoutError):
        await asyncio.wait_for(_declare_each(amqp, vhost, names, found), amqp.timeout * 2)
    return found


async def _declare_each(
    amqp: AmqpConnections, vhost: str, names: list[str], found: dict[str, tuple[int, int]]
) -> None:
    channel: Any = None
    try:
        for name in names[:CROSS_CHECK_LIMIT]:
            if channel is None or channel.is_closed:
                channel = await amqp.channel(vhost)
            try:
                queue = await channel.declare_queue(name, passive=True, timeout=amqp.timeout)
            except Exception:  # the failed declare closed the channel: the next one reopens
                continue
            result = queue.declaration_result
            found[name] = (int(result.message_count or 0), int(result.consumer_count or 0))
    finally:
        if channel is not None and not channel.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(channel.close()), amqp.timeout)


def _reads_empty(doc: dict[str, Any]) -> bool:
    """The management API says the queue is empty; its figures lag the queue by up to the
    statistics interval (5 s by default), so a backlog that just arrived reads 0."""
    return doc.get("type") != "stream" and not doc.get("messages") and not doc.get("consumers")


async def _settle(
    docs: list[dict[str, Any]], amqp: AmqpConnections | None, vhost: str, named: bool
) -> dict[str, LagEntry]:
    """Entries for the queues whose management figures cannot be trusted: statistics missing
    (a restart) or, for queues named by the caller (few), an "empty, no consumers" answer
    that may be stale. Figures from a passive declare when AMQP answers (said in ``error``),
    else UNKNOWN for the missing ones."""
    missing = [d for d in docs if stats_missing(d)]
    empty = [d for d in docs if named and not stats_missing(d) and _reads_empty(d)]
    if not (missing or empty) or amqp is None:
        return {d["name"]: unknown_entry(d, STATS_MISSING) for d in missing}
    counts = await amqp_counts(amqp, vhost, [d["name"] for d in missing + empty])
    settled: dict[str, LagEntry] = {}
    for doc in missing + empty:
        name = doc["name"]
        stale = doc in empty
        if name not in counts or doc.get("type") == "stream":
            if not stale:
                settled[name] = unknown_entry(doc, STATS_MISSING)
            continue
        ready, consumers = counts[name]
        if stale and not ready and not consumers:
            continue  # the broker agrees: empty
        fixed = {**doc, "messages": ready, "messages_ready": ready, "consumers": consumers}
        fixed["messages_unacknowledged"] = doc.get("messages_unacknowledged") or 0
        fixed.pop("message_stats", None)  # rates from before the restart mean nothing
        entry = lag_entry(fixed, [])
        why = "management statistics lag behind the queue" if stale else STATS_MISSING
        entry.error = f"{why}; ready and consumers from an AMQP passive declare"
        settled[name] = entry
    return settled


async def queue_lag(
    api: ManagementClient,
    groups: list[str] | None = None,
    topic: str | None = None,
    amqp: AmqpConnections | None = None,
) -> list[LagEntry]:
    """Every queue of the context's vhost (or only the named ones), one snapshot. A Kafka
    ``topic`` restriction keeps only a queue of that name (there are no partitions here).
    Queues whose statistics are missing are cross-checked over AMQP (``amqp``) or UNKNOWN."""
    vhost = api.settings.vhost
    docs = await queue_docs(api, vhost=vhost, all_vhosts=False)
    wanted = set(groups) if groups is not None else None
    if topic is not None:
        wanted = {topic} if wanted is None else wanted & {topic}
    if wanted is not None:
        docs = [d for d in docs if d.get("name") in wanted]
    streams: dict[str, list[dict[str, Any]]] = {}
    if any(d.get("type") == "stream" for d in docs):
        streams = await _stream_consumers(api, vhost)
    settled = await _settle(docs, amqp, vhost, named=groups is not None)
    entries = [
        settled.get(d["name"]) or lag_entry(d, streams.get(d.get("name", ""), [])) for d in docs
    ]
    return sorted(entries, key=lambda e: e.group)
