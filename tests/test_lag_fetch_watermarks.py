"""With time lag on, a partition's log start and end offsets come from the time-lag Fetch
answer (Fetch v5+ carries both) instead of ListOffsets; partitions whose fetch fails (a
commit below the log start or beyond the end) fall back to ListOffsets. Generated logs on the
real broker: the snapshot with time lag gives exactly the offsets, lags and statuses of the
snapshot without it (ListOffsets only), and both the offsets read independently."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import KAFKA
from tests.kafka_helpers import commit, end_offsets, produce, scratch_topic

if TYPE_CHECKING:
    from mqctl.models.lag import LagEntry

pytestmark = pytest.mark.kafka

# per partition: records, records deleted from the start, committed offset relative to them
partition_plan = st.tuples(
    st.integers(0, 5), st.integers(0, 5), st.one_of(st.none(), st.integers(0, 7))
)


async def _delete_below(topic: str, offsets: dict[int, int]) -> None:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_records(
            {TopicPartition(topic, p): RecordsToDelete(o) for p, o in offsets.items()}
        )
    finally:
        await admin.close()


async def _snapshots(group: str) -> tuple[list[LagEntry], list[LagEntry]]:
    from mqctl.backends.kafka.connection import KafkaConnection
    from mqctl.backends.kafka.lag import snapshot
    from mqctl.backends.kafka.settings import parse_kafka_settings

    settings_ = parse_kafka_settings({"bootstrap-servers": KAFKA}, "test")
    conn = KafkaConnection(settings_, 30.0, "test")
    try:
        with_time = await snapshot(conn, [group], time_lag=True)
        without = await snapshot(conn, [group], time_lag=False)
        return with_time, without
    finally:
        await conn.close()


def _rows(entries: list[LagEntry]) -> list[tuple[object, ...]]:
    return [
        (
            p.partition,
            p.committed_offset,
            p.log_start_offset,
            p.end_offset,
            p.lag,
            p.status,
            p.records_lost,
            p.raw_lag,
            p.error,
        )
        for e in entries
        for p in e.partitions
    ]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(partition_plan, min_size=1, max_size=4))
def test_fetched_watermarks_equal_list_offsets(plan: list[tuple[int, int, int | None]]) -> None:
    tag = uuid.uuid4().hex[:8]
    topic, group = f"lag-marks-{tag}", f"lag-marks-{tag}-g"
    now = int(time.time() * 1000)
    with scratch_topic(topic, len(plan), group):
        stamps = {p: [now - (60 - i) * 1000 for i in range(n)] for p, (n, _, _) in enumerate(plan)}
        asyncio.run(produce(topic, {p: s for p, s in stamps.items() if s}))
        deleted = {p: min(d, n) for p, (n, d, _) in enumerate(plan) if min(d, n)}
        if deleted:
            asyncio.run(_delete_below(topic, deleted))
        commits = {p: c for p, (_, _, c) in enumerate(plan) if c is not None}
        if not commits:
            commits = {0: 0}
        asyncio.run(commit(group, topic, commits))
        ends = asyncio.run(end_offsets(topic, len(plan)))
        with_time, without = asyncio.run(_snapshots(group))
    rows = _rows(with_time)
    assert rows == _rows(without)
    assert [r[0] for r in rows] == sorted(commits)
    for e in with_time:
        for p in e.partitions:
            assert p.committed_offset == commits[p.partition]
            assert (p.log_start_offset, p.end_offset) == (
                deleted.get(p.partition, 0),
                ends[p.partition],
            )
            # a lagging position inside the log has the age of its first record
            inside = p.committed_offset is not None and p.committed_offset <= p.end_offset
            assert (p.time_lag_seconds is not None) == (p.lag > 0 and inside), p
    assert all(p.time_lag_seconds is None for e in without for p in e.partitions)
