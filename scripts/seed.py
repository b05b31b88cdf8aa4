"""Seed the local brokers with the mqctl demo scenario: an order system.

Standalone on purpose (aiokafka, aio-pika and httpx only; it does not import mqctl), so it can
reset the brokers even when mqctl itself is broken. Idempotent: every run deletes and recreates
the scenario's topics, consumer groups, exchanges and queues and ends in the same known state
(same contents, same per-partition counts; only the timestamps move with the clock).

Kafka (127.0.0.1:9092)
  order.created       6 partitions, 3000 order events keyed by orderId, timestamps over the
                      last ~2 hours, headers eventType/source/traceparent/...
  order.created.dlq   3 partitions, 60 failed events: a third with Spring Kafka DLT headers,
                      a third with Kafka Connect error headers, the rest application fields only
  consumer groups     inventory-group (caught up, lag 0), notification-group (lag 40..80 per
                      partition), analytics-group (stopped at ~25%: large lag); no members
RabbitMQ (127.0.0.1:5672, management http://127.0.0.1:15672, guest:guest, vhost /)
  exchanges           orders (topic), notifications.dlx (direct)
  notifications_queue classic, bound to orders with order.*, dead-letters to notifications.dlx
                      450 messages ready, no consumer
  notifications_queue.dlq  45 messages dead-lettered by the broker itself (30 rejected,
                      15 expired), so they carry genuine x-death headers
  payments_queue      quorum queue, x-delivery-limit 5, 20 messages
  order_events_stream stream queue bound to orders with order.#, gets every order event (495)

Usage: .venv/bin/python scripts/seed.py [--only kafka|rabbitmq] [--quiet]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import struct
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aio_pika
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaError,
)
from aiokafka.protocol.admin import DeleteGroupsRequest

KAFKA_BOOTSTRAP = "127.0.0.1:9092"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
MGMT_URL = "http://127.0.0.1:15672"
MGMT_AUTH = ("guest", "guest")
VHOST = "/"

ORDERS_TOPIC = "order.created"
ORDERS_PARTITIONS = 6
ORDERS_COUNT = 3000
DLQ_TOPIC = "order.created.dlq"
DLQ_PARTITIONS = 3
DLQ_COUNT = 60
GROUPS = ("inventory-group", "notification-group", "analytics-group")

ORDERS_EXCHANGE = "orders"
DLX_EXCHANGE = "notifications.dlx"
NOTIFICATIONS_QUEUE = "notifications_queue"
NOTIFICATIONS_DLQ = "notifications_queue.dlq"
PAYMENTS_QUEUE = "payments_queue"
STREAM_QUEUE = "order_events_stream"
RABBIT_REJECTED = 30
RABBIT_EXPIRED = 15
RABBIT_READY = 450
PAYMENTS_COUNT = 20

SEED = 20240611  # fixed: every run produces the same contents

SKUS: list[tuple[str, str, float]] = [
    ("SKU-TSHIRT-BLK-M", "T-shirt black M", 19.99),
    ("SKU-TSHIRT-WHT-L", "T-shirt white L", 19.99),
    ("SKU-HOODIE-GRY-M", "Hoodie grey M", 49.90),
    ("SKU-JEANS-32-34", "Jeans 32/34", 69.00),
    ("SKU-SNEAKER-42", "Sneakers EU 42", 89.95),
    ("SKU-SNEAKER-44", "Sneakers EU 44", 89.95),
    ("SKU-CAP-NAVY", "Cap navy", 14.50),
    ("SKU-SOCKS-3PK", "Socks 3-pack", 9.99),
    ("SKU-BACKPACK-20L", "Backpack 20L", 59.00),
    ("SKU-BOTTLE-750", "Steel bottle 750ml", 24.90),
    ("SKU-JACKET-RAIN-L", "Rain jacket L", 119.00),
    ("SKU-BELT-LTHR-90", "Leather belt 90cm", 34.00),
]
ADDRESSES: list[tuple[str, str, str]] = [
    ("DE", "Berlin", "10115"),
    ("DE", "Hamburg", "20095"),
    ("FR", "Paris", "75002"),
    ("FR", "Lyon", "69001"),
    ("NL", "Amsterdam", "1012 AB"),
    ("GB", "London", "EC1A 1BB"),
    ("US", "Seattle", "98101"),
    ("US", "Austin", "78701"),
    ("ES", "Madrid", "28013"),
    ("IT", "Milan", "20121"),
]
CURRENCY = {
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "ES": "EUR",
    "IT": "EUR",
    "GB": "GBP",
    "US": "USD",
}


class SeedError(Exception):
    """A clear, user-facing failure (broker unreachable, unexpected state)."""


def log(msg: str) -> None:
    if not QUIET:
        print(msg, flush=True)


QUIET = False


def iso(ts_ms: int) -> str:
    return (
        datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def traceparent(rng: random.Random) -> str:
    return f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01"


# ---------------------------------------------------------------------------------------------
# Scenario data (deterministic)
# ---------------------------------------------------------------------------------------------


@dataclass
class Order:
    order_id: str
    ts_ms: int
    body: dict[str, Any]
    trace: str


def make_orders(now_ms: int) -> list[Order]:
    rng = random.Random(SEED)
    span_ms = 2 * 3600 * 1000
    # offsets from "2 hours ago", sorted; the newest is ~30 s old
    offsets = sorted(rng.randint(0, span_ms - 30_000) for _ in range(ORDERS_COUNT))
    orders: list[Order] = []
    for i, off in enumerate(offsets, start=1):
        ts = now_ms - span_ms + off
        country, city, postal = rng.choice(ADDRESSES)
        items: list[dict[str, Any]] = []
        subtotal = 0.0
        for sku, name, price in rng.sample(
            SKUS, rng.choices([1, 2, 3, 4], weights=[45, 30, 17, 8])[0]
        ):
            qty = rng.choices([1, 2, 3], weights=[75, 20, 5])[0]
            items.append({"sku": sku, "name": name, "qty": qty, "price": price})
            subtotal += qty * price
        total = round(subtotal, 2)
        order_id = f"ord-{100000 + i:06d}"
        body = {
            "orderId": order_id,
            "customerId": f"cust-{rng.randint(1, 420):05d}",
            "items": items,
            "total": total,
            "currency": CURRENCY[country],
            "status": "CREATED",
            "channel": rng.choices(["web", "ios", "android"], weights=[55, 25, 20])[0],
            "shippingAddress": {"country": country, "city": city, "postalCode": postal},
            "createdAt": iso(ts),
        }
        orders.append(Order(order_id, ts, body, traceparent(rng)))
    return orders


def order_headers(o: Order) -> list[tuple[str, bytes]]:
    return [
        ("eventType", b"order_created"),
        ("source", b"checkout-service"),
        ("contentType", b"application/json"),
        ("schemaVersion", b"3"),
        ("traceparent", o.trace.encode()),
    ]


DLQ_REASONS: list[dict[str, str]] = [
    {
        "error": "inventory service timeout",
        "fqcn": "org.springframework.web.client.ResourceAccessException",
        "message": (
            'I/O error on POST request for "http://inventory-service/api/v1/reservations": '
            "Read timed out"
        ),
        "connect_stage": "TASK_PUT",
        "connect_exc": "org.apache.kafka.connect.errors.RetriableException",
        "frame": "com.example.inventory.ReservationClient.reserve(ReservationClient.java:88)",
    },
    {
        "error": "payment declined",
        "fqcn": "com.example.payments.PaymentDeclinedException",
        "message": "Payment declined by issuer: insufficient_funds",
        "connect_stage": "TASK_PUT",
        "connect_exc": "org.apache.kafka.connect.errors.ConnectException",
        "frame": "com.example.payments.PaymentService.capture(PaymentService.java:142)",
    },
    {
        "error": "invalid address: missing postal code",
        "fqcn": "jakarta.validation.ConstraintViolationException",
        "message": "shippingAddress.postalCode: must not be blank",
        "connect_stage": "TRANSFORMATION",
        "connect_exc": "org.apache.kafka.connect.errors.DataException",
        "frame": "com.example.orders.AddressValidator.validate(AddressValidator.java:57)",
    },
    {
        "error": "schema validation failed: total must be >= 0",
        "fqcn": "org.apache.kafka.common.errors.SerializationException",
        "message": "Error deserializing JSON message: $.total: must have a minimum value of 0",
        "connect_stage": "VALUE_CONVERTER",
        "connect_exc": "org.apache.kafka.connect.errors.DataException",
        "frame": "com.example.orders.OrderSchemaValidator.check(OrderSchemaValidator.java:31)",
    },
]


def stacktrace(fqcn: str, message: str, frame: str) -> str:
    return (
        "org.springframework.kafka.listener.ListenerExecutionFailedException: "
        "Listener method 'public void com.example.fulfillment.OrderListener.onOrder("
        "org.apache.kafka.clients.consumer.ConsumerRecord)' threw exception\n"
        "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer"
        ".decorateException(KafkaMessageListenerContainer.java:2969)\n"
        "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer"
        ".doInvokeOnMessage(KafkaMessageListenerContainer.java:2902)\n"
        f"Caused by: {fqcn}: {message}\n"
        f"\tat {frame}\n"
        "\tat com.example.fulfillment.OrderListener.onOrder(OrderListener.java:64)\n"
        "\t... 15 more\n"
    )


@dataclass
class DlqEvent:
    key: str
    ts_ms: int
    value: dict[str, Any]
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    style: str = "plain"


@dataclass
class Failure:
    index: int  # into the orders list
    reason: dict[str, str]
    retry: int
    delay_ms: int


def plan_failures(orders: list[Order]) -> list[Failure]:
    """Which orders fail downstream and why. The orders that fail validation are made invalid in
    order.created itself (no postal code, negative total), so the DLQ copy matches its original."""
    rng = random.Random(SEED + 1)
    picked = sorted(rng.sample(range(len(orders)), DLQ_COUNT))
    plan = []
    for n, idx in enumerate(picked):
        reason = DLQ_REASONS[n % len(DLQ_REASONS)]
        plan.append(Failure(idx, reason, rng.randint(0, 5), rng.randint(200, 12 * 60 * 1000)))
        body = orders[idx].body
        if reason["error"].startswith("invalid address"):
            body["shippingAddress"]["postalCode"] = ""
        elif reason["error"].startswith("schema validation failed"):
            body["total"] = -body["total"]
    return plan


def make_dlq_events(
    orders: list[Order], plan: list[Failure], positions: dict[str, tuple[int, int]], now_ms: int
) -> list[DlqEvent]:
    """60 failed events referring to real records of order.created (partition/offset known)."""
    events: list[DlqEvent] = []
    for n, f in enumerate(plan):
        o = orders[f.index]
        reason = f.reason
        retry = f.retry
        failed_ms = min(now_ms - 1000, o.ts_ms + f.delay_ms)
        failed_at = iso(failed_ms)
        value = {
            "payload": o.body,
            "error": reason["error"],
            "failedAt": failed_at,
            "retryCount": retry,
        }
        headers: list[tuple[str, bytes]] = [
            ("error", reason["error"].encode()),
            ("failedAt", failed_at.encode()),
            ("retryCount", str(retry).encode()),
        ]
        partition, offset = positions[o.order_id]
        style = ("spring", "connect", "plain")[n % 3]
        if style == "spring":
            headers += [
                ("kafka_dlt-original-topic", ORDERS_TOPIC.encode()),
                ("kafka_dlt-original-partition", struct.pack(">i", partition)),
                ("kafka_dlt-original-offset", struct.pack(">q", offset)),
                ("kafka_dlt-original-timestamp", struct.pack(">q", o.ts_ms)),
                ("kafka_dlt-original-timestamp-type", b"CreateTime"),
                ("kafka_dlt-original-consumer-group", b"fulfillment-service"),
                (
                    "kafka_dlt-exception-fqcn",
                    b"org.springframework.kafka.listener.ListenerExecutionFailedException",
                ),
                ("kafka_dlt-exception-cause-fqcn", reason["fqcn"].encode()),
                (
                    "kafka_dlt-exception-message",
                    f"Listener failed; {reason['fqcn']}: {reason['message']}".encode(),
                ),
                (
                    "kafka_dlt-exception-stacktrace",
                    stacktrace(reason["fqcn"], reason["message"], reason["frame"]).encode(),
                ),
            ]
        elif style == "connect":
            converter = reason["connect_stage"] == "VALUE_CONVERTER"
            headers += [
                ("__connect.errors.topic", ORDERS_TOPIC.encode()),
                ("__connect.errors.partition", str(partition).encode()),
                ("__connect.errors.offset", str(offset).encode()),
                ("__connect.errors.connector.name", b"orders-warehouse-sink"),
                ("__connect.errors.task.id", str(partition % 2).encode()),
                ("__connect.errors.stage", reason["connect_stage"].encode()),
                (
                    "__connect.errors.class.name",
                    b"org.apache.kafka.connect.json.JsonConverter"
                    if converter
                    else b"com.example.connect.warehouse.WarehouseSinkTask",
                ),
                ("__connect.errors.exception.class.name", reason["connect_exc"].encode()),
                ("__connect.errors.exception.message", reason["error"].encode()),
                (
                    "__connect.errors.exception.stacktrace",
                    f"{reason['connect_exc']}: {reason['error']}\n"
                    f"\tat {reason['frame']}\n".encode(),
                ),
            ]
        events.append(DlqEvent(o.order_id, failed_ms, value, headers, style))
    events.sort(key=lambda e: e.ts_ms)
    return events


# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------


@dataclass
class KafkaSummary:
    topics: dict[str, dict[int, int]] = field(default_factory=dict)  # topic -> partition -> end
    groups: dict[str, dict[int, int]] = field(default_factory=dict)  # group -> partition -> lag
    dlq_styles: dict[str, int] = field(default_factory=dict)


async def kafka_admin() -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=15000)
    try:
        await asyncio.wait_for(admin.start(), 10)
    except (KafkaConnectionError, KafkaError, OSError, TimeoutError) as exc:
        await admin.close()
        raise SeedError(
            f"Kafka is not reachable at {KAFKA_BOOTSTRAP} ({exc.__class__.__name__}: {exc}). "
            "Start it with `make brokers` (or `bash scripts/brokers.sh up kafka`)."
        ) from exc
    return admin


async def find_coordinator(admin: AIOKafkaAdminClient, group: str) -> int:
    # the first group request on a fresh broker creates __consumer_offsets: retry while the
    # coordinator is not available yet
    deadline = time.monotonic() + 30
    while True:
        try:
            return int(await admin.find_coordinator(group))
        except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            if time.monotonic() > deadline:
                raise SeedError("the Kafka group coordinator is not available after 30 s") from None
            await asyncio.sleep(0.25)


async def delete_groups(admin: AIOKafkaAdminClient, groups: tuple[str, ...]) -> None:
    # 14 COORDINATOR_LOAD_IN_PROGRESS, 15 COORDINATOR_NOT_AVAILABLE, 16 NOT_COORDINATOR: a fresh
    # broker is still loading __consumer_offsets; retry
    retriable = {14, 15, 16}
    deadline = time.monotonic() + 30
    for group in groups:
        while True:
            coordinator = await find_coordinator(admin, group)
            resp = await admin._send_request(DeleteGroupsRequest([group]), coordinator)
            (_group_id, code), *_ = resp.results
            if code in retriable and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                continue
            break
        if code == 68:  # NON_EMPTY_GROUP
            raise SeedError(
                f"consumer group {group} has live members (someone is consuming with it); "
                "stop that consumer and re-run the seed"
            )
        if code not in (0, 69):  # 69 GROUP_ID_NOT_FOUND
            raise SeedError(f"deleting consumer group {group} failed with Kafka error code {code}")


async def recreate_topics(admin: AIOKafkaAdminClient, specs: dict[str, int]) -> None:
    existing = set(await admin.list_topics())
    to_delete = [t for t in specs if t in existing]
    if to_delete:
        resp = await admin.delete_topics(to_delete, timeout_ms=15000)
        for topic, code, *_ in resp.topic_error_codes:
            if code not in (0, 3):  # 3 UNKNOWN_TOPIC_OR_PARTITION
                raise SeedError(f"deleting topic {topic} failed with Kafka error code {code}")
    pending = dict(specs)
    deadline = time.monotonic() + 30
    while pending:
        resp = await admin.create_topics(
            [NewTopic(name=t, num_partitions=n, replication_factor=1) for t, n in pending.items()],
            timeout_ms=15000,
        )
        retry: dict[str, int] = {}
        for topic, code, *rest in resp.topic_errors:
            if code == 0:
                continue
            # 36 TOPIC_ALREADY_EXISTS: the deletion is still in progress
            if code == 36 and time.monotonic() < deadline:
                retry[topic] = pending[topic]
                continue
            msg = rest[0] if rest else ""
            raise SeedError(f"creating topic {topic} failed with Kafka error code {code} {msg}")
        pending = retry
        if pending:
            await asyncio.sleep(0.25)
    # wait until every partition has a leader in the metadata
    deadline = time.monotonic() + 20
    while True:
        described = await admin.describe_topics(list(specs))
        ready = all(
            t["error_code"] == 0
            and len(t["partitions"]) == specs[t["topic"]]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        )
        if ready:
            return
        if time.monotonic() > deadline:
            raise SeedError(f"topics {sorted(specs)} were created but have no leaders after 20 s")
        await asyncio.sleep(0.2)


async def seed_kafka(now_ms: int) -> KafkaSummary:
    summary = KafkaSummary()
    admin = await kafka_admin()
    try:
        await delete_groups(admin, GROUPS)
        await recreate_topics(admin, {ORDERS_TOPIC: ORDERS_PARTITIONS, DLQ_TOPIC: DLQ_PARTITIONS})
        log(
            f"kafka: recreated {ORDERS_TOPIC} ({ORDERS_PARTITIONS} partitions) "
            f"and {DLQ_TOPIC} ({DLQ_PARTITIONS})"
        )

        orders = make_orders(now_ms)
        plan = plan_failures(orders)
        producer = AIOKafkaProducer(
            bootstrap_servers=KAFKA_BOOTSTRAP,
            acks="all",
            linger_ms=10,
            max_batch_size=262144,
            client_id="checkout-service",
        )
        await producer.start()
        try:
            futures = [
                await producer.send(
                    ORDERS_TOPIC,
                    key=o.order_id.encode(),
                    value=json.dumps(o.body, separators=(",", ":")).encode(),
                    timestamp_ms=o.ts_ms,
                    headers=order_headers(o),
                )
                for o in orders
            ]
            metas = await asyncio.gather(*futures)
            positions = {
                o.order_id: (m.partition, m.offset) for o, m in zip(orders, metas, strict=True)
            }
            log(f"kafka: produced {len(orders)} events to {ORDERS_TOPIC}")

            dlq = make_dlq_events(orders, plan, positions, now_ms)
            futures = [
                await producer.send(
                    DLQ_TOPIC,
                    key=e.key.encode(),
                    value=json.dumps(e.value, separators=(",", ":")).encode(),
                    timestamp_ms=e.ts_ms,
                    headers=e.headers,
                )
                for e in dlq
            ]
            await asyncio.gather(*futures)
            for e in dlq:
                summary.dlq_styles[e.style] = summary.dlq_styles.get(e.style, 0) + 1
            log(f"kafka: produced {len(dlq)} failed events to {DLQ_TOPIC}")
        finally:
            await producer.stop()

        # end offsets per partition
        probe = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP)
        await probe.start()
        try:
            for topic, n in ((ORDERS_TOPIC, ORDERS_PARTITIONS), (DLQ_TOPIC, DLQ_PARTITIONS)):
                tps = [TopicPartition(topic, p) for p in range(n)]
                ends = await probe.end_offsets(tps)
                summary.topics[topic] = {tp.partition: ends[tp] for tp in tps}
        finally:
            await probe.stop()

        ends = summary.topics[ORDERS_TOPIC]
        rng = random.Random(SEED + 2)
        targets: dict[str, dict[int, int]] = {
            "inventory-group": dict(ends),
            "notification-group": {p: max(0, e - rng.randint(40, 80)) for p, e in ends.items()},
            "analytics-group": {p: e // 4 for p, e in ends.items()},
        }
        await asyncio.gather(*(commit_group(g, offs) for g, offs in targets.items()))

        # read back what the broker has, so the summary shows the real state
        for group in GROUPS:
            committed = await admin.list_consumer_group_offsets(group)
            lag = {}
            for p, end in ends.items():
                om = committed.get(TopicPartition(ORDERS_TOPIC, p))
                if om is None or om.offset < 0:
                    raise SeedError(
                        f"group {group} has no committed offset for {ORDERS_TOPIC}[{p}]"
                    )
                if om.offset != targets[group][p]:
                    raise SeedError(
                        f"group {group} partition {p}: committed {om.offset}, "
                        f"expected {targets[group][p]}"
                    )
                lag[p] = end - om.offset
            summary.groups[group] = lag
    finally:
        await admin.close()
    return summary


async def commit_group(group: str, offsets: dict[int, int]) -> None:
    """Join the group as a normal consumer would, commit explicit offsets, leave (no members)."""
    consumer = AIOKafkaConsumer(
        ORDERS_TOPIC,
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=group,
        client_id=group.replace("-group", "-service"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 20
        while len(consumer.assignment()) < ORDERS_PARTITIONS:
            if time.monotonic() > deadline:
                raise SeedError(f"consumer for {group} got no assignment within 20 s")
            await asyncio.sleep(0.05)
        await consumer.commit({TopicPartition(ORDERS_TOPIC, p): off for p, off in offsets.items()})
    finally:
        await consumer.stop()


# ---------------------------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------------------------


@dataclass
class RabbitSummary:
    depths: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def notification_message(
    rng: random.Random, seq: int, ts: datetime, kind: str, *, bad_email: bool = False
) -> aio_pika.Message:
    order_id = f"ord-{200000 + seq:06d}"
    country, _city, _postal = rng.choice(ADDRESSES)
    customer = rng.randint(1, 420)
    body: dict[str, Any] = {
        "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": kind,
        "orderId": order_id,
        "customerId": f"cust-{customer:05d}",
        # the messages the notification service rejects: an address it cannot send to
        "email": f"customer{customer}@example" if bad_email else f"customer{customer}@example.com",
        "total": round(rng.uniform(9.99, 320.0), 2),
        "currency": CURRENCY[country],
        "occurredAt": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if kind == "order_cancelled":
        body["reason"] = rng.choice(["customer_request", "payment_failed", "out_of_stock"])
    return aio_pika.Message(
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=f"msg-{seq:06d}",
        correlation_id=order_id,
        timestamp=ts,
        type=kind,
        app_id="checkout-service",
        headers={
            "eventType": kind,
            "source": "checkout-service",
            "traceparent": traceparent(rng),
            "schemaVersion": 2,
        },
    )


async def mgmt_client() -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=MGMT_URL, auth=MGMT_AUTH, timeout=10)
    try:
        r = await client.get("/api/overview")
        r.raise_for_status()
    except (httpx.HTTPError, OSError) as exc:
        await client.aclose()
        raise SeedError(
            f"the RabbitMQ management API is not reachable at {MGMT_URL} "
            f"({exc.__class__.__name__}: {exc}). "
            "Start RabbitMQ with `make brokers` (or `bash scripts/brokers.sh up rabbitmq`)."
        ) from exc
    return client


async def mgmt_delete(client: httpx.AsyncClient, kind: str, name: str) -> None:
    r = await client.delete(f"/api/{kind}/{quote(VHOST, safe='')}/{quote(name, safe='')}")
    if r.status_code not in (200, 204, 404):
        raise SeedError(
            f"deleting {kind[:-1]} {name} via the management API failed: "
            f"HTTP {r.status_code} {r.text}"
        )


async def queue_depth(channel: aio_pika.abc.AbstractChannel, name: str) -> int:
    q = await channel.declare_queue(name, passive=True)
    return int(q.declaration_result.message_count or 0)


async def wait_depth(
    channel: aio_pika.abc.AbstractChannel, name: str, want: int, within: float = 15
) -> int:
    deadline = time.monotonic() + within
    while True:
        depth = await queue_depth(channel, name)
        if depth == want or time.monotonic() > deadline:
            return depth
        await asyncio.sleep(0.1)


async def seed_rabbitmq(now: datetime) -> RabbitSummary:
    summary = RabbitSummary()
    client = await mgmt_client()
    try:
        for q in (NOTIFICATIONS_QUEUE, NOTIFICATIONS_DLQ, PAYMENTS_QUEUE, STREAM_QUEUE):
            await mgmt_delete(client, "queues", q)
        for x in (ORDERS_EXCHANGE, DLX_EXCHANGE):
            await mgmt_delete(client, "exchanges", x)
    finally:
        await client.aclose()

    try:
        connection = await asyncio.wait_for(
            aio_pika.connect(AMQP_URL, client_properties={"connection_name": "mqctl-seed"}), 10
        )
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
        raise SeedError(
            f"RabbitMQ AMQP is not reachable at 127.0.0.1:5672 ({exc.__class__.__name__}: {exc})"
        ) from exc

    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        orders_x = await channel.declare_exchange(
            ORDERS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx = await channel.declare_exchange(
            DLX_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        dlq = await channel.declare_queue(
            NOTIFICATIONS_DLQ, durable=True, arguments={"x-queue-type": "classic"}
        )
        await dlq.bind(dlx, routing_key=NOTIFICATIONS_DLQ)
        notif = await channel.declare_queue(
            NOTIFICATIONS_QUEUE,
            durable=True,
            arguments={
                "x-queue-type": "classic",
                "x-dead-letter-exchange": DLX_EXCHANGE,
                "x-dead-letter-routing-key": NOTIFICATIONS_DLQ,
            },
        )
        await notif.bind(orders_x, routing_key="order.*")
        stream = await channel.declare_queue(
            STREAM_QUEUE,
            durable=True,
            arguments={"x-queue-type": "stream", "x-max-length-bytes": 200_000_000},
        )
        await stream.bind(orders_x, routing_key="order.#")
        await channel.declare_queue(
            PAYMENTS_QUEUE,
            durable=True,
            arguments={"x-queue-type": "quorum", "x-delivery-limit": 5},
        )
        log("rabbitmq: declared exchanges orders, notifications.dlx and 4 queues")

        rng = random.Random(SEED + 3)
        total = RABBIT_REJECTED + RABBIT_EXPIRED + RABBIT_READY
        start = now - timedelta(minutes=60)
        step = timedelta(minutes=59) / total

        def build(seq: int, bad_email: bool = False) -> tuple[aio_pika.Message, str]:
            kind = "order_cancelled" if rng.random() < 0.12 else "order_created"
            msg = notification_message(rng, seq, start + step * seq, kind, bad_email=bad_email)
            return msg, "order.cancelled" if kind == "order_cancelled" else "order.created"

        async def publish(batch: list[tuple[aio_pika.Message, str]]) -> None:
            # publisher confirms: each publish resolves when the broker confirmed it
            await asyncio.gather(
                *(orders_x.publish(m, routing_key=rk, mandatory=True) for m, rk in batch)
            )

        seq = 0
        # 1) messages the notification consumer cannot handle: rejected without requeue, so the
        #    broker dead-letters them (x-death reason "rejected")
        poison = [build(seq + i, bad_email=True) for i in range(RABBIT_REJECTED)]
        seq += RABBIT_REJECTED
        poison_ids = {m.message_id for m, _ in poison}
        await publish(poison)
        await wait_depth(channel, NOTIFICATIONS_QUEUE, RABBIT_REJECTED, 10)
        rejected = 0
        for _ in range(RABBIT_REJECTED):
            incoming = await notif.get(no_ack=False, fail=False, timeout=5)
            if incoming is None:
                break
            if incoming.message_id not in poison_ids:
                raise SeedError(
                    f"unexpected message {incoming.message_id} at the head of {NOTIFICATIONS_QUEUE}"
                )
            await incoming.reject(requeue=False)
            rejected += 1
        if rejected != RABBIT_REJECTED:
            raise SeedError(
                f"only {rejected} of {RABBIT_REJECTED} messages could be fetched for rejection"
            )
        depth = await wait_depth(channel, NOTIFICATIONS_DLQ, RABBIT_REJECTED)
        if depth != RABBIT_REJECTED:
            raise SeedError(
                f"{NOTIFICATIONS_DLQ} has {depth} messages after rejecting {RABBIT_REJECTED}"
            )

        # 2) time-limited notifications that nobody picked up in time: a short per-message TTL on
        #    an otherwise empty queue, so each one reaches the head and expires (reason "expired")
        expiring = []
        for i in range(RABBIT_EXPIRED):
            m, rk = build(seq + i)
            m.expiration = timedelta(milliseconds=50)
            m.headers = {**(m.headers or {}), "notificationKind": "flash_sale_push"}
            expiring.append((m, rk))
        seq += RABBIT_EXPIRED
        await publish(expiring)
        want = RABBIT_REJECTED + RABBIT_EXPIRED
        depth = await wait_depth(channel, NOTIFICATIONS_DLQ, want)
        if depth != want:
            raise SeedError(
                f"{NOTIFICATIONS_DLQ} has {depth} messages, expected {want} after the TTL expiries"
            )
        left = await queue_depth(channel, NOTIFICATIONS_QUEUE)
        if left != 0:
            raise SeedError(f"{NOTIFICATIONS_QUEUE} still holds {left} messages after the TTL step")

        # 3) the backlog: ready, no consumer
        for first in range(0, RABBIT_READY, 100):
            await publish([build(seq + i) for i in range(first, min(first + 100, RABBIT_READY))])
        seq += RABBIT_READY

        # payments: a small quorum-queue backlog through the default exchange
        prng = random.Random(SEED + 4)
        pay_msgs = []
        for i in range(PAYMENTS_COUNT):
            ts = now - timedelta(minutes=30) + timedelta(seconds=85 * i)
            pay_order = f"ord-{200000 + prng.randint(0, total - 1):06d}"
            body = {
                "paymentId": f"pay-{500000 + i:06d}",
                "orderId": pay_order,
                "amount": round(prng.uniform(9.99, 320.0), 2),
                "currency": prng.choice(["EUR", "EUR", "USD", "GBP"]),
                "method": prng.choice(["card", "card", "paypal", "sepa_debit"]),
                "requestedAt": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
            pay_msgs.append(
                aio_pika.Message(
                    body=json.dumps(body, separators=(",", ":")).encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=f"paymsg-{i:05d}",
                    correlation_id=pay_order,
                    timestamp=ts,
                    type="payment_requested",
                    app_id="checkout-service",
                    headers={"eventType": "payment_requested", "source": "checkout-service"},
                )
            )
        await asyncio.gather(
            *(
                channel.default_exchange.publish(m, routing_key=PAYMENTS_QUEUE, mandatory=True)
                for m in pay_msgs
            )
        )

        summary.depths[NOTIFICATIONS_QUEUE] = await wait_depth(
            channel, NOTIFICATIONS_QUEUE, RABBIT_READY, 10
        )
        summary.depths[NOTIFICATIONS_DLQ] = await queue_depth(channel, NOTIFICATIONS_DLQ)
        summary.depths[PAYMENTS_QUEUE] = await wait_depth(
            channel, PAYMENTS_QUEUE, PAYMENTS_COUNT, 10
        )
        summary.depths[STREAM_QUEUE] = total  # every event published to `orders` (confirmed)
        summary.notes[STREAM_QUEUE] = "stream, confirmed publishes"
        summary.notes[NOTIFICATIONS_DLQ] = (
            f"{RABBIT_REJECTED} rejected + {RABBIT_EXPIRED} expired, with x-death"
        )
        summary.notes[PAYMENTS_QUEUE] = "quorum, x-delivery-limit 5"
        summary.notes[NOTIFICATIONS_QUEUE] = "classic, no consumer"

    for name, want in (
        (NOTIFICATIONS_QUEUE, RABBIT_READY),
        (NOTIFICATIONS_DLQ, RABBIT_REJECTED + RABBIT_EXPIRED),
        (PAYMENTS_QUEUE, PAYMENTS_COUNT),
    ):
        if summary.depths[name] != want:
            raise SeedError(f"{name} has {summary.depths[name]} messages, expected {want}")
    return summary


# ---------------------------------------------------------------------------------------------


def print_summary(ks: KafkaSummary | None, rs: RabbitSummary | None, elapsed: float) -> None:
    print(f"seeded in {elapsed:.1f}s")
    if ks is not None:
        print("Kafka 127.0.0.1:9092")
        for topic, ends in ks.topics.items():
            per = " ".join(f"p{p}={n}" for p, n in sorted(ends.items()))
            print(f"  topic {topic:<20} {sum(ends.values()):>5} messages  ({per})")
        styles = ", ".join(f"{n} {s}" for s, n in sorted(ks.dlq_styles.items()))
        print(f"  {DLQ_TOPIC} header styles: {styles}")
        for group, lag in ks.groups.items():
            per = " ".join(f"p{p}={n}" for p, n in sorted(lag.items()))
            print(f"  group {group:<20} lag {sum(lag.values()):>5}  ({per})")
    if rs is not None:
        print("RabbitMQ 127.0.0.1:5672 (management http://127.0.0.1:15672)")
        for name, depth in rs.depths.items():
            print(f"  queue {name:<24} {depth:>5} messages  ({rs.notes.get(name, '')})")


async def reachable(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def preflight(only: str | None) -> list[str]:
    """Check every broker we need before changing anything, so a half-seeded state is rare."""
    checks: list[tuple[str, int, str]] = []
    if only in (None, "kafka"):
        checks.append(("127.0.0.1", 9092, "Kafka"))
    if only in (None, "rabbitmq"):
        checks += [
            ("127.0.0.1", 5672, "RabbitMQ AMQP"),
            ("127.0.0.1", 15672, "RabbitMQ management"),
        ]
    results = await asyncio.gather(*(reachable(h, p) for h, p, _ in checks))
    return [
        f"{what} is not reachable at {h}:{p}"
        for (h, p, what), ok in zip(checks, results, strict=True)
        if not ok
    ]


async def main(only: str | None) -> int:
    started = time.monotonic()
    down = await preflight(only)
    if down:
        for line in down:
            print(f"seed: {line}", file=sys.stderr)
        print(
            "seed: start the brokers with `make brokers` (or `bash scripts/brokers.sh up`), "
            "check them with `bash scripts/brokers.sh status`",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(tz=UTC)
    now_ms = int(now.timestamp() * 1000)
    tasks: list[Any] = []
    if only in (None, "kafka"):
        tasks.append(seed_kafka(now_ms))
    if only in (None, "rabbitmq"):
        tasks.append(seed_rabbitmq(now))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        for e in errors:
            if isinstance(e, SeedError):
                print(f"seed: {e}", file=sys.stderr)
            else:
                print(f"seed: unexpected {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    ks = next((r for r in results if isinstance(r, KafkaSummary)), None)
    rs = next((r for r in results if isinstance(r, RabbitSummary)), None)
    print_summary(ks, rs, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kafka", "rabbitmq"], help="seed one broker only")
    parser.add_argument("--quiet", action="store_true", help="print the summary only")
    args = parser.parse_args()
    QUIET = args.quiet
    # aiokafka logs connection errors itself; the seed reports failures in its own words
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        sys.exit(asyncio.run(asyncio.wait_for(main(args.only), 120)))
    except TimeoutError:
        print(
            "seed: timed out after 120 s "
            "(are the brokers healthy? `bash scripts/brokers.sh status`)",
            file=sys.stderr,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
