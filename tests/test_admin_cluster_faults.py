"""``cluster describe`` tells the truth under a fault: on the 3-broker cluster
(scripts/cluster.sh) with one broker killed it shows two brokers and the under-replicated
partitions, and after the broker returns, none. Kills a broker: run under the fault lock
(``flock /tmp/mqctl-fault.lock``), like tests/test_cluster_failover.py whose helpers it uses.
A cluster already running (from any checkout) is used and left running.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.test_cluster_failover import BOOTSTRAP, CLUSTER_DIR, ROOT, kill_node

VICTIM = 3
ATTEMPTS = 60


def _running_from() -> Path | None:
    """The checkout whose scripts/cluster.sh started the running cluster (.run is shared by
    the checkouts of this machine, and cluster.sh recognises its nodes by their config path,
    so only that checkout's script can bring a killed node back)."""
    try:
        pid = int((CLUSTER_DIR / "broker-1" / "kafka.pid").read_text().strip())
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    for word in words:
        text = word.decode(errors="replace")
        if text.endswith("/.run/cluster/broker-1/server.properties"):
            return Path(text.split("/.run/cluster/")[0])
    return None


def _script(command: str) -> subprocess.CompletedProcess[str]:
    root = _running_from() or ROOT
    return subprocess.run(
        ["bash", str(root / "scripts" / "cluster.sh"), command],
        capture_output=True,
        text=True,
        check=False,
        timeout=400,
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    was_up = _running_from() is not None
    done = _script("up")
    if done.returncode != 0:
        pytest.fail(f"cluster.sh up failed:\n{done.stdout}\n{done.stderr}")
    yield BOOTSTRAP
    if not was_up:
        _script("down")


def describe() -> Any:
    result = run_cli(
        "--timeout", "10", "-c", "cl", "cluster", "describe", "--internal", "-o", "json"
    )
    if result.exit_code != 0:
        assert result.exit_code == 3, result.output  # unavailable during the fail-over
        return None
    return json.loads(result.stdout)


def until(check: Any, what: str) -> Any:
    for _ in range(ATTEMPTS):
        info = describe()
        if info is not None and check(info):
            return info
        time.sleep(1)
    pytest.fail(f"cluster describe never showed {what}")


def test_describe_shows_under_replication_while_a_broker_is_down(
    cluster: str, isolated_config: Path
) -> None:
    isolated_config.write_text(f'[contexts.cl.kafka]\nbootstrap-servers = "{cluster}"\n')
    healthy = until(lambda i: len(i["brokers"]) == 3, "three brokers")
    assert healthy["offline_partitions"] == 0
    orders = next(t for t in healthy["topics"] if t["name"] == "cluster-orders")
    assert orders["replication_factor"] == 3 and sum(orders["leaders"].values()) == 6
    kill_node(VICTIM)
    try:
        degraded = until(
            lambda i: len(i["brokers"]) == 2 and i["under_replicated_partitions"] > 0,
            "two brokers and under-replicated partitions",
        )
        orders = next(t for t in degraded["topics"] if t["name"] == "cluster-orders")
        assert orders["under_replicated"] == 6 and orders["offline"] == 0  # RF 3, one lost
        assert str(VICTIM) not in orders["leaders"]
        for partition in orders["partitions"]:
            assert VICTIM in partition["replicas"] and VICTIM not in partition["isr"]
        table = run_cli("-c", "cl", "cluster", "describe")
        assert "under-replicated" in table.stdout and table.exit_code == 0
    finally:
        back = _script("up")
        assert back.returncode == 0, back.stdout + back.stderr
    until(
        lambda i: len(i["brokers"]) == 3 and i["under_replicated_partitions"] == 0,
        "the cluster healthy again",
    )
