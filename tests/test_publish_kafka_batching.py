"""Kafka publish through record batches built by mqctl (real local Kafka, own topics).

Checks what the batch path must keep from per-message ``send()``: results in input order with the
partition and offset each message really got (read back), key partitioning identical to aiokafka's
DefaultPartitioner (murmur2, the Java client's), per-message failures, order per partition.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA, run_cli
from tests.test_peek_kafka import KAFKA_ONLY, kafka_context

pytestmark = pytest.mark.kafka

PARTITIONS = 3


async def _create(topic: str, partitions: int, configs: dict[str, str] | None = None) -> None:
    from mqctl.session import Session

    async with Session(kafka_context()) as session:
        backend: Any = session.backend("kafka")
        await backend.create_topic(topic, partitions=partitions, configs=configs or {})


async def _delete(topic: str) -> None:
    from mqctl.session import Session

    async with Session(kafka_context()) as session:
        backend: Any = session.backend("kafka")
        await backend.delete_topics([topic])


@pytest.fixture
def topic(isolated_config: Path, unique: str) -> Iterator[str]:
    isolated_config.write_text(KAFKA_ONLY)
    name = f"test-pubbatch-{unique}"
    asyncio.run(_create(name, PARTITIONS))
    yield name
    asyncio.run(_delete(name))


def read_back(topic: str, partitions: int = PARTITIONS) -> dict[tuple[int, int], Any]:
    """Every record of the topic by (partition, offset), read with a plain aiokafka consumer."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def go() -> dict[tuple[int, int], Any]:
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            records: dict[tuple[int, int], Any] = {}
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=2000)
                for tp_records in batch.values():
                    for r in tp_records:
                        records[(r.partition, r.offset)] = r
            return records
        finally:
            await consumer.stop()

    return asyncio.run(go())


def publish(topic: str, messages: Any, **options: Any) -> list[Any]:
    from mqctl.models.messages import PublishOptions
    from mqctl.services import messages as service
    from mqctl.session import Session

    async def go() -> list[Any]:
        async with Session(kafka_context()) as session:
            stream = service.publish(session, topic, messages, PublishOptions(**options))
            return [r async for r in stream]

    return asyncio.run(go())


def expected_partition(key: bytes, count: int = PARTITIONS) -> int:
    from aiokafka.partitioner import DefaultPartitioner

    everything = list(range(count))
    return int(DefaultPartitioner()(key, everything, everything))


