"""``mqctl topics create|alter|delete`` and the describe config view, on the real Kafka."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_peek_kafka import KAFKA_ONLY

pytestmark = pytest.mark.kafka


@pytest.fixture
def name(isolated_config: Path, unique: str) -> Iterator[str]:
    isolated_config.write_text(KAFKA_ONLY)
    topic = f"test-admin-{unique}"
    yield topic
    run_cli("topics", "delete", topic, "--yes")  # cleanup; may already be gone


def describe(topic: str) -> dict[str, Any]:
    result = run_cli("topics", "describe", topic, "-o", "json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def configs(detail: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: c for c in detail["configs"]}


def test_create_dry_run_then_create(name: str) -> None:
    dry = run_cli("topics", "create", name, "--partitions", "2", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.stdout
    assert run_cli("topics", "describe", name).exit_code == 4  # nothing was created
    made = run_cli(
        "topics", "create", name, "--partitions", "2", "--config", "retention.ms=3600000"
    )
    assert made.exit_code == 0, made.output
    detail = describe(name)
    assert len(detail["partitions"]) == 2
    retention = configs(detail)["retention.ms"]
    assert retention["value"] == "3600000" and not retention["is_default"]
    assert retention["source"] == "topic"
    assert configs(detail)["segment.bytes"]["is_default"] is True
    table = run_cli("topics", "describe", name)
    assert "retention.ms" in table.stdout and "segment.bytes" not in table.stdout
    everything = run_cli("topics", "describe", name, "--all-configs")
    assert "segment.bytes" in everything.stdout


def test_create_errors(name: str) -> None:
    assert run_cli("topics", "create", name).exit_code == 0  # broker default partitions
    again = run_cli("topics", "create", name)
    assert again.exit_code == 2 and "already exists" in again.stderr
    bad = run_cli("topics", "create", f"{name}-x", "--config", "retention.ms=soon")
    assert bad.exit_code == 2 and "retention.ms" in bad.stderr
    unknown = run_cli("topics", "create", f"{name}-y", "--config", "no.such.config=1")
    assert unknown.exit_code == 2 and "no.such.config" in unknown.stderr
    rf = run_cli("topics", "create", f"{name}-z", "--replication-factor", "5")
    assert rf.exit_code == 2 and "replication" in rf.stderr.lower()
    pair = run_cli("topics", "create", f"{name}-w", "--config", "novalue")
    assert pair.exit_code == 2 and "KEY=VALUE" in pair.stderr
    for leftover in ("-x", "-y", "-z", "-w"):
        assert run_cli("topics", "describe", name + leftover).exit_code == 4


def test_alter_configs_and_partitions(name: str) -> None:
    assert run_cli("topics", "create", name, "--partitions", "1",
                   "--config", "retention.ms=3600000").exit_code == 0  # fmt: skip
    dry = run_cli("topics", "alter", name, "--config", "max.message.bytes=2000000", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.stdout
    assert configs(describe(name))["max.message.bytes"]["is_default"] is True
    done = run_cli("topics", "alter", name, "--config", "max.message.bytes=2000000")
    assert done.exit_code == 0, done.output
    after = configs(describe(name))
    assert after["max.message.bytes"]["value"] == "2000000"
    assert after["retention.ms"]["value"] == "3600000"  # other overrides are kept
    reset = run_cli("topics", "alter", name, "--delete-config", "retention.ms")
    assert reset.exit_code == 0
    assert configs(describe(name))["retention.ms"]["is_default"] is True
    grow_dry = run_cli("topics", "alter", name, "--add-partitions", "2", "--dry-run")
    assert grow_dry.exit_code == 0 and "from 1 to 3" in grow_dry.stdout
    assert len(describe(name)["partitions"]) == 1
    grow = run_cli("topics", "alter", name, "--add-partitions", "2")
    assert grow.exit_code == 0 and len(describe(name)["partitions"]) == 3
    bad = run_cli("topics", "alter", name, "--config", "cleanup.policy=sometimes")
    assert bad.exit_code == 2 and "cleanup.policy" in bad.stderr
    nothing = run_cli("topics", "alter", name)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    missing = run_cli("topics", "alter", f"{name}-missing", "--config", "retention.ms=1000")
    assert missing.exit_code == 4
    missing_grow = run_cli("topics", "alter", f"{name}-missing", "--add-partitions", "1")
    assert missing_grow.exit_code == 4


def test_delete_needs_confirmation_and_checks_all_names(name: str) -> None:
    assert run_cli("topics", "create", name, "--partitions", "1").exit_code == 0
    refused = run_cli("topics", "delete", name)  # no TTY, no --yes
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    partial = run_cli("topics", "delete", name, f"{name}-nope", "--yes")
    assert partial.exit_code == 4 and "nothing deleted" in partial.stderr
    assert run_cli("topics", "describe", name).exit_code == 0  # still there
    dry = run_cli("topics", "delete", name, "--dry-run")
    assert dry.exit_code == 0 and "would delete" in dry.stdout
    gone = run_cli("topics", "delete", name, "--yes")
    assert gone.exit_code == 0 and f"deleted topic {name}" in gone.stdout
    assert run_cli("topics", "describe", name).exit_code == 4


def test_read_only_context_refuses_changes(isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(
        KAFKA_ONLY.replace(
            "[contexts.k.kafka]", "[contexts.k]\nread-only = true\n[contexts.k.kafka]"
        )
    )
    result = run_cli("topics", "create", f"test-admin-ro-{unique}")
    assert result.exit_code == 2 and "read-only" in result.stderr
