"""Burrow's window rules, each produced by a real scenario on the local Kafka.

The window is kept short (3 samples, 1 s apart); between samples the test acts like the
consumer would (commit, rewind, produce) through the sampler's ``on_sample`` hook.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import (
    commit,
    kafka_context,
    kafka_only,
    live_member,
    produce,
    scratch_topic,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def backlog(unique: str, isolated_config: Path) -> Iterator[tuple[str, str]]:
    """One partition with 20 records and a group committed at offset 5 (lag 15)."""
    kafka_only(isolated_config)
    topic, group = f"burrow-{unique}", f"burrow-group-{unique}"
    now = int(time.time() * 1000)
    with scratch_topic(topic, 1, group):
        asyncio.run(produce(topic, {0: [now - 1000 * (20 - i) for i in range(20)]}))
        asyncio.run(commit(group, topic, {0: 5}))
        yield topic, group


def sample_window(
    group: str, between: Callable[[int], Awaitable[None]] | None = None, seconds: float = 2.0
) -> Any:
    """Run the real sampler for ``seconds`` (1 s apart) and return the judged entry."""
    from mqctl.services.lag import LagQuery, window
    from mqctl.session import Session

    async def main() -> Any:
        taken = 0

        async def on_sample(_entries: Any) -> None:
            nonlocal taken
            taken += 1
            if between is not None:
                await between(taken)

        async with Session(kafka_context()) as session:
            [entry] = await window(session, LagQuery((group,)), seconds, 1.0, on_sample)
            return entry

    return asyncio.run(main())


def test_stop_no_commits_and_no_members(backlog: tuple[str, str]) -> None:
    entry = sample_window(backlog[1])
    assert entry.status.value == "STOP"
    assert [p.status.value for p in entry.partitions] == ["STOP"]


def test_stall_member_present_but_offsets_unchanged(backlog: tuple[str, str]) -> None:
    topic, group = backlog

    async def scenario() -> Any:
        # The member joins and never commits (a stuck consumer): Burrow's STALL.
        async with live_member(group, topic):
            return await asyncio.to_thread(sample_window, group)

    entry = asyncio.run(scenario())
    assert entry.members == 1
    assert entry.status.value == "STALL"
    assert entry.partitions[0].owner is not None


def test_rewind_committed_offset_moves_back(backlog: tuple[str, str]) -> None:
    topic, group = backlog

    async def rewind(n: int) -> None:
        if n == 1:
            await commit(group, topic, {0: 2})

    entry = sample_window(group, rewind)
    assert entry.status.value == "REWIND"


def test_warn_offsets_move_but_lag_grows(backlog: tuple[str, str]) -> None:
    topic, group = backlog
    position = 5

    async def slow_consumer(n: int) -> None:
        nonlocal position
        position += 1
        await commit(group, topic, {0: position})
        await produce(topic, {0: [int(time.time() * 1000)] * 3})

    entry = sample_window(group, slow_consumer)
    assert entry.status.value == "WARN"


def test_ok_steadily_consuming_group(backlog: tuple[str, str]) -> None:
    topic, group = backlog
    position = 5

    async def consumer(n: int) -> None:
        nonlocal position
        position += 3
        await commit(group, topic, {0: position})

    entry = sample_window(group, consumer)
    assert entry.status.value == "OK"
    assert entry.total_lag == 20 - (position - 3)  # the last commit came after the last sample


def test_ok_when_caught_up_during_window(backlog: tuple[str, str]) -> None:
    topic, group = backlog

    async def catch_up(n: int) -> None:
        if n == 1:
            await commit(group, topic, {0: 20})

    entry = sample_window(group, catch_up)
    assert entry.status.value == "OK" and entry.total_lag == 0


def test_window_flag_and_fail_on_stop(backlog: tuple[str, str]) -> None:
    result = run_cli(
        "lag", backlog[1], "--window", "2s", "--interval", "1s", "-o", "json", "--fail-on", "stop"
    )
    assert result.exit_code == 1, result.output
    [entry] = json.loads(result.stdout)
    assert entry["status"] == "STOP"
    assert result.stderr.startswith("error: lag check failed:") and "STOP" in result.stderr
    ok = run_cli("lag", backlog[1], "--window", "1s", "--interval", "1s", "--fail-on", "error")
    assert ok.exit_code == 0, ok.output


def test_watch_jsonl_one_line_per_sample(backlog: tuple[str, str]) -> None:
    result = run_cli("lag", backlog[1], "--watch", "0.5", "--count", "3", "-o", "jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert all(line["entries"][0]["group"] == backlog[1] for line in lines)
    assert lines[0]["entries"][0]["status"] == "STOPPED"  # one sample: snapshot status
    assert lines[-1]["entries"][0]["status"] == "STOP"  # window of samples: Burrow


def test_watch_exits_1_on_violation(backlog: tuple[str, str]) -> None:
    result = run_cli("lag", backlog[1], "--watch", "0.5", "--count", "5", "--max-lag", "3")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: lag check failed:")


# --- ERROR -----------------------------------------------------------------------------------


@pytest.fixture
def beyond_end(unique: str, isolated_config: Path) -> Iterator[tuple[str, str]]:
    """Two partitions with 5 records each; partition 0 committed at 50, beyond its end (Kafka
    accepts any commit: a buggy client, a hand-made reset, an offset kept across a
    recreated topic), partition 1 committed at 2."""
    kafka_only(isolated_config)
    topic, group = f"err-{unique}", f"err-group-{unique}"
    now = int(time.time() * 1000)
    with scratch_topic(topic, 2, group):
        asyncio.run(produce(topic, {0: [now - 5000] * 5, 1: [now - 5000] * 5}))
        asyncio.run(commit(group, topic, {0: 50, 1: 2}))
        yield topic, group


def test_error_committed_offset_beyond_the_end(beyond_end: tuple[str, str]) -> None:
    group = beyond_end[1]
    result = run_cli("lag", group, "-o", "json", "--fail-on", "error")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"error: lag check failed: kafka:{group} is ERROR"
    [entry] = json.loads(result.stdout)
    assert entry["status"] == "ERROR"
    rows = {p["partition"]: p for p in entry["partitions"]}
    assert rows[0]["status"] == "ERROR" and rows[0]["lag"] == 0
    assert rows[0]["committed_offset"] == 50 and rows[0]["end_offset"] == 5
    assert rows[0]["error"] == "committed offset 50 is beyond the end offset 5"
    assert rows[1]["status"] == "STOPPED" and rows[1]["lag"] == 3 and rows[1]["error"] is None
    table = run_cli("lag", group)
    assert table.exit_code == 0 and "ERROR" in table.stdout
    # Over a window the latest sample decides: still beyond the end, still ERROR.
    window = sample_window(group)
    assert window.status.value == "ERROR"
    assert [p.status.value for p in window.partitions] == ["ERROR", "STOP"]


def test_error_clears_once_the_offset_is_valid_again(beyond_end: tuple[str, str]) -> None:
    topic, group = beyond_end

    async def fix(n: int) -> None:
        if n == 1:
            await commit(group, topic, {0: 5})  # someone resets it to the end

    entry = sample_window(group, fix, seconds=2.0)
    statuses = {p.partition: p.status.value for p in entry.partitions}
    # The errored first sample is left out: partition 0 is caught up, not REWIND or ERROR.
    assert statuses == {0: "OK", 1: "STOP"}
    assert entry.partitions[0].error is None


def test_window_rules_skip_an_earlier_error() -> None:
    from mqctl.lag.status import Point, burrow_status

    ok = [Point(0, 5, 3, 1), Point(1, 6, 2, 1)]
    assert burrow_status([Point(-1, 99, 0, 1, error=True), *ok]).value == "OK"
    assert burrow_status([*ok, Point(2, 99, 0, 1, error=True)]).value == "ERROR"
    assert burrow_status([]).value == "ERROR"
