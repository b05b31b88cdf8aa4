"""The snapshot status rule applied to many rows at once (apply_snapshot_status, inlined for
speed) gives each partition exactly what partition_snapshot_status says, and keeps the
statuses the backend judged (no broker needed)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.lag.status import JUDGED_BY_BACKEND, apply_snapshot_status, partition_snapshot_status
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, worst

rows = st.lists(
    st.tuples(st.integers(-3, 5), st.sampled_from(list(LagStatus))), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(0, 3), st.integers(-2, 4))
def test_each_row_gets_the_rule_of_one_partition(
    found: list[tuple[int, LagStatus]], members: int, threshold: int
) -> None:
    partitions = [
        PartitionLag("t", i, 0, 0, max(lag, 0), lag, None, None, status)
        for i, (lag, status) in enumerate(found)
    ]
    entry = LagEntry(
        backend="kafka", kind="group", group="g", status=LagStatus.OK, total_lag=0,
        max_time_lag_seconds=None, members=members, partitions=partitions,
    )  # fmt: skip
    apply_snapshot_status([entry], threshold)
    rule = partition_snapshot_status
    expected = [
        status if status in JUDGED_BY_BACKEND else rule(lag, members, threshold)
        for lag, status in found
    ]
    assert [p.status for p in entry.partitions] == expected
    assert entry.status == worst(expected)


def test_partition_lag_field_order_is_what_the_kafka_snapshot_builds() -> None:
    """kafka/lag_rows.py builds PartitionLag positionally on its hot path."""
    import dataclasses

    assert [f.name for f in dataclasses.fields(PartitionLag)] == [
        "topic", "partition", "committed_offset", "log_start_offset", "end_offset", "lag",
        "time_lag_seconds", "owner", "status", "estimated_time_lag_seconds", "error",
        "records_lost", "raw_lag",
    ]  # fmt: skip
