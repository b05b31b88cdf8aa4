"""`mqctl doctor` on the 3-broker cluster (scripts/cluster.sh) with one broker killed: the
controller stays, partitions of a replicated topic turn under-replicated (WARN: the ISR is
still at min.insync.replicas) and back to OK once the broker returns.

Kills a cluster broker: run under ``flock /tmp/mqctl-fault.lock``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_cluster_failover import VICTIM, _alive, _pid, _script, kill_node
from tests.test_cluster_failover import cluster as cluster  # a fixture

ATTEMPTS = 60  # 1 s apart: the controller fences a dead broker after its session timeout


def doctor(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("--timeout", "15", "-c", "cl", "doctor", "-o", "json", *args)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 3), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else []


def until(check: str, topic: str, severity: str) -> dict[str, Any]:
    """Rerun the check until a finding about ``topic`` has ``severity`` (bounded)."""
    findings: list[dict[str, Any]] = []
    for _ in range(ATTEMPTS):
        _, findings = doctor("--check", check, "--interval", "0")
        for f in findings:
            about = severity == "OK" or any(topic in e for e in f["evidence"])
            if f["check"] == check and f["severity"] == severity and about:
                return f
        time.sleep(1)
    pytest.fail(f"no {severity} {check} finding for {topic}: {findings}")


def test_killed_broker_under_replicated(cluster: str, isolated_config: Path, unique: str) -> None:
    isolated_config.write_text(f'[contexts.cl.kafka]\nbootstrap-servers = "{cluster}"\n')
    topic = f"doctor-rf3-{unique}"
    created = run_cli(
        "-c", "cl", "topics", "create", topic, "--partitions", "3", "-r", "3",
        "--config", "min.insync.replicas=2",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    try:
        until("under-replicated", topic, "OK")
        kill_node(VICTIM)
        under = until("under-replicated", topic, "WARN")
        assert f"{topic}/" in " ".join(under["evidence"])
        assert under["action"]
        _, findings = doctor("--check", "controller,offline-partitions", "--interval", "0")
        by_check = {f["check"]: f for f in findings}
        assert by_check["controller"]["severity"] == "OK", findings
        assert by_check["offline-partitions"]["severity"] == "OK", findings  # RF 3 survives

        done = _script("up", 400)  # starts only the missing broker
        assert done.returncode == 0, done.stdout + done.stderr
        until("under-replicated", topic, "OK")
    finally:
        if not _alive(_pid(VICTIM)):
            _script("up", 400)
        run_cli("-c", "cl", "topics", "delete", topic, "--yes")
