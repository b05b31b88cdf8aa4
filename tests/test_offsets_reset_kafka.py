"""`mqctl offsets reset`: every mode, dry run, refusal on an active group, export/import."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import (
    commit,
    committed,
    kafka_only,
    live_member,
    produce,
    scratch_topic,
)

pytestmark = pytest.mark.kafka
HOUR_MS = 3_600_000


@pytest.fixture
def setup(unique: str, isolated_config: Path) -> Iterator[dict[str, Any]]:
    """2 partitions x 10 records; record i is (10 - i) hours old; committed at 4 and 6."""
    kafka_only(isolated_config)
    topic, group = f"reset-{unique}", f"reset-group-{unique}"
    now = int(time.time() * 1000)
    stamps = [now - (10 - i) * HOUR_MS for i in range(10)]
    with scratch_topic(topic, 2, group):
        asyncio.run(produce(topic, {0: stamps, 1: stamps}))
        asyncio.run(commit(group, topic, {0: 4, 1: 6}))
        yield {"topic": topic, "group": group, "stamps": stamps}


def reset(s: dict[str, Any], *args: str) -> Any:
    return run_cli("offsets", "reset", s["group"], "-o", "json", *args)


def offsets(s: dict[str, Any]) -> dict[int, int]:
    return asyncio.run(committed(s["group"], s["topic"]))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--to-earliest"], {0: 0, 1: 0}),
        (["--to-latest"], {0: 10, 1: 10}),
        (["--to-offset", "7"], {0: 7, 1: 7}),
        (["--shift-by", "2"], {0: 6, 1: 8}),
        (["--shift-by", "-3"], {0: 1, 1: 3}),
        (["--by-duration", "3h30m"], {0: 7, 1: 7}),
    ],
)
def test_modes_plan_then_execute(setup: dict[str, Any], args: list[str], expected: dict) -> None:
    plan = reset(setup, "--topic", setup["topic"], *args)
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert data["executed"] is False
    assert {r["partition"]: r["new_offset"] for r in data["rows"]} == expected
    assert {r["partition"]: r["current_offset"] for r in data["rows"]} == {0: 4, 1: 6}
    assert {r["partition"]: r["change"] for r in data["rows"]} == {
        p: expected[p] - {0: 4, 1: 6}[p] for p in expected
    }
    assert offsets(setup) == {0: 4, 1: 6}  # dry run changed nothing
    done = reset(setup, "--topic", setup["topic"], *args, "--execute", "--yes")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["executed"] is True
    assert offsets(setup) == expected


def test_to_datetime_and_partition_selection(setup: dict[str, Any]) -> None:
    when = datetime.fromtimestamp(setup["stamps"][5] / 1000, UTC).isoformat()
    result = reset(setup, "--topic", f"{setup['topic']}:1", "--to-datetime", when, "--execute",
                   "--yes")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert offsets(setup) == {0: 4, 1: 5}


def test_clamped_with_warning(setup: dict[str, Any]) -> None:
    result = reset(setup, "--topic", setup["topic"], "--shift-by", "100")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["rows"]
    assert all(r["new_offset"] == 10 and r["clamped"] for r in rows)
    assert result.stderr.count("warning:") == 2 and "outside the valid range" in result.stderr


def test_export_then_from_file(setup: dict[str, Any], tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.csv"
    exported = reset(setup, "--topic", setup["topic"], "--to-offset", "3", "--export",
                     str(plan_file))  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert plan_file.read_text().splitlines() == [f"{setup['topic']},0,3", f"{setup['topic']},1,3"]
    assert offsets(setup) == {0: 4, 1: 6}
    applied = reset(setup, "--from-file", str(plan_file), "--execute", "--yes")
    assert applied.exit_code == 0, applied.output
    assert offsets(setup) == {0: 3, 1: 3}


def test_refused_while_group_active(setup: dict[str, Any]) -> None:
    async def scenario() -> Any:
        async with live_member(setup["group"], setup["topic"]):
            return await asyncio.to_thread(
                reset, setup, "--topic", setup["topic"], "--to-earliest", "--execute", "--yes"
            )

    result = asyncio.run(scenario())
    assert result.exit_code == 2
    assert "active member" in result.stderr and len(result.stderr.splitlines()) == 2
    assert offsets(setup) == {0: 4, 1: 6}


def test_execute_needs_confirmation_without_yes(setup: dict[str, Any]) -> None:
    result = run_cli("offsets", "reset", setup["group"], "-t", setup["topic"], "--to-earliest",
                     "--execute")  # fmt: skip
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert offsets(setup) == {0: 4, 1: 6}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--to-earliest", "--to-latest"], 2),
        ([], 2),
        (["--to-datetime", "yesterday"], 2),
        (["--by-duration", "soon"], 2),
        (["--from-file", "/nonexistent/plan.csv"], 2),
    ],
)
def test_bad_input(setup: dict[str, Any], args: list[str], code: int) -> None:
    result = reset(setup, "--topic", setup["topic"], *args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error:") and "Traceback" not in result.output


def test_unknown_topic_and_partition_are_not_found(setup: dict[str, Any]) -> None:
    assert reset(setup, "--topic", setup["topic"] + "-x", "--to-earliest").exit_code == 4
    assert reset(setup, "--topic", setup["topic"] + ":7", "--to-earliest").exit_code == 4


def test_bad_plan_file_line(setup: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{setup['topic']},zero,3\n")
    result = reset(setup, "--from-file", str(bad))
    assert result.exit_code == 2 and "bad.csv:1" in result.stderr


def test_reset_of_a_group_that_does_not_exist_needs_allow_new_group(
    setup: dict[str, Any], unique: str
) -> None:
    """A typo ("analytcs-group") must not quietly plan and create a brand-new group."""
    typo = {**setup, "group": f"reset-grup-{unique}"}
    result = reset(typo, "-t", setup["topic"], "--to-earliest")
    assert result.exit_code == 0, result.output  # the plan is shown, with a warning
    assert json.loads(result.stdout)["new_group"] is True
    assert f"warning: group '{typo['group']}' does not exist" in result.stderr
    result = reset(typo, "-t", setup["topic"], "--to-earliest", "--execute", "--yes")
    assert result.exit_code == 2, result.output
    assert "--allow-new-group" in result.stderr
    assert offsets(typo) == {}
    try:
        result = reset(typo, "-t", setup["topic"], "--to-offset", "3", "--execute", "--yes",
                       "--allow-new-group")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert offsets(typo) == {0: 3, 1: 3}
    finally:
        from tests.kafka_helpers import delete_groups

        asyncio.run(delete_groups(typo["group"]))
    # an existing group is not "new"
    result = reset(setup, "-t", setup["topic"], "--to-earliest")
    assert json.loads(result.stdout)["new_group"] is False
    assert "does not exist" not in result.stderr
