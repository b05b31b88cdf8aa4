"""`mqctl lag --serve`: Prometheus metrics with kafka-lag-exporter names, from real samples."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.kafka_helpers import (
    commit,
    kafka_context,
    kafka_only,
    produce,
    scratch_topic,
)

pytestmark = pytest.mark.kafka


def test_metrics_from_a_real_sample(unique: str, isolated_config: Path) -> None:
    import httpx

    from mqctl.lag.exporter import Exporter
    from mqctl.services.lag import LagQuery, snapshot
    from mqctl.session import Session

    topic, group = f"exp-{unique}", f"exp-group-{unique}"
    now = int(time.time() * 1000)
    with scratch_topic(topic, 1, group):
        asyncio.run(produce(topic, {0: [now - 60_000] * 5}))
        asyncio.run(commit(group, topic, {0: 2}))

        async def sample() -> list:
            async with Session(kafka_context()) as session:
                return await snapshot(session, LagQuery((group,)))

        entries = asyncio.run(sample())
        exporter = Exporter("k", "127.0.0.1:0")
        exporter.start()
        try:
            exporter.collector.update(entries)
            body = httpx.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=5).text
        finally:
            exporter.stop()
    metrics = parse(body)
    part = {"cluster_name": "k", "group": group, "topic": topic, "partition": "0"}
    assert value(metrics, "kafka_consumergroup_group_lag", part) == 3
    assert value(metrics, "kafka_consumergroup_group_offset", part) == 2
    assert 55 <= value(metrics, "kafka_consumergroup_group_lag_seconds", part) <= 600
    g = {"cluster_name": "k", "group": group}
    assert value(metrics, "kafka_consumergroup_group_sum_lag", g) == 3
    assert value(metrics, "kafka_consumergroup_group_max_lag", g) == 3
    tp = {"cluster_name": "k", "topic": topic, "partition": "0"}
    assert value(metrics, "kafka_partition_latest_offset", tp) == 5
    assert value(metrics, "mqctl_lag_status", {**g, "status": "STOPPED", "kind": "group"}) == 1
    assert value(metrics, "mqctl_lag_up", {"cluster_name": "k"}) == 1


def parse(body: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text format -> (name, labels, value) (our label values have no commas)."""
    found = []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, number = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels = dict(
            (k, v.strip('"'))
            for k, _, v in (kv.partition("=") for kv in rest.rstrip("}").split(",") if kv)
        )
        found.append((name, labels, float(number)))
    return found


def value(metrics: list[tuple[str, dict[str, str], float]], name: str, labels: dict) -> float:
    matches = [v for n, lab, v in metrics if n == name and labels.items() <= lab.items()]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_serve_cli_runs_and_stops(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    result = run_cli("lag", "--serve", "127.0.0.1:0", "--watch", "0.2", "--count", "2")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("serving lag metrics on http://127.0.0.1:")


def test_serve_bad_address_is_usage_error(isolated_config: Path) -> None:
    kafka_only(isolated_config)
    for address in ("nonsense", "127.0.0.1:http", "127.0.0.1:70000"):
        result = run_cli("lag", "--serve", address, "--count", "1")
        assert result.exit_code == 2, (address, result.output)


def test_serve_survives_broker_down(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'current-context = "down"\n[contexts.down.kafka]\n'
        f'bootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    result = run_cli("--timeout", "1", "lag", "--serve", "127.0.0.1:0", "--watch", "0.1",
                     "--count", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