def test_results_in_input_order_with_the_offsets_read_back(
    topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyless, keyed, explicit partitions and headers mixed: each result names the record.
    The produce requests are written by mqctl's seam (the batches uncopied)."""
    from mqctl.backends.kafka import aiokafka_internals
    from mqctl.models.messages import OutgoingMessage

    written: list[int] = []
    pieces = aiokafka_internals.produce_pieces

    def counted(request_struct: Any, header: bytes) -> list[Any]:
        written.append(len(request_struct.topics[0][1]))
        return pieces(request_struct, header)

    monkeypatch.setattr(aiokafka_internals, "produce_pieces", counted)

    def message(i: int) -> OutgoingMessage:
        value = f"m-{i:06d}".encode() + b"." * (i % 300)
        if i % 5 == 0:
            return OutgoingMessage(value, key=f"k-{i % 37}".encode())
        if i % 7 == 0:
            return OutgoingMessage(value, partition=i % PARTITIONS, headers=[("n", str(i))])
        return OutgoingMessage(value)

    count = 30_000
    results = publish(topic, (message(i) for i in range(count)))
    assert [r.index for r in results] == list(range(count))
    assert all(r.ok for r in results), next(r for r in results if not r.ok)
    records = read_back(topic)
    assert len(records) == count
    for i, result in enumerate(results):
        record = records[(result.partition, result.offset)]
        assert record.value.startswith(f"m-{i:06d}".encode()), (i, result)
        if i % 5 == 0:
            assert record.key == f"k-{i % 37}".encode()
            assert result.partition == expected_partition(record.key)
        elif i % 7 == 0:
            assert result.partition == i % PARTITIONS
            assert list(record.headers) == [("n", str(i).encode())]
    # every partition got messages, and within a partition the input order is kept
    by_partition: dict[int, list[int]] = {}
    for result in results:
        by_partition.setdefault(result.partition, []).append(result.offset)
    assert sorted(by_partition) == list(range(PARTITIONS))
    for offsets in by_partition.values():
        assert offsets == list(range(len(offsets)))  # input order = offset order, no gaps
    assert written, "no produce request went through aiokafka_internals.produce_pieces"


def test_key_partitioning_matches_aiokafkas_default_partitioner(
    isolated_config: Path, unique: str
) -> None:
    """More distinct keys than the partition cache holds, on a 7-partition topic; and the same
    keys sent with aiokafka's own send() land on the same partitions."""
    from aiokafka import AIOKafkaProducer

    from mqctl.models.messages import OutgoingMessage

    isolated_config.write_text(KAFKA_ONLY)
    ours, theirs = f"test-pubbatch-keys-{unique}", f"test-pubbatch-keys-ref-{unique}"
    keys = [f"customer-{n}".encode() for n in range(5_000)] + [b"", b"\x00\xff", "é".encode()]

    async def reference() -> list[int]:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
        await producer.start()
        try:
            futures = [await producer.send(theirs, b"v", key=k) for k in keys]
            return [(await f).partition for f in futures]
        finally:
            await producer.stop()

    asyncio.run(_create(ours, 7))
    asyncio.run(_create(theirs, 7))
    try:
        results = publish(ours, [OutgoingMessage(b"v", key=k) for k in keys * 2])
        assert all(r.ok for r in results)
        partitions = [r.partition for r in results]
        assert partitions[: len(keys)] == [expected_partition(k, 7) for k in keys]
        assert partitions[len(keys) :] == partitions[: len(keys)]  # the cache changes nothing
        assert partitions[: len(keys)] == asyncio.run(reference())
        assert len(read_back(ours, 7)) == 2 * len(keys)
    finally:
        asyncio.run(_delete(ours))
        asyncio.run(_delete(theirs))


def test_failures_are_reported_per_message(isolated_config: Path, unique: str) -> None:
    """Refused before sending (unknown partition, over the request size, over the topic's
    max.message.bytes) and by the broker (compressed, still too large): only those messages fail,
    their neighbours are written where their results say."""
    from mqctl.models.messages import OutgoingMessage

    isolated_config.write_text(KAFKA_ONLY)
    topic = f"test-pubbatch-fail-{unique}"
    asyncio.run(_create(topic, PARTITIONS, {"max.message.bytes": "100000"}))
    try:
        messages = [OutgoingMessage(f"ok-{i}".encode(), partition=i % 2) for i in range(3_000)]
        messages[10] = OutgoingMessage(b"bad partition", partition=9)
        messages[11] = OutgoingMessage(b"x" * (9 * 1024 * 1024))  # over the 8 MiB request size
        messages[500] = OutgoingMessage(b"y" * 150_000, partition=1)  # over max.message.bytes
        results = publish(topic, messages)
        assert [r.index for r in results] == list(range(3_000))
        failed = {r.index: r.error or "" for r in results if not r.ok}
        assert set(failed) == {10, 11, 500}, failed
        assert "partition 9" in failed[10]
        assert "MessageSizeTooLarge" in failed[11]
        assert "MessageSizeTooLarge" in failed[500] and "100000 bytes" in failed[500]
        assert all(r.partition is None and r.offset is None for r in results if not r.ok)
        records = read_back(topic)
        assert len(records) == 3_000 - 3
        for r in results:
            if r.ok:
                assert records[(r.partition, r.offset)].value == f"ok-{r.index}".encode()

        # compressed, the broker decides: random bytes do not shrink, so it refuses the batch
        import os

        big = OutgoingMessage(os.urandom(150_000), partition=2)
        after = [OutgoingMessage(b"fine", partition=p) for p in (0, 1)]
        results = publish(topic, [big, *after], compression="gzip")
        assert [r.ok for r in results] == [False, True, True]
        assert results[0].error and results[0].partition is None
    finally:
        asyncio.run(_delete(topic))


def test_batches_fit_a_topic_with_a_small_max_message_bytes(
    isolated_config: Path, unique: str
) -> None:
    """The producers start before the topic's max.message.bytes is read; the batches they
    fill are still sized below it (else the broker refuses each 1 MB batch whole)."""
    isolated_config.write_text(KAFKA_ONLY)
    topic = f"test-pubbatch-small-{unique}"
    asyncio.run(_create(topic, PARTITIONS, {"max.message.bytes": "50000"}))
    try:
        count = 6_000  # 1.2 MB of lines: more than 20 batches of 48 KB
        lines = "".join(f"{i:08d}{'s' * 192}\n" for i in range(count))
        result = run_cli("publish", topic, "-", "-o", "json", stdin=lines)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["published"] == count
        records = read_back(topic)
        assert sorted(int(r.value[:8]) for r in records.values()) == list(range(count))
    finally:
        asyncio.run(_delete(topic))


def test_stdin_lines_too_large_fail_alone(isolated_config: Path, unique: str) -> None:
    """Bulk stdin lines: a line over the topic's max.message.bytes fails by itself wherever
    it falls (first in a batch or in the middle of one); its neighbours are written in order."""
    isolated_config.write_text(KAFKA_ONLY)
    topic = f"test-pubbatch-big-{unique}"
    asyncio.run(_create(topic, PARTITIONS, {"max.message.bytes": "20000"}))
    try:
        big = {0, 7, 8, 500, 2_999}
        lines = [("B" * 30_000 if i in big else f"{i:08d}{'n' * 100}") for i in range(3_000)]
        result = run_cli("publish", topic, "-", "-o", "jsonl", stdin="\n".join(lines) + "\n")
        assert result.exit_code == 5, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [row["index"] for row in rows] == list(range(3_000))
        assert {row["index"] for row in rows if not row["ok"]} == big
        assert all("MessageSizeTooLarge" in row["error"] for row in rows if not row["ok"])
        records = read_back(topic)
        assert len(records) == 3_000 - len(big)
        for row in rows:
            if row["ok"]:
                value = records[(row["partition"], row["offset"])].value
                assert value == lines[row["index"]].encode()
    finally:
        asyncio.run(_delete(topic))


def test_cli_summary_counts_failures_and_exits_5(topic: str) -> None:
    # every record is larger than the topic allows: the broker refuses each batch
    altered = run_cli("topics", "alter", topic, "--config", "max.message.bytes=1024")
    assert altered.exit_code == 0, altered.output
    result = run_cli("publish", topic, "x" * 2048, "-p", "1", "-n", "1000", "-o", "json")
    assert result.exit_code == 5, result.output
    summary = json.loads(result.stdout)
    assert summary["published"] == 0 and summary["failed"] == 1000
    assert len(summary["errors"]) == 100 and summary["errors"][0]["index"] == 0
    assert "1000 of 1000 messages were not published" in result.stderr


def test_connections_broken_mid_request_lose_and_duplicate_nothing(
    topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections closed while produce requests written by mqctl's seam await their answer
    (once right away, once a moment later, when the broker has likely written the batch):
    aiokafka's sender retries those batches with their sequence numbers, the broker keeps
    each once, and every result names the record it was written as."""
    from aiokafka.conn import CloseReason

    from mqctl.backends.kafka import aiokafka_internals
    from mqctl.models.messages import OutgoingMessage

    write = aiokafka_internals._write_produce
    requests = 0
    broken: list[int] = []

    def breaking(conn: Any, request: Any) -> Any:
        nonlocal requests
        answer = write(conn, request)
        requests += 1
        if requests in (2, 4, 6):
            broken.append(requests)
            delay = 0 if requests == 2 else 0.005
            asyncio.get_running_loop().call_later(delay, conn.close, CloseReason.CONNECTION_BROKEN)
        return answer

    monkeypatch.setattr(aiokafka_internals, "_write_produce", breaking)
    count = 40_000
    values = [f"v-{i:06d}-".encode() + b"." * 150 for i in range(count)]
    results = publish(topic, (OutgoingMessage(value) for value in values))
    assert broken == [2, 4, 6], f"only {requests} produce requests"
    assert [r.index for r in results] == list(range(count))
    assert all(r.ok for r in results), next(r for r in results if not r.ok)
    records = read_back(topic)
    assert len(records) == count  # no batch written twice
    for result in results:
        assert records[(result.partition, result.offset)].value == values[result.index]


def test_a_producer_that_fails_to_start_fails_the_publish_cleanly(
    topic: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The producers start at once: one failing while the others are still connecting is a
    one-line connection error (exit 3); the others are stopped, no task is left behind."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaConnectionError

    original = AIOKafkaProducer.start
    starts = 0

    async def start(self: AIOKafkaProducer) -> None:
        nonlocal starts
        starts += 1
        if starts == 2:
            raise KafkaConnectionError("refused for the test")
        await original(self)

    monkeypatch.setattr(AIOKafkaProducer, "start", start)
    result = run_cli("publish", topic, "-", "-o", "json", stdin="a\nb\nc\n")
    assert starts == PARTITIONS  # all started together
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: cannot connect to Kafka"), result.stderr
    assert "Traceback" not in result.stderr
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "never retrieved" not in logged and "destroyed but it is pending" not in logged
    assert read_back(topic) == {}


def test_a_producer_start_that_hangs_is_a_timeout(
    topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One producer never finishing its start: the publish ends at --timeout with the
    one-line timeout error (exit 3), the starts cancelled."""
    from aiokafka import AIOKafkaProducer

    original = AIOKafkaProducer.start
    starts = 0

    async def start(self: AIOKafkaProducer) -> None:
        nonlocal starts
        starts += 1
        if starts == 2:
            await asyncio.Event().wait()  # never
        await original(self)

    monkeypatch.setattr(AIOKafkaProducer, "start", start)
    result = run_cli("--timeout", "1", "publish", topic, "-", "-o", "json", stdin="a\nb\n")
    assert result.exit_code == 3, result.output
    assert "did not answer the producer start within 1s" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_many_stdin_lines_across_partitions(topic: str) -> None:
    """The bulk path (stdin lines, summary output): all counted, all written, order kept."""
    count = 60_000
    lines = "".join(f"{i:08d}{'z' * 190}\n" for i in range(count))
    result = run_cli("publish", topic, "-", "-o", "json", stdin=lines)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["published"], summary["failed"]) == (count, 0)
    records = read_back(topic)
    assert len(records) == count
    seen = sorted(int(r.value[:8]) for r in records.values())
    assert seen == list(range(count))
    for p in range(PARTITIONS):
        numbers = [int(records[k].value[:8]) for k in sorted(k for k in records if k[0] == p)]
        assert numbers, f"partition {p} got nothing"
        assert numbers == sorted(numbers)


def test_cli_jsonl_results_match_the_topic(topic: str) -> None:
    count = 5_000
    lines = "".join(f"line-{i}\n" for i in range(count))
    result = run_cli("publish", topic, "-", "-k", "same-key", "-o", "jsonl", stdin=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["index"] for row in rows] == list(range(count))
    assert {row["partition"] for row in rows} == {expected_partition(b"same-key")}
    assert [row["offset"] for row in rows] == list(range(count))
    records = read_back(topic)
    assert [records[(row["partition"], row["offset"])].value for row in rows[:3]] == [
        b"line-0",
        b"line-1",
        b"line-2",
    ]


def test_a_slow_input_is_sent_without_waiting_for_more(topic: str) -> None:
    """The input produces the next message only once the previous one is in the topic: an open
    batch must be sent when the input pauses, not held until it is full (else: no progress)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from mqctl.models.messages import OutgoingMessage, PublishOptions
    from mqctl.services import messages as service
    from mqctl.session import Session

    async def go() -> list[Any]:
        watcher = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]

        async def source() -> AsyncIterator[OutgoingMessage]:
            for i in range(4):
                yield OutgoingMessage(f"slow-{i}".encode())
                for _ in range(1200):  # until it is in the topic
                    if sum((await watcher.end_offsets(parts)).values()) > i:
                        break
                    await asyncio.sleep(0.05)

        await watcher.start()
        try:
            async with Session(kafka_context()) as session, asyncio.timeout(60):
                stream = service.publish(session, topic, source(), PublishOptions())
                return [r async for r in stream]
        finally:
            await watcher.stop()

    results = asyncio.run(go())
    assert [(r.index, r.ok) for r in results] == [(i, True) for i in range(4)]
    records = read_back(topic)
    assert [records[(r.partition, r.offset)].value for r in results] == [
        f"slow-{i}".encode() for i in range(4)
    ]


def test_stopping_early_closes_cleanly(topic: str) -> None:
    from mqctl.models.messages import OutgoingMessage, PublishOptions
    from mqctl.services import messages as service
    from mqctl.session import Session

    async def go() -> list[Any]:
        taken = []
        async with Session(kafka_context()) as session:
            messages = (OutgoingMessage(f"e-{i}".encode()) for i in range(20_000))
            stream = service.publish(session, topic, messages, PublishOptions())
            async for result in stream:
                taken.append(result)
                if len(taken) == 3:
                    break
            await stream.aclose()  # type: ignore[attr-defined]
        return taken

    taken = asyncio.run(go())
    assert [r.index for r in taken] == [0, 1, 2] and all(r.ok for r in taken)
