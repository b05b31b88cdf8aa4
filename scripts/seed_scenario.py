"""The seeded order-system scenario: constants, deterministic data and logging (see seed.py)."""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
