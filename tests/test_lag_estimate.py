"""Interpolated time lag (kafka-lag-exporter's method) under --watch/--window.

The rules on their own first, then a real group on the local Kafka whose producer writes at
a known pace: the estimate must agree with the time lag read from the record itself and
with backlog / pace (values within generous tolerances; no wall-time assertions).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mqctl.lag.estimate import OffsetHistory, produced_at
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag
from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import (
    commit,
    kafka_context,
    kafka_only,
    scratch_topic,
)

# --- the rules -----------------------------------------------------------------------------


def test_interpolates_between_samples() -> None:
    table = [(0.0, 10), (1.0, 20), (2.0, 30)]
    # The record at offset 14 was appended when the end offset reached 15: t = 0.5.
    assert produced_at(table, 14) == pytest.approx(0.5)
    assert produced_at(table, 19) == pytest.approx(1.0)
    assert produced_at(table, 24) == pytest.approx(1.5)
    assert produced_at(table, 30) is None  # not produced yet: no lag


def test_flat_runs_use_the_last_point_before_production() -> None:
    # Nothing produced between t=0 and t=5, then 10 records by t=6.
    table = [(0.0, 10), (5.0, 10), (6.0, 20)]
    assert produced_at(table, 10) == pytest.approx(5.1)
    history = OffsetHistory()
    for at, end in [(0.0, 10), (1.0, 10), (2.0, 10), (5.0, 10), (6.0, 20)]:
        history.record(at, [_group(end=end, committed=0)])
    # The flat run keeps only its first and last points.
    assert history.tables[("kafka", "t", 0)] == [(0.0, 10), (5.0, 10), (6.0, 20)]


def test_extrapolates_older_offsets_at_the_average_rate() -> None:
    table = [(10.0, 100), (12.0, 120)]  # 10 records/s
    assert produced_at(table, 49) == pytest.approx(5.0)  # 50 records before t=10
    assert produced_at([(0.0, 5), (9.0, 5)], 1) is None  # no production: no rate
    assert produced_at([(0.0, 5)], 1) is None  # one point tells nothing


def test_history_restarts_when_the_log_goes_back() -> None:
    history = OffsetHistory()
    history.record(0.0, [_group(end=50, committed=0)])
    history.record(1.0, [_group(end=60, committed=0)])
    history.record(2.0, [_group(end=5, committed=0)])  # topic recreated
    assert history.tables[("kafka", "t", 0)] == [(2.0, 5)]


def test_fill_sets_partition_and_group_figures() -> None:
    history = OffsetHistory()
    history.record(0.0, [_group(end=100, committed=0)])
    history.record(10.0, [_group(end=200, committed=0)])
    entry = _group(end=200, committed=149)
    caught_up = _group(end=200, committed=200)
    broken = _group(end=200, committed=150, status=LagStatus.ERROR)
    history.fill([entry, caught_up, broken])
    assert entry.partitions[0].estimated_time_lag_seconds == pytest.approx(5.0)
    assert entry.max_estimated_time_lag_seconds == pytest.approx(5.0)
    assert caught_up.partitions[0].estimated_time_lag_seconds is None
    assert caught_up.max_estimated_time_lag_seconds is None
    assert broken.partitions[0].estimated_time_lag_seconds is None


def _group(end: int, committed: int, status: LagStatus = LagStatus.OK) -> LagEntry:
    partition = PartitionLag("t", 0, committed, 0, end, max(0, end - committed), None, None)
    partition.status = status
    return LagEntry("kafka", "group", "g", status, partition.lag, None, ["t"], 0, "Empty",
                    [partition])  # fmt: skip


# --- a real group, a producer at a known pace ------------------------------------------------

RATE = 20.0  # records per second


async def paced_producer(topic: str, stop: asyncio.Event) -> None:
    """One record every 1/RATE s on partition 0 (CreateTime = when it is sent)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=0)
    await producer.start()
    try:
        started = time.monotonic()
        sent = 0
        while not stop.is_set():
            await producer.send_and_wait(topic, b"tick", partition=0)
            sent += 1
            delay = started + sent / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        await producer.stop()


