"""A consumer group's lag rows from a snapshot's offsets: one pass per group-partition, the
hot loop of a large ``lag`` (30,000 rows at 10,000 partitions × 3 groups)."""

from __future__ import annotations

from mqctl.backends.kafka import groups as kgroups
from mqctl.lag.status import partition_snapshot_status
from mqctl.models.lag import LagEntry, LagStatus, PartitionLag, worst


def out_of_range(committed: int | None, end: int) -> str | None:
    """Why a committed offset cannot be judged, or None. An offset beyond the end offset
    (read after it, so a healthy group cannot be ahead of it) is not a position in this log:
    the topic was recreated or the log truncated, and the consumer will hit
    OFFSET_OUT_OF_RANGE and jump wherever its auto.offset.reset says. Lag would read 0."""
    if committed is not None and committed > end:
        return f"committed offset {committed} is beyond the end offset {end}"
    return None


def records_lost(committed: int | None, log_start: int) -> int:
    """Records between a committed offset and the log start: removed (retention,
    delete-records) before the group read them; it will never see them."""
    return log_start - committed if committed is not None and committed < log_start else 0


def group_entry(
    group: str,
    info: kgroups.GroupInfo | None,
    committed: dict[tuple[str, int], int],
    tps: list[tuple[str, int]],
    start: dict[tuple[str, int], int],
    end: dict[tuple[str, int], int],
    ages: dict[tuple[str, int, int], float],
) -> LagEntry:
    owners = info.owners() if info else {}
    members = len(info.members) if info else 0
    partitions = []
    total_lag = total_lost = 0
    max_time_lag: float | None = None
    no_commit_status = partition_snapshot_status(0, members)
    backlog_status = partition_snapshot_status(1, members)  # the same for any lag > 0
    # The hot loop of a large snapshot (one pass per group-partition): the common case, a
    # commit inside the log, is decided without the helpers the rare cases need.
    for key in tps:  # sorted
        topic, partition = key
        offset = committed.get(key)
        log_start, log_end = start[key], end[key]
        time_lag = None
        error = None
        lost = 0
        if offset is None:
            # No commit yet: unknown progress, shown as lag 0 like kafka-consumer-groups' "-".
            lag, raw_lag = 0, None
            status = no_commit_status
        elif log_start <= offset <= log_end:
            lag = raw_lag = log_end - offset
            if lag > 0:
                status = backlog_status
                time_lag = ages.get((topic, partition, offset))
                if time_lag is not None and (max_time_lag is None or time_lag > max_time_lag):
                    max_time_lag = time_lag
            else:
                status = LagStatus.OK
        else:
            raw_lag = log_end - offset if offset < log_end else 0
            # Lag counts the records that still exist: the lost ones can never be consumed.
            position = offset if offset >= log_start else log_start
            lag = log_end - position if position < log_end else 0
            if lag > 0:
                time_lag = ages.get((topic, partition, position))
                if time_lag is not None and (max_time_lag is None or time_lag > max_time_lag):
                    max_time_lag = time_lag
            lost = records_lost(offset, log_start)
            error = out_of_range(offset, log_end)
            if error:
                status = LagStatus.ERROR
            elif lost:
                status = LagStatus.DATA_LOSS
                error = (
                    f"{lost} record(s) removed (retention or delete-records) before the group "
                    f"read them: committed offset {offset} is below the log start {log_start}"
                )
            else:
                status = partition_snapshot_status(lag, members)
        total_lag += lag
        total_lost += lost
        # positional: built 2.5x faster than with keywords (30,000 rows); the order is pinned by
        # tests/test_lag_snapshot_rules.py
        owner = owners.get(key)
        partitions.append(
            PartitionLag(
                topic,
                partition,
                offset,
                log_start,
                log_end,
                lag,
                time_lag,
                owner,
                status,
                None,
                error,
                lost,
                raw_lag,
            )
        )
    return LagEntry(
        backend="kafka",
        kind="group",
        group=group,
        status=worst([p.status for p in partitions]) if partitions else LagStatus.OK,
        total_lag=total_lag,
        max_time_lag_seconds=max_time_lag,
        topics=sorted({topic for topic, _ in tps}),
        members=members,
        state=info.state if info else "Empty",
        partitions=partitions,
        total_records_lost=total_lost,
    )
