"""Seeding RabbitMQ: exchanges, queues and broker-dead-lettered messages (see seed.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import aio_pika
import httpx
from seed_scenario import (
    ADDRESSES,
    AMQP_URL,
    CURRENCY,
    DLX_EXCHANGE,
    MGMT_AUTH,
    MGMT_URL,
    NOTIFICATIONS_DLQ,
    NOTIFICATIONS_QUEUE,
    ORDERS_EXCHANGE,
    PAYMENTS_COUNT,
    PAYMENTS_QUEUE,
    RABBIT_EXPIRED,
    RABBIT_READY,
    RABBIT_REJECTED,
    SEED,
    STREAM_QUEUE,
    VHOST,
    SeedError,
    log,
    traceparent,
)


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
