"""The fixed data of the TUI's fake services (tests/tui/fakes.py): topics, queues, lag rows,
messages and findings no real broker gives on demand (missing figures, huge numbers,
255-character names, statuses the TUI does not know), the same on every run."""

from __future__ import annotations

from datetime import UTC, datetime

from mqctl.config.schema import Context
from mqctl.doctor.model import Finding, Severity
from mqctl.models.inventory import (
    QueueSummary,
    TopicSummary,
)
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag
from mqctl.models.messages import (
    Message,
)

T0 = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
LONG = "q" * 120 + "-middle-" + "z" * 127  # 255 characters: every layout must survive it


def fake_context(name: str = "staging", *, read_only: bool = False) -> Context:
    return Context(
        name=name,
        backends={"kafka": {}, "rabbitmq": {}},
        read_only=read_only,
        description="fake brokers for snapshots",
    )


def queue_summary(
    name: str, ready: int, consumers: int, pub: float | None, ack: float | None
) -> QueueSummary:
    return QueueSummary(
        vhost="/",
        name=name,
        type="quorum" if "payments" in name else "classic",
        durable=True,
        state="running",
        messages=ready,
        ready=ready,
        unacked=0,
        consumers=consumers,
        publish_rate=pub,
        deliver_rate=ack,
        ack_rate=ack,
        policy=None,
        dead_letter_exchange="" if not name.endswith(".dlq") else None,
        dead_letter_routing_key=f"{name}.dlq" if not name.endswith(".dlq") else None,
        backend="rabbitmq",
    )


TOPICS = [
    TopicSummary("order.created", 6, 1, 3000, backend="kafka"),
    TopicSummary("order.created.dlq", 3, 1, 60, backend="kafka"),
    TopicSummary("payments.settled", 3, 3, 1250, backend="kafka"),
    TopicSummary("evil\x1b[31mname", 1, 1, 0, backend="kafka"),
    TopicSummary(LONG, 3, 1, 3135, backend="kafka"),
]
QUEUES = [
    queue_summary("notifications_queue", 120, 2, 10.0, 12.5),
    queue_summary("notifications_queue.dlq", 7, 0, 0.0, None),
    queue_summary("payments_queue", 0, 1, 1.0, 1.0),
    queue_summary("audit_queue", 5400, 0, 3.0, 0.0),
    queue_summary(LONG, 31350, 1, 2.0, 2.5),
]


def lag_partitions(group: str, lags: list[int], owner: str | None) -> list[PartitionLag]:
    return [
        PartitionLag(
            topic="order.created",
            partition=i,
            committed_offset=500 - lag,
            log_start_offset=0,
            end_offset=500,
            lag=lag,
            time_lag_seconds=lag * 2.0 if lag else None,
            owner=owner,
            status=LagStatus.LAGGING if lag else LagStatus.OK,
        )
        for i, lag in enumerate(lags)
    ]


LAG = [
    LagEntry(
        "kafka",
        "group",
        "inventory-group",
        LagStatus.OK,
        0,
        None,
        ["order.created"],
        2,
        "Stable",
        lag_partitions("inventory-group", [0, 0, 0, 0, 0, 0], "inventory-1"),
    ),
    LagEntry(
        "kafka",
        "group",
        "notification-group",
        LagStatus.LAGGING,
        355,
        810.0,
        ["order.created"],
        1,
        "Stable",
        lag_partitions("notification-group", [100, 80, 75, 50, 30, 20], "notif-1"),
    ),
    LagEntry(
        "kafka",
        "group",
        "analytics-group",
        LagStatus.STOPPED,
        2253,
        5100.0,
        ["order.created"],
        0,
        "Empty",
        lag_partitions("analytics-group", [400, 380, 375, 370, 366, 362], None),
    ),
]
LAG.append(
    LagEntry(
        "kafka",
        "group",
        LONG,
        LagStatus.LAGGING,
        3135,
        42.0,
        [LONG],
        1,
        "Stable",
        [
            PartitionLag(LONG, i, 1000, 0, 1000 + lag, lag, 42.0, f"{LONG}-1", LagStatus.LAGGING)
            for i, lag in enumerate([1045, 1045, 1045])
        ],
    )
)
HISTORY = {
    f"kafka|group||{LONG}": [3100, 3110, 3120, 3125, 3130, 3135],
    "kafka|group||notification-group": [120, 180, 220, 260, 300, 355],
    "kafka|group||analytics-group": [2253, 2253, 2253, 2253, 2253, 2253],
    "kafka|group||inventory-group": [40, 10, 0, 0, 0, 0],
}

MESSAGES = [
    Message(
        backend="kafka",
        source="order.created",
        value=b'{"order_id": "ord-1001", "amount": 42.5, "items": ["book", "pen"]}',
        key=b"ord-1001",
        headers=[("trace-id", b"abc123"), ("source", b"checkout")],
        partition=0,
        offset=i,
        timestamp=T0,
        timestamp_type="CreateTime",
    )
    for i in range(3)
] + [
    Message(
        backend="kafka",
        source="order.created",
        value=b"\x00\x00\x00\x01\x02binary\xff\xfe",
        key=b"bin\x1b[2J",
        partition=1,
        offset=7,
        timestamp=T0,
    )
]

FINDINGS = [
    Finding("reachable", Severity.OK, "kafka", "kafka-1.staging:9092 answers (3 broker(s))"),
    Finding(
        "groups",
        Severity.CRIT,
        "kafka",
        "1 consumer group(s) stalled, stopped or in error",
        ["analytics-group: STOP, lag 2253 on order.created, 0 member(s)"],
        "STOP: start the consumers or delete the unused group; see `mqctl lag GROUP --window`",
    ),
    Finding(
        "dlq",
        Severity.WARN,
        "rabbitmq",
        "1 dead-letter queue(s) hold messages",
        ["notifications_queue.dlq: 7 message(s)"],
        "inspect with `mqctl dlq inspect NAME`; redrive or purge once understood",
    ),
    Finding(
        "queues-no-consumers",
        Severity.WARN,
        "rabbitmq",
        "1 queue(s) hold messages nobody consumes",
        ["audit_queue: 5400 message(s), no consumers"],
        "start the consumer, or purge/delete the queue if it is abandoned",
    ),
    Finding(
        "connection-churn",
        Severity.UNKNOWN,
        "rabbitmq",
        "connection churn could not be read",
        ["the management API returned no churn rates"],
        "check the management plugin's statistics",
    ),
    Finding("controller", Severity.OK, "kafka", "controller is broker 1", ["brokers: 3"]),
    Finding("alarms", Severity.OK, "rabbitmq", "no alarm on 1 node(s)"),
]
