"""Dead-letter queues and topics are left out of `mqctl lag` unless named or --include-dlq.

DLQs have no consumers by design: in the lag view they would read STOPPED and trip
``--fail-on stop``. Recognised as in ``mqctl dlq``: naming conventions plus the context's
``dlq-patterns``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mqctl.models.lag import LagEntry, LagStatus, PartitionLag
from mqctl.services.lag import without_dlq
from tests.conftest import RABBIT_MGMT, mgmt_publish, run_cli
from tests.kafka_helpers import (
    cleanup,
    commit,
    create_topics,
    kafka_only,
    produce,
)

# --- the filter on its own -------------------------------------------------------------------


def _part(topic: str, lag: int, time_lag: float | None) -> PartitionLag:
    return PartitionLag(topic, 0, 0, 0, lag, lag, time_lag, None, LagStatus.STOPPED)


def _group(name: str, *parts: PartitionLag) -> LagEntry:
    lags = [p.time_lag_seconds for p in parts if p.time_lag_seconds is not None]
    return LagEntry("kafka", "group", name, LagStatus.STOPPED, sum(p.lag for p in parts),
                    max(lags, default=None), sorted({p.topic for p in parts}), 0, "Empty",
                    list(parts))  # fmt: skip


def _queue(name: str) -> LagEntry:
    return LagEntry("rabbitmq", "queue", name, LagStatus.STOPPED, 3, None, [name])


def test_filter_drops_dlq_queues_topics_and_groups_left_empty() -> None:
    mixed = _group("orders-group", _part("orders", 4, 10.0), _part("orders.DLT", 7, 99.0))
    redrive = _group("mqctl-redrive.orders.dlq", _part("orders.dlq", 2, 5.0))
    entries = [
        mixed, redrive, _queue("orders"), _queue("orders.dlq"), _queue("dlq.payments"),
        _queue("orders.parking-lot"), _queue("kept.parking"),
    ]  # fmt: skip
    kept = without_dlq(entries, ("*.parking-lot",))
    assert [e.group for e in kept] == ["orders-group", "orders", "kept.parking"]
    group = kept[0]
    assert [p.topic for p in group.partitions] == ["orders"]
    assert group.total_lag == 4 and group.max_time_lag_seconds == 10.0
    assert group.topics == ["orders"]
    assert mixed.total_lag == 11  # the original entry is not changed
    # A destination that was asked for stays.
    assert [e.group for e in without_dlq([_queue("orders.dlq")], (), frozenset({"orders.dlq"}))]


# --- RabbitMQ: a `<unique>.dlq` queue in a vhost of its own -----------------------------------


@pytest.fixture
def rabbit_dlq(unique: str, isolated_config: Path) -> Iterator[dict[str, str]]:
    """A vhost holding an empty work queue, `<unique>.dlq` and `<unique>.parking-lot` (a
    context pattern) with 3 messages each and no consumers. Deleted afterwards."""
    vhost = f"mqctl-test-lagdlq-{unique}"
    names = {
        "vhost": vhost,
        "work": f"{unique}.work",
        "dlq": f"{unique}.dlq",
        "parked": f"{unique}.parking-lot",
    }
    isolated_config.write_text(
        'current-context = "r"\n[contexts.r]\ndlq-patterns = ["*.parking-lot"]\n'
        '[contexts.r.rabbitmq]\nurl = "amqp://guest@127.0.0.1:5672/"\n'
        f'management-url = "{RABBIT_MGMT}"\npassword = "guest"\nvhost = "{vhost}"\n'
    )
    with httpx.Client(base_url=f"{RABBIT_MGMT}/api", auth=("guest", "guest"), timeout=10) as api:
        api.put(f"/vhosts/{vhost}").raise_for_status()
        try:
            api.put(
                f"/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
            ).raise_for_status()
            for key in ("work", "dlq", "parked"):
                api.put(f"/queues/{vhost}/{names[key]}", json={"durable": True}).raise_for_status()
            for key in ("dlq", "parked"):
                for i in range(3):
                    mgmt_publish(api, names[key], f"dead {i}", vhost=vhost)
            yield names
        finally:
            api.delete(f"/vhosts/{vhost}")


@pytest.mark.rabbitmq
def test_rabbitmq_dlq_left_out_unless_asked(rabbit_dlq: dict[str, str]) -> None:
    dlq, parked, work = rabbit_dlq["dlq"], rabbit_dlq["parked"], rabbit_dlq["work"]
    # Depths reach the management API with its next statistics emission.
    included: dict[str, dict[str, object]] = {}
    for _ in range(120):
        result = run_cli("lag", "--include-dlq", "-o", "json")
        assert result.exit_code == 0, result.output
        included = {e["group"]: e for e in json.loads(result.stdout)}
        if all(included.get(q, {}).get("total_lag") == 3 for q in (dlq, parked)):
            break
        time.sleep(0.25)
    assert set(included) == {work, dlq, parked}
    assert included[dlq]["status"] == "STOPPED" and included[parked]["status"] == "STOPPED"

    default = run_cli("lag", "-o", "json", "--fail-on", "stop")
    assert default.exit_code == 0, default.output
    assert [e["group"] for e in json.loads(default.stdout)] == [work]
    explicit = run_cli("lag", "--all-groups", "-o", "json")
    assert [e["group"] for e in json.loads(explicit.stdout)] == [work]

    tripped = run_cli("lag", "--include-dlq", "--fail-on", "stop", "-o", "json")
    assert tripped.exit_code == 1
    assert f"rabbitmq:{dlq} is STOPPED" in tripped.stderr

    named = run_cli("lag", f"rabbitmq:{dlq}", "-o", "json")  # asked for by name: shown
    assert named.exit_code == 0, named.output
    [entry] = json.loads(named.stdout)
    assert entry["group"] == dlq and entry["total_lag"] == 3 and entry["kind"] == "queue"


# --- Kafka: a dead-letter topic read by a redrive-style group -----------------------------------


@pytest.mark.kafka
def test_kafka_dlq_topic_partitions_left_out(unique: str, isolated_config: Path) -> None:
    kafka_only(isolated_config)
    topic, dead = f"lagdlq-{unique}", f"lagdlq-{unique}.DLT"
    group = f"lagdlq-group-{unique}"  # reads the topic and its DLT
    redrive = f"mqctl-redrive.{dead}"  # reads the DLT only
    now = int(time.time() * 1000)
    asyncio.run(create_topics({topic: 1, dead: 1}))
    try:
        asyncio.run(produce(topic, {0: [now] * 4}))
        asyncio.run(produce(dead, {0: [now] * 3}))
        asyncio.run(commit(group, topic, {0: 1}))
        asyncio.run(commit(group, dead, {0: 0}))
        asyncio.run(commit(redrive, dead, {0: 1}))

        def entries(*args: str) -> dict[str, dict[str, object]]:
            result = run_cli("lag", "--all-groups", "-o", "json", *args)
            assert result.exit_code == 0, result.output
            return {e["group"]: e for e in json.loads(result.stdout)}

        default = entries()
        assert redrive not in default
        assert default[group]["topics"] == [topic] and default[group]["total_lag"] == 3
        everything = entries("--include-dlq")
        assert everything[redrive]["total_lag"] == 2
        assert everything[group]["topics"] == sorted([topic, dead])
        assert everything[group]["total_lag"] == 3 + 3
        # Named groups are shown whole; --topic naming the DLT keeps it.
        [named] = json.loads(run_cli("lag", redrive, "-o", "json").stdout)
        assert named["total_lag"] == 2
        by_topic = entries("--topic", dead)
        assert by_topic[group]["topics"] == [dead] and redrive in by_topic
    finally:
        asyncio.run(cleanup([topic, dead], [group, redrive]))
