"""Redrive keeps every byte and keeps null apart from empty: generated records (null, empty,
binary keys and values, duplicate and binary headers, null header values) redriven from a
Kafka DLQ arrive with the same key, value and headers (plus the `x-mqctl-redriven-*` /
`x-mqctl-redrive-count` record of the move); tombstones redriven into a compacted topic stay
tombstones."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    _audit_log,  # noqa: F401  (an autouse fixture)
    forget_ledger,
    kafka_produce,
    kafka_read,
    spring_headers,
)

pytestmark = pytest.mark.kafka
CAUSE = "com.example.OrderRejected"

blobs = st.one_of(
    st.just(b""),
    st.binary(max_size=32),
    st.sampled_from([b'{"a": 1}', b'"\\u00e9"', b"\xff\xfe", b'{\n "b": 2\n}']),
)
header_values = st.one_of(st.none(), st.just(b""), st.binary(max_size=8))
records = st.lists(
    st.tuples(
        blobs,  # key (a null key with a null value is refused by aiokafka's producer)
        st.one_of(st.none(), blobs),  # value
        st.lists(st.tuples(st.sampled_from(["h", "dup", "é"]), header_values), max_size=4),
    ),
    min_size=1,
    max_size=5,
)


def _ours(name: str) -> bool:
    return name.startswith("x-mqctl-")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=records)
def test_redrive_keeps_keys_values_and_headers_exactly(rows: list[tuple[Any, ...]]) -> None:
    unique = uuid.uuid4().hex[:10]  # per example: hypothesis runs a test many times
    target, dlq = f"rdv-{unique}", f"rdv-{unique}.DLT"
    asyncio.run(create_topics({target: 1, dlq: 1}))
    try:
        asyncio.run(kafka_produce(dlq, [(k, v, h, 0) for k, v, h in rows]))  # type: ignore[misc]
        result = run_cli("dlq", "redrive", f"kafka:{dlq}", "--to", target, "--yes", "-o", "json")
        assert result.exit_code == 0, result.output
        copied = asyncio.run(kafka_read(target))
        assert [(r.key, r.value) for r in copied] == [(k, v) for k, v, _ in rows]
        kept = [[(n, v) for n, v in r.headers if not _ours(n)] for r in copied]
        assert kept == [h for _, _, h in rows]
    finally:
        asyncio.run(cleanup([target, dlq], []))
        asyncio.run(forget_ledger(dlq))


@pytest.fixture
def compacted(unique: str) -> Iterator[tuple[str, str]]:
    source, dlq = f"tomb-{unique}", f"tomb-{unique}.DLT"
    created = run_cli(
        "topics", "create", source, "--partitions", "1", "--config", "cleanup.policy=compact"
    )
    assert created.exit_code == 0, created.output
    asyncio.run(create_topics({dlq: 1}))
    try:
        yield source, dlq
    finally:
        asyncio.run(cleanup([source, dlq], [f"mqctl-redrive.{dlq}"]))
        asyncio.run(forget_ledger(dlq))


def test_tombstones_redriven_into_a_compacted_topic_stay_tombstones(
    compacted: tuple[str, str],
) -> None:
    source, dlq = compacted
    headers = spring_headers(source, 0, 5, CAUSE, "deleted")
    records = [
        (b"deleted", None, headers, 0),
        (b"emptied", b"", [*headers, ("trace", None)], 0),
        (b"kept", b'{"a": 1}', headers, 0),
    ]
    asyncio.run(kafka_produce(dlq, records))  # type: ignore[arg-type]
    result = run_cli("dlq", "redrive", f"kafka:{dlq}", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["moved"] == 3
    copied = {r.key: r for r in asyncio.run(kafka_read(source))}
    assert copied[b"deleted"].value is None  # still a delete marker, not an empty record
    assert copied[b"emptied"].value == b""
    assert ("trace", None) in copied[b"emptied"].headers
    assert copied[b"kept"].value == b'{"a": 1}'