@pytest.fixture
def paced(unique: str, isolated_config: Path) -> Iterator[dict[str, str]]:
    kafka_only(isolated_config)
    names = {"topic": f"est-{unique}", "old": f"est-old-{unique}", "mid": f"est-mid-{unique}"}
    with scratch_topic(names["topic"], 1, names["old"], names["mid"]):
        # Both groups start at offset 0 of the empty topic; "mid" moves during the watch.
        asyncio.run(commit(names["old"], names["topic"], {0: 0}))
        asyncio.run(commit(names["mid"], names["topic"], {0: 0}))
        yield names


def _close(estimate: float, measured: float, backlog: int) -> None:
    # The record's own timestamp is the truth; the estimate is linear between samples.
    assert abs(estimate - measured) <= 1.5, (estimate, measured)
    # And the producer's pace: the backlog took backlog/RATE seconds to write.
    assert abs(estimate - backlog / RATE) <= 1.5 + 0.3 * backlog / RATE, (estimate, backlog)


@pytest.mark.kafka
def test_estimate_against_a_producer_at_a_known_pace(paced: dict[str, str]) -> None:
    from mqctl.services.lag import LagQuery, watch
    from mqctl.session import Session

    topic, old, mid = paced["topic"], paced["old"], paced["mid"]
    results: list[list[LagEntry]] = []

    async def scenario() -> tuple[list[LagEntry], Any, Any]:
        stop = asyncio.Event()
        producing = asyncio.create_task(paced_producer(topic, stop))
        try:
            await asyncio.sleep(1.5)  # a backlog older than the first sample

            async def on_result(entries: list[LagEntry]) -> None:
                results.append(entries)
                if len(results) == 2:
                    # Commit "mid" between the end offsets of samples 1 and 2.
                    ends = [
                        next(e for e in r if e.group == old).partitions[0].end_offset
                        for r in results
                    ]
                    await commit(mid, topic, {0: (ends[0] + ends[1]) // 2})

            async with Session(kafka_context()) as session:
                await watch(session, LagQuery((old, mid)), 0.5, on_result, count=7)
            # The CLI under --watch writes the estimate in every jsonl line.
            cli = await asyncio.to_thread(
                run_cli, "lag", old, "--watch", "0.5", "--count", "3", "-o", "jsonl"
            )
            snap = await asyncio.to_thread(run_cli, "lag", old, "-o", "json")
        finally:
            stop.set()
            await producing
        return results[-1], cli, snap

    last, cli, snap = asyncio.run(scenario())
    by_group = {e.group: e for e in last}
    for group in (old, mid):  # old: extrapolated; mid: interpolated between two samples
        entry = by_group[group]
        [p] = entry.partitions
        assert p.lag > 10 and p.time_lag_seconds is not None
        assert p.estimated_time_lag_seconds is not None, group
        _close(p.estimated_time_lag_seconds, p.time_lag_seconds, p.lag)
        assert entry.max_estimated_time_lag_seconds == p.estimated_time_lag_seconds
    assert by_group[mid].partitions[0].committed_offset > 0
    # The first result has a single sample: nothing to interpolate with yet.
    assert all(p.estimated_time_lag_seconds is None for e in results[0] for p in e.partitions)

    assert cli.exit_code == 0, cli.output
    lines = [json.loads(line) for line in cli.stdout.splitlines()]
    [entry] = lines[-1]["entries"]
    [row] = entry["partitions"]
    assert row["estimated_time_lag_seconds"] is not None
    _close(row["estimated_time_lag_seconds"], row["time_lag_seconds"], row["lag"])
    assert entry["max_estimated_time_lag_seconds"] == row["estimated_time_lag_seconds"]
    # A snapshot cannot interpolate: the fields are there and null.
    [one] = json.loads(snap.stdout)
    assert one["max_estimated_time_lag_seconds"] is None
    assert one["partitions"][0]["estimated_time_lag_seconds"] is None
