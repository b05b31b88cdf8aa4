"""Many contexts at once (``--context a,b``, ``--all-contexts``): every listing gets a
``context`` field / CONTEXT column, a context that is down shows as UNREACHABLE without hiding
the others, and the exit code is the worst context's (3 for the one down)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KAFKA, RABBIT_MGMT, CliResult, run_cli


@pytest.fixture
def two_contexts(isolated_config: Path, closed_port: int) -> Path:
    """``up``: the local brokers; ``down``: nothing listens on its ports."""
    isolated_config.write_text(
        f"""
current-context = "up"
[contexts.up.kafka]
bootstrap-servers = "{KAFKA}"
[contexts.up.rabbitmq]
url = "amqp://guest@127.0.0.1:5672/"
management-url = "{RABBIT_MGMT}"
password = "guest"
[contexts.down.kafka]
bootstrap-servers = "127.0.0.1:{closed_port}"
[contexts.down.rabbitmq]
url = "amqp://guest@127.0.0.1:{closed_port}/"
management-url = "http://127.0.0.1:{closed_port}"
password = "guest"
"""
    )
    return isolated_config


def fleet(*args: str) -> tuple[CliResult, list[dict[str, Any]]]:
    result = run_cli("--timeout", "3", *args, "-o", "json")
    assert "Traceback" not in result.output
    return result, json.loads(result.stdout)


def by_context(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["context"], []).append(row)
    return found


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (("topics", "list"), "partitions"),
        (("queues", "list"), "consumers"),
        (("dlq", "list"), "depth"),
        (("lag",), "total_lag"),
    ],
)
def test_listing_over_two_contexts_one_down(
    two_contexts: Path, command: tuple[str, ...], field: str
) -> None:
    result, rows = fleet(*command, "--context", "up,down")
    assert result.exit_code == 3, result.output
    contexts = by_context(rows)
    assert contexts["up"] and all(field in row for row in contexts["up"]), rows
    down = contexts["down"]
    assert down and all(row["status"] == "UNREACHABLE" and row["error"] for row in down)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and all("context 'down'" in line for line in errors), result.stderr


def test_all_contexts_table_has_a_context_column(two_contexts: Path) -> None:
    result = run_cli("--timeout", "3", "topics", "list", "--all-contexts")
    assert result.exit_code == 3, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "CONTEXT"
    assert any(line.split()[:2] == ["down", "UNREACHABLE"] for line in lines), result.stdout
    assert any(line.split()[0] == "up" for line in lines[1:]), result.stdout
    # the built-in local context is part of "all"
    assert any(line.split()[0] == "local" for line in lines[1:]), result.stdout


def test_all_reachable_is_exit_0_and_global_option_works(two_contexts: Path) -> None:
    result, rows = fleet("-c", "up,local", "topics", "list")
    assert result.exit_code == 0, result.output
    assert set(by_context(rows)) == {"up", "local"}


def test_kafka_only_context_is_left_out_of_queues(two_contexts: Path, closed_port: int) -> None:
    with two_contexts.open("a") as fh:
        fh.write(f'[contexts.konly.kafka]\nbootstrap-servers = "{KAFKA}"\n')
    result, rows = fleet("queues", "list", "--context", "up,konly")
    assert result.exit_code == 0, result.output
    assert set(by_context(rows)) == {"up"}


def test_bad_selections(two_contexts: Path) -> None:
    unknown = run_cli("topics", "list", "--context", "up,nope")
    assert unknown.exit_code == 4 and "'nope' not found" in unknown.stderr, unknown.output
    both = run_cli("topics", "list", "--context", "up,down", "--all-contexts")
    assert both.exit_code == 2, both.output
    watch = run_cli("lag", "--context", "up,down", "--watch", "1")
    assert watch.exit_code == 2, watch.output


def test_doctor_over_two_contexts_one_down(two_contexts: Path) -> None:
    result, findings = fleet(
        "doctor", "--context", "up,down", "--check", "reachable,dlq", "--interval", "0"
    )
    assert result.exit_code == 3, result.output
    contexts = by_context(findings)
    down = [f for f in contexts["down"] if f["check"] == "reachable"]
    assert {f["backend"] for f in down} == {"kafka", "rabbitmq"}
    assert all(f["severity"] == "CRIT" and "UNREACHABLE" in f["summary"] for f in down)
    up = {(f["backend"], f["check"]): f["severity"] for f in contexts["up"]}
    assert up[("kafka", "reachable")] == "OK" and up[("rabbitmq", "reachable")] == "OK"
    assert ("kafka", "dlq") in up and ("rabbitmq", "dlq") in up  # the others still checked
    assert findings[0]["severity"] == "CRIT"
