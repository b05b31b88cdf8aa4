"""Seeding Kafka: the order topics, the DLQ topic and the consumer groups (see seed.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaError,
)
from aiokafka.protocol.admin import DeleteGroupsRequest
from seed_scenario import (
    DLQ_PARTITIONS,
    DLQ_TOPIC,
    GROUPS,
    KAFKA_BOOTSTRAP,
    ORDERS_PARTITIONS,
    ORDERS_TOPIC,
    SEED,
    SeedError,
    log,
    make_dlq_events,
    make_orders,
    order_headers,
    plan_failures,
)


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
