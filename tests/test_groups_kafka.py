"""`mqctl groups list|describe|delete` against the real local Kafka."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_lag_kafka import (
    commit,
    committed,
    create_topic,
    delete_groups,
    delete_topic,
    kafka_only,
    live_member,
    produce,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def group(unique: str, isolated_config: Path) -> Iterator[tuple[str, str]]:
    kafka_only(isolated_config)
    topic, name = f"groups-{unique}", f"groups-group-{unique}"
    asyncio.run(create_topic(topic, 2))
    asyncio.run(produce(topic, {0: [1_700_000_000_000] * 4, 1: [1_700_000_000_000] * 2}))
    asyncio.run(commit(name, topic, {0: 1, 1: 2}))
    yield topic, name
    asyncio.run(delete_topic(topic))
    asyncio.run(delete_groups(name))


def test_list_shows_group(group: tuple[str, str]) -> None:
    result = run_cli("groups", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    found = {g["group"]: g for g in json.loads(result.stdout)}
    row = found[group[1]]
    assert row["state"] == "Empty" and row["members"] == 0 and row["type"] == "classic"
    assert row["coordinator"] is not None
    table = run_cli("groups", "list")
    assert group[1] in table.stdout and "COORDINATOR" in table.stdout


def test_describe_members_and_offsets(group: tuple[str, str]) -> None:
    topic, name = group

    async def scenario() -> str:
        async with live_member(name, topic):
            result = await asyncio.to_thread(run_cli, "groups", "describe", name, "-o", "json")
        return result.stdout

    detail = json.loads(asyncio.run(scenario()))
    assert detail["group"] == name and detail["state"] == "Stable"
    [member] = detail["members"]
    assert member["client_id"] and member["host"]
    assert member["assignment"] == {topic: [0, 1]}
    offsets = {p["partition"]: p for p in detail["offsets"]}
    assert offsets[0]["committed_offset"] == 1 and offsets[0]["lag"] == 3
    assert offsets[1]["committed_offset"] == 2 and offsets[1]["lag"] == 0
    assert offsets[0]["owner"].startswith(member["member_id"])


def test_describe_unknown_group_is_exit_4(isolated_config: Path, unique: str) -> None:
    kafka_only(isolated_config)
    result = run_cli("groups", "describe", f"nope-{unique}")
    assert result.exit_code == 4 and result.stderr.startswith("error: consumer group")


def test_delete_refuses_active_group_then_deletes(group: tuple[str, str]) -> None:
    topic, name = group

    async def refused() -> object:
        async with live_member(name, topic):
            return await asyncio.to_thread(run_cli, "groups", "delete", name, "--yes")

    result = asyncio.run(refused())
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "active member" in result.stderr  # type: ignore[attr-defined]
    assert asyncio.run(committed(name, topic))  # still there
    no_yes = run_cli("groups", "delete", name)
    assert no_yes.exit_code == 2 and "--yes" in no_yes.stderr
    ok = run_cli("groups", "delete", name, "--yes")
    assert ok.exit_code == 0, ok.output
    assert asyncio.run(committed(name, topic)) == {}
    again = run_cli("groups", "delete", name, "--yes")
    assert again.exit_code == 4
