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

The scenario data is in seed_scenario.py, the broker steps in seed_kafka.py and
seed_rabbitmq.py; this module checks the brokers, runs both and prints the summary.

Usage: .venv/bin/python scripts/seed.py [--only kafka|rabbitmq] [--quiet]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import seed_scenario
from seed_kafka import KafkaSummary, seed_kafka
from seed_rabbitmq import RabbitSummary, seed_rabbitmq
from seed_scenario import DLQ_TOPIC, SeedError


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
    seed_scenario.QUIET = args.quiet
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
