"""`mqctl groups list|describe|delete` against the real local Kafka."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA, run_cli
from tests.kafka_helpers import (
    commit,
    committed,
    kafka_only,
    live_member,
    produce,
    scratch_topic,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def group(unique: str, isolated_config: Path) -> Iterator[tuple[str, str]]:
    kafka_only(isolated_config)
    topic, name = f"groups-{unique}", f"groups-group-{unique}"
    with scratch_topic(topic, 2, name):
        asyncio.run(produce(topic, {0: [1_700_000_000_000] * 4, 1: [1_700_000_000_000] * 2}))
        asyncio.run(commit(name, topic, {0: 1, 1: 2}))
        yield topic, name


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


# --- KIP-848 `consumer` protocol groups, with a real Java consumer ---------------------------

KAFKA_LIBS = Path(__file__).resolve().parent.parent / ".cache" / "kafka-4.1.1" / "libs"
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


def _describe(group: str) -> dict[str, Any] | None:
    result = run_cli("groups", "describe", group, "-o", "json")
    return json.loads(result.stdout) if result.exit_code == 0 else None


@contextmanager
def java_consumer(topic: str, group: str, client_id: str) -> Iterator[dict[str, Any]]:
    """Kafka's console consumer with ``group.protocol=consumer`` (aiokafka cannot join a
    KIP-848 group). It never commits (auto commit off), so committed offsets stay where the
    test put them. Yields the group's description once it is Stable with an assignment; the
    JVM is stopped by its pid (SIGTERM: it leaves the group) whatever happens."""
    if shutil.which("java") is None or not any(KAFKA_LIBS.glob("kafka-tools-*.jar")):
        pytest.skip("needs java and the Kafka jars in .cache/kafka-4.1.1/libs")
    command = [
        "java", "-Xmx128m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", f"{KAFKA_LIBS}/*", CONSOLE_CONSUMER,
        "--bootstrap-server", KAFKA, "--topic", topic, "--group", group,
        "--consumer-property", "group.protocol=consumer",
        "--consumer-property", f"client.id={client_id}",
        "--consumer-property", "enable.auto.commit=false",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        detail = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            detail = _describe(group)
            if (
                detail is not None
                and detail["state"] == "Stable"
                and detail["members"]
                and all(m["assignment"] for m in detail["members"])
            ):
                break
            time.sleep(0.3)
        else:
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.poll() else ""
            pytest.fail(f"the KIP-848 consumer did not join: {detail} {err}")
        yield detail
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture
def kip848(unique: str, isolated_config: Path) -> Iterator[dict[str, str]]:
    """A 2-partition topic (6 and 4 records), offsets committed at 1 and 2, then a
    consumer-protocol member: Kafka 4 turns the empty group into a `consumer` group."""
    kafka_only(isolated_config)
    names = {
        "topic": f"kip848-{unique}",
        "group": f"kip848-group-{unique}",
        "client": f"kip848-client-{unique}",
    }
    now = int(time.time() * 1000)
    with scratch_topic(names["topic"], 2, names["group"]):
        asyncio.run(produce(names["topic"], {0: [now - 5000] * 6, 1: [now - 5000] * 4}))
        asyncio.run(commit(names["group"], names["topic"], {0: 1, 1: 2}))
        yield names


def test_kip848_list_and_describe(kip848: dict[str, str]) -> None:
    topic, group, client = kip848["topic"], kip848["group"], kip848["client"]
    with java_consumer(topic, group, client):
        listed = run_cli("groups", "list", "-o", "json")
        detail = _describe(group)
        table = run_cli("groups", "list")
    assert listed.exit_code == 0, listed.output
    row = {g["group"]: g for g in json.loads(listed.stdout)}[group]
    assert row["type"] == "consumer" and row["protocol_type"] == "consumer"
    assert row["state"] == "Stable" and row["members"] == 1 and row["coordinator"] is not None
    assert group in table.stdout and "consumer" in table.stdout
    assert detail is not None
    assert detail["type"] == "consumer" and detail["protocol_type"] == "consumer"
    assert detail["protocol"]  # the server-side assignor (uniform or range)
    [member] = detail["members"]
    assert member["member_id"] and member["client_id"] == client
    assert member["host"] == "127.0.0.1"  # no leading "/" as the broker sends it
    assert member["assignment"] == {topic: [0, 1]}
    offsets = {p["partition"]: p for p in detail["offsets"]}
    assert offsets[0]["committed_offset"] == 1 and offsets[0]["lag"] == 5
    assert offsets[1]["committed_offset"] == 2 and offsets[1]["lag"] == 2
    assert offsets[0]["owner"] == f"{member['member_id']}/{client}/127.0.0.1"


def test_kip848_lag_owner_and_refusals(kip848: dict[str, str]) -> None:
    topic, group, client = kip848["topic"], kip848["group"], kip848["client"]
    with java_consumer(topic, group, client) as detail:
        named = run_cli("lag", group, "-o", "json")
        everything = run_cli("lag", "--all-groups", "-o", "json")
        delete = run_cli("groups", "delete", group, "--yes")
        reset = run_cli(
            "offsets", "reset", group, "--topic", topic, "--to-latest", "--execute", "--yes"
        )
    member = detail["members"][0]["member_id"]
    assert named.exit_code == 0, named.output
    [entry] = json.loads(named.stdout)
    assert entry["members"] == 1 and entry["state"] == "Stable"
    assert entry["status"] == "LAGGING" and entry["total_lag"] == 5 + 2
    for p in entry["partitions"]:
        assert p["owner"] == f"{member}/{client}/127.0.0.1"
        assert p["status"] == "LAGGING" and p["time_lag_seconds"] > 0
    # The all-groups path knows the type from ListGroups and asks ConsumerGroupDescribe.
    assert everything.exit_code == 0, everything.output
    same = {e["group"]: e for e in json.loads(everything.stdout)}[group]
    assert same["members"] == 1 and {p["owner"] for p in same["partitions"]} == {
        f"{member}/{client}/127.0.0.1"
    }
    assert delete.exit_code == 2 and "active member" in delete.stderr
    assert reset.exit_code == 2 and "active member" in reset.stderr
    # The member left (SIGTERM): the group is an empty `consumer` group with its offsets.
    after = None
    for _ in range(50):
        after = _describe(group)
        if after is not None and not after["members"]:
            break
        time.sleep(0.2)
    assert after is not None and after["state"] == "Empty" and after["type"] == "consumer"
    assert asyncio.run(committed(group, topic)) == {0: 1, 1: 2}  # the refusals changed nothing
    stopped = json.loads(run_cli("lag", group, "-o", "json").stdout)[0]
    assert stopped["status"] == "STOPPED" and stopped["members"] == 0
    assert all(p["owner"] is None for p in stopped["partitions"])
    ok = run_cli("groups", "delete", group, "--yes")
    assert ok.exit_code == 0, ok.output
    assert _describe(group) is None
