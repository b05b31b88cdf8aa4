"""Redrive keeps null apart from empty: Kafka tombstones (null values) redriven into a
compacted topic stay tombstones, empty values stay empty, null header values stay null."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import cleanup, create_topics
from tests.test_dlq_support import (
    _audit_log,  # noqa: F401  (an autouse fixture)
    kafka_produce,
    kafka_read,
    spring_headers,
)

pytestmark = pytest.mark.kafka
CAUSE = "com.example.OrderRejected"


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
