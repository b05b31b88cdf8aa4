"""Kafka: `peek -o jsonl` -> `publish --jsonl` into a fresh topic gives the same records, read
back raw with aiokafka: key and value bytes, nulls (tombstones, null keys, null header values),
header order with duplicates and binary values, partitions, and timestamps when kept.
The records are generated (hypothesis) and written raw with aiokafka first."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import create_topics, delete_topics, kafka_only

PARTITIONS = 2
ROUND_TRIPS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (a seed, not the bytes: hypothesis would shrink megabytes byte by byte)
huge = st.builds(
    lambda size, seed: random.Random(seed).randbytes(size),
    st.integers(100_000, 900_000),
    st.integers(0, 2**32),
)
blobs = st.one_of(
    st.none(),
    st.just(b""),
    st.binary(max_size=40),
    st.sampled_from(
        [
            b'{"a": 1}',
            b'{"b":2,"a":1}',
            b'"\\u00e9"',
            b'"a JSON string"',
            b"null",
            b"1E2",
            b'{\n  "pretty": true\n}',
            b"\xff\xfe not UTF-8",
            b"\xed\xa0\x80",
            "é€😀".encode(),
            b"\x1b[31mred",
        ]
    ),
)
header_values = st.one_of(st.none(), st.just(b""), st.binary(max_size=12), st.just(b"text"))
records = st.lists(
    st.tuples(
        st.integers(0, PARTITIONS - 1),
        blobs,  # key
        blobs,  # value (huge ones: test_huge_values_round_trip)
        st.lists(
            st.tuples(st.sampled_from(["h", "dup", "é", "", "x-y"]), header_values), max_size=4
        ),
        # CreateTime, ms (in the past: Kafka 4 refuses more than 1 h in the future by default)
        st.integers(1_000_000_000_000, 1_750_000_000_000),
    ),
    min_size=1,
    max_size=6,
)


async def _produce(topic: str, rows: list[tuple[Any, ...]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for partition, key, value, headers, ts in rows:
            # a batch of one: send() refuses a record without key and value, Kafka does not
            batch = producer.create_batch()
            assert batch.append(key=key, value=value, timestamp=ts, headers=headers)
            batch.close()
            await (await producer.send_batch(batch, topic, partition=partition))
    finally:
        await producer.stop()


async def _read_raw(topic: str) -> dict[int, list[tuple[Any, ...]]]:
    """Every record of ``topic`` per partition: (key, value, headers, timestamp, type)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        found: dict[int, list[tuple[Any, ...]]] = {p: [] for p in range(PARTITIONS)}
        for _ in range(200):
            positions = [await consumer.position(tp) for tp in tps]
            if all(at >= ends[tp] for at, tp in zip(positions, tps, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=200)
            for tp, rows in batch.items():
                found[tp.partition].extend(
                    (r.key, r.value, list(r.headers), r.timestamp, r.timestamp_type) for r in rows
                )
        return found
    finally:
        await consumer.stop()


def _round_trip(
    rows: list[tuple[Any, ...]], *flags: str
) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
    """(the source's records, the copy's records), read raw."""
    unique = uuid.uuid4().hex[:10]  # per example: hypothesis runs a test many times
    source, copy = f"rt-src-{unique}", f"rt-copy-{unique}"
    asyncio.run(create_topics({source: PARTITIONS, copy: PARTITIONS}))
    try:
        asyncio.run(_produce(source, rows))
        peeked = run_cli("peek", source, "--max", "0", "-o", "jsonl")
        assert peeked.exit_code == 0, peeked.output
        assert len(peeked.stdout.splitlines()) == len(rows)
        published = run_cli("publish", copy, "--jsonl", "-", *flags, stdin=peeked.stdout)
        assert published.exit_code == 0, published.output
        return asyncio.run(_read_raw(source)), asyncio.run(_read_raw(copy))
    finally:
        asyncio.run(delete_topics(source, copy))


@ROUND_TRIPS
@given(rows=records)
def test_peek_jsonl_publish_jsonl_is_byte_identical(
    isolated_config: Path, rows: list[tuple[Any, ...]]
) -> None:
    kafka_only(isolated_config)
    original, copy = _round_trip(rows, "--keep-timestamps")
    assert copy == original  # bytes, nulls, header order, partitions, timestamps


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=huge, key=blobs)
def test_huge_values_round_trip(isolated_config: Path, value: bytes, key: bytes | None) -> None:
    kafka_only(isolated_config)
    rows = [(1, key, value, [("bin", b"\x00\xff")], 1_700_000_000_000)]
    original, copy = _round_trip(rows)
    strip = {p: [r[:3] for r in recs] for p, recs in original.items()}
    assert {p: [r[:3] for r in recs] for p, recs in copy.items()} == strip


def test_default_publish_stamps_now_and_keeps_partitions(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    rows = [
        (1, None, None, [], 1_000_000_000_000),
        (0, b"k", b"", [("n", None)], 1_000_000_000_001),
    ]
    original, copy = _round_trip(rows)
    assert [r[:3] for r in copy[1]] == [(None, None, [])]  # the tombstone stays a tombstone
    assert [r[:3] for r in copy[0]] == [(b"k", b"", [("n", None)])]
    assert all(r[3] > 1_700_000_000_000 for recs in copy.values() for r in recs)
    assert original[1][0][3] == 1_000_000_000_000


def test_max_bytes_caps_what_people_see_never_silently(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    topic = f"rt-cap-{uuid.uuid4().hex[:10]}"
    asyncio.run(create_topics({topic: 1}))
    try:
        asyncio.run(_produce(topic, [(0, b"k", b"x" * 100_000, [], 1_700_000_000_000)]))
        pretty = run_cli("peek", topic)
        assert pretty.exit_code == 0, pretty.output
        assert "… 83616 more bytes (--max-bytes 0 shows all)" in pretty.stdout
        assert len(pretty.stdout) < 20_000
        assert "more bytes" not in run_cli("peek", topic, "--max-bytes", "0").stdout
        full = run_cli("peek", topic, "-o", "jsonl")
        assert json.loads(full.stdout)["value"] == "x" * 100_000  # programs get every byte
        cut = run_cli("peek", topic, "-o", "jsonl", "--max-bytes", "10")
        record = json.loads(cut.stdout)
        assert record["value"] == "x" * 10 and record["value_truncated_bytes"] == 99_990
        refused = run_cli("publish", topic, "--jsonl", "-", stdin=cut.stdout)
        assert refused.exit_code == 2 and "max-bytes" in refused.stderr
        bad = run_cli("peek", topic, "--max-bytes", "-1")
        assert bad.exit_code == 2 and "--max-bytes" in bad.stderr
    finally:
        asyncio.run(delete_topics(topic))


@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat writes what aiokafka cannot")
def test_a_header_name_that_is_not_utf8_is_named_not_a_codec_error(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    topic = f"rt-hdr-{uuid.uuid4().hex[:10]}"
    asyncio.run(create_topics({topic: 1}))
    try:
        name = b"\xff\xfe=x"
        subprocess.run(
            ["kcat", "-P", "-b", KAFKA, "-t", topic, "-H", os.fsdecode(name)],
            input=b"v\n",
            check=True,
            timeout=30,
        )
        result = run_cli("peek", topic, "-o", "jsonl")
        assert result.exit_code == 5
        assert "header name that is not UTF-8" in result.stderr
        assert "UnicodeDecodeError" not in result.stderr
    finally:
        asyncio.run(delete_topics(topic))
