"""Lag tells the truth under faults (issue 17), without restarting any broker:

* a broker that cannot be reached (a closed port) gives UNKNOWN rows with the reason while
  the other broker's rows keep coming, in a snapshot, in `--watch` and in the exporter;
* `--fail-on` levels fail on UNKNOWN unless `--ignore-unknown`; `--fail-on unknown` exists;
* records deleted below a group's committed offset are reported (DATA_LOSS, records_lost,
  lag counting only what still exists, raw_lag kept) and `--fail-on` catches them;
* statistics missing from the management API are never read as "0 messages".

Broker restarts are in tests/test_lag_faults_restart.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import commit, produce, scratch_topic


def _context_with_rabbit_down(config: Path, port: int) -> None:
    config.write_text(
        'current-context = "half"\n'
        f'[contexts.half.kafka]\nbootstrap-servers = "{KAFKA}"\n'
        f'[contexts.half.rabbitmq]\nurl = "amqp://guest:guest@127.0.0.1:{port}/"\n'
        f'management-url = "http://127.0.0.1:{port}"\n'
    )


@pytest.fixture
def stopped_group(unique: str) -> tuple[str, str]:
    """A topic with 5 records and a group that committed offset 2 (STOPPED, lag 3)."""
    topic, group = f"truth-{unique}", f"truth-group-{unique}"
    with scratch_topic(topic, 1, group):
        now = int(time.time() * 1000)
        asyncio.run(produce(topic, {0: [now - 60_000] * 5}))
        asyncio.run(commit(group, topic, {0: 2}))
        yield topic, group


def test_snapshot_keeps_kafka_rows_when_rabbitmq_is_down(
    isolated_config: Path, closed_port: int, stopped_group: tuple[str, str]
) -> None:
    _topic, group = stopped_group
    _context_with_rabbit_down(isolated_config, closed_port)
    result = run_cli("--timeout", "2", "lag", f"kafka:{group}", "rabbitmq:orders", "-o", "json")
    assert result.exit_code == 3, result.output  # a broker was not reachable
    rows = {(e["backend"], e["group"]): e for e in json.loads(result.stdout)}
    assert rows[("kafka", group)]["status"] == "STOPPED"
    assert rows[("kafka", group)]["total_lag"] == 3
    down = rows[("rabbitmq", "orders")]
    assert down["status"] == "UNKNOWN" and down["kind"] == "backend"
    assert down["total_lag"] is None and down["members"] is None  # not known, not 0
    assert f"127.0.0.1:{closed_port}" in down["error"]
    assert result.stderr.startswith("error: rabbitmq: ")

    # every --fail-on level fails on UNKNOWN, unless told to ignore it
    result = run_cli("--timeout", "2", "lag", f"kafka:{group}", "rabbitmq:orders",
                     "--fail-on", "error")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "rabbitmq:orders is UNKNOWN" in result.stderr
    result = run_cli("--timeout", "2", "lag", f"kafka:{group}", "rabbitmq:orders",
                     "--fail-on", "error", "--ignore-unknown")  # fmt: skip
    assert result.exit_code == 3, result.output
    result = run_cli("--timeout", "2", "lag", f"kafka:{group}", "--fail-on", "unknown")
    assert result.exit_code == 0, result.output  # Kafka alone answered: nothing unknown


def test_all_groups_view_with_a_broker_down(isolated_config: Path, closed_port: int) -> None:
    _context_with_rabbit_down(isolated_config, closed_port)
    result = run_cli("--timeout", "2", "lag", "-o", "json")
    assert result.exit_code == 3, result.output
    entries = json.loads(result.stdout)
    assert any(e["backend"] == "kafka" and e["kind"] == "group" for e in entries)
    (down,) = [e for e in entries if e["backend"] == "rabbitmq"]
    assert down["status"] == "UNKNOWN" and down["group"] == "*"


def test_watch_keeps_kafka_rows_while_rabbitmq_is_down(
    isolated_config: Path, closed_port: int, stopped_group: tuple[str, str]
) -> None:
    _topic, group = stopped_group
    _context_with_rabbit_down(isolated_config, closed_port)
    result = run_cli("--timeout", "1", "lag", f"kafka:{group}", "rabbitmq:orders",
                     "--watch", "0.2", "--count", "3", "-o", "jsonl")  # fmt: skip
    assert result.exit_code == 0, result.output
    samples = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(samples) == 3
    for sample in samples:
        rows = {e["backend"]: e for e in sample["entries"]}
        assert rows["kafka"]["group"] == group and rows["kafka"]["total_lag"] == 3
        assert rows["rabbitmq"]["status"] == "UNKNOWN"
    warnings = [line for line in result.stderr.splitlines() if line]
    assert len(warnings) == 3
    assert all(w.startswith("warning: lag sample failed: rabbitmq: ") for w in warnings)


def test_exporter_has_an_up_metric_per_backend(
    isolated_config: Path, closed_port: int, stopped_group: tuple[str, str]
) -> None:
    import httpx

    from mqctl.config.loader import load_config
    from mqctl.lag.exporter import Exporter
    from mqctl.services.lag import LagQuery, lag_backends, watch
    from mqctl.session import Session
    from tests.test_lag_exporter import parse, value

    _topic, group = stopped_group
    _context_with_rabbit_down(isolated_config, closed_port)
    context = load_config().contexts["half"]
    exporter = Exporter("half", "127.0.0.1:0")
    exporter.start()
    try:

        async def main() -> None:
            async with Session(context) as session:
                exporter.collector.backends = lag_backends(session)
                query = LagQuery((f"kafka:{group}", "rabbitmq:orders"))
                await watch(session, query, 0.1, exporter.collector.update, count=2)

        asyncio.run(main())
        body = httpx.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=5).text
    finally:
        exporter.stop()
    metrics = parse(body)
    up = {"cluster_name": "half"}
    assert value(metrics, "mqctl_lag_backend_up", {**up, "backend": "kafka"}) == 1
    assert value(metrics, "mqctl_lag_backend_up", {**up, "backend": "rabbitmq"}) == 0
    assert value(metrics, "mqctl_lag_up", up) == 0
    g = {**up, "group": group}
    assert value(metrics, "kafka_consumergroup_group_sum_lag", g) == 3
    rabbit = {**up, "backend": "rabbitmq", "status": "UNKNOWN"}
    assert value(metrics, "mqctl_lag_status", rabbit) == 1


def test_records_deleted_below_the_commit_are_reported(
    isolated_config: Path, stopped_group: tuple[str, str]
) -> None:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    from tests.kafka_helpers import kafka_only

    topic, group = stopped_group  # committed 2 of 5 records

    async def delete_below(offset: int) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(offset)})
        finally:
            await admin.close()

    asyncio.run(delete_below(4))
    kafka_only(isolated_config)
    result = run_cli("lag", group, "-o", "json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    (p,) = entry["partitions"]
    assert (p["committed_offset"], p["log_start_offset"], p["end_offset"]) == (2, 4, 5)
    assert p["status"] == "DATA_LOSS" and entry["status"] == "DATA_LOSS"
    assert p["records_lost"] == 2 and entry["total_records_lost"] == 2
    assert p["lag"] == 1 and entry["total_lag"] == 1  # only records that still exist
    assert p["raw_lag"] == 3
    assert "2 record(s) removed" in p["error"]
    table = run_cli("lag", group)
    assert "DATA_LOSS" in table.stdout and "LOST" in table.stdout
    for level in ("error", "stop", "warn"):
        result = run_cli("lag", group, "--fail-on", level)
        assert result.exit_code == 1, (level, result.output)
        assert f"kafka:{group} is DATA_LOSS" in result.stderr
    # under --window the latest sample decides, as for ERROR
    result = run_cli("lag", group, "--window", "1s", "--interval", "0.5", "-o", "json")
    assert json.loads(result.stdout)[0]["status"] == "DATA_LOSS", result.output


def test_missing_management_statistics_are_never_zero() -> None:
    """A queue document without its figures (the first seconds after a node restart)."""
    from mqctl.backends.rabbitmq.lag import STATS_MISSING, stats_missing, unknown_entry
    from mqctl.lag.status import apply_snapshot_status, evaluate_window
    from mqctl.models.lag import LagStatus

    fresh = {"name": "q", "vhost": "/", "type": "classic", "durable": True}
    assert stats_missing(fresh)
    assert not stats_missing({**fresh, "messages": 0, "messages_ready": 0, "consumers": 0})
    entry = unknown_entry(fresh, STATS_MISSING)
    apply_snapshot_status([entry])
    assert entry.status is LagStatus.UNKNOWN and entry.error == STATS_MISSING

    from mqctl.backends.rabbitmq.lag import lag_entry

    def sample(messages: int) -> object:
        doc = {**fresh, "messages": messages, "messages_ready": messages, "consumers": 0}
        return apply_snapshot_status([lag_entry(doc, [])])

    stopped = sample(450)
    unknown = [unknown_entry(fresh, STATS_MISSING)]
    # before: STOP; while the stats are missing: UNKNOWN; after: STOP again, never OK
    window = [(0.0, stopped), (1.0, stopped), (2.0, unknown)]
    assert evaluate_window(window)[0].status is LagStatus.UNKNOWN
    window = [(0.0, unknown), (1.0, stopped), (2.0, sample(450))]
    assert evaluate_window(window)[0].status is LagStatus.STOP


def test_topic_filter_lists_only_groups_reading_it(
    isolated_config: Path, stopped_group: tuple[str, str]
) -> None:
    from tests.kafka_helpers import kafka_only

    topic, group = stopped_group
    kafka_only(isolated_config)
    result = run_cli("lag", "--topic", topic, "-o", "json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [e["group"] for e in entries] == [group]  # not every group as "OK 0"
    assert entries[0]["topics"] == [topic]


def test_a_backlog_that_just_arrived_is_not_read_as_empty(unique: str) -> None:
    """The management API's figures lag the queue by up to 5 s; a named queue that reads
    "empty, no consumers" is cross-checked over AMQP, so it is never OK with a backlog."""
    import aio_pika

    queue = f"truth-fresh-{unique}"

    async def fill() -> None:
        async with await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/") as connection:
            channel = await connection.channel()
            await channel.declare_queue(queue, durable=True)
            for _ in range(5):
                await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=queue)

    async def drop() -> None:
        async with await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/") as connection:
            await (await connection.channel()).queue_delete(queue)

    asyncio.run(fill())
    try:
        result = run_cli("lag", f"rabbitmq:{queue}", "-o", "json")
        assert result.exit_code == 0, result.output
        (entry,) = json.loads(result.stdout)
        assert (entry["status"], entry["total_lag"]) == ("STOPPED", 5), entry
    finally:
        asyncio.run(drop())
