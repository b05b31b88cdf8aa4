"""The fleet exporter proven with a real Prometheus (Debian's package, scripts/prometheus.sh):
it scrapes `mqctl exporter` serving two contexts, one of them down, and its HTTP API answers
PromQL with every series labelled by context; the example alerting rules (docs/alerts.yml)
pass `promtool check rules` and load into that Prometheus."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import KAFKA, RABBIT_MGMT

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "prometheus.sh"
RULES = ROOT / "docs" / "alerts.yml"
MQCTL = str(Path(sys.executable).parent / "mqctl")
IGNORED_LABELS = ("__name__", "job", "instance")  # added by Prometheus
DEADLINE = 90  # seconds for the first scrapes and rule evaluations to land

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="prometheus is not installed (scripts/system-deps.sh)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_alert_rules_pass_promtool() -> None:
    done = subprocess.run(
        ["promtool", "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


@pytest.fixture
def exporter(isolated_config: Path, closed_port: int) -> Iterator[str]:
    """`mqctl exporter` on two contexts (``up``: local brokers; ``down``: closed ports)."""
    isolated_config.write_text(
        f"""
[contexts.up.kafka]
bootstrap-servers = "{KAFKA}"
[contexts.up.rabbitmq]
url = "amqp://guest@127.0.0.1:5672/"
management-url = "{RABBIT_MGMT}"
password = "guest"
[contexts.down.kafka]
bootstrap-servers = "127.0.0.1:{closed_port}"
"""
    )
    address = f"127.0.0.1:{free_port()}"
    args = ["--timeout", "3", "exporter", "--context", "up,down", "--listen", address]
    process = subprocess.Popen(
        [MQCTL, *args, "--every", "1", "--doctor-every", "2"],
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield address
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=10)


@pytest.fixture
def prometheus(exporter: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PROM_PORT": str(port),
        "PROM_TARGETS": exporter,
        "PROM_DIR": str(tmp_path / "prometheus"),
        "PROM_RULES": str(RULES),
        "PROM_SCRAPE": "1s",
    }

    def script(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    started = script("up")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopped = script("down")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def series(api: httpx.Client, query: str) -> dict[tuple[tuple[str, str], ...], float]:
    body = api.get("/api/v1/query", params={"query": query}).json()
    assert body["status"] == "success", body
    found = {}
    for r in body["data"]["result"]:
        labels = {k: v for k, v in r["metric"].items() if k not in IGNORED_LABELS}
        found[tuple(sorted(labels.items()))] = float(r["value"][1])
    return found


def wait_for(api: httpx.Client, query: str, wanted: int) -> dict[Any, float]:
    found: dict[Any, float] = {}
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = series(api, query)
        if len(found) >= wanted:
            return found
        time.sleep(1)
    pytest.fail(f"Prometheus has {found} for {query!r}, expected {wanted} series")


def test_prometheus_scrapes_the_fleet_exporter(prometheus: str) -> None:
    with httpx.Client(base_url=prometheus, timeout=10) as api:
        up = wait_for(api, "mqctl_up", 3)
        assert up[(("backend", "kafka"), ("context", "up"))] == 1.0
        assert up[(("backend", "rabbitmq"), ("context", "up"))] == 1.0
        assert up[(("backend", "kafka"), ("context", "down"))] == 0.0

        lag_up = wait_for(api, "mqctl_lag_up", 2)
        assert lag_up[(("cluster_name", "up"),)] == 1.0
        assert lag_up[(("cluster_name", "down"),)] == 0.0

        reach = wait_for(api, 'mqctl_doctor_check_severity{check="reachable"}', 3)
        assert reach[(("backend", "kafka"), ("check", "reachable"), ("context", "up"))] == 0
        assert reach[(("backend", "kafka"), ("check", "reachable"), ("context", "down"))] == 2
        checks = wait_for(api, 'mqctl_doctor_check_severity{context="up"}', 10)
        assert {dict(k)["check"] for k in checks} >= {"controller", "alarms", "dlq", "groups"}
        statuses = wait_for(api, 'mqctl_lag_status{cluster_name="up"}', 1)
        assert all(dict(k)["cluster_name"] == "up" for k in statuses)

        # the example rules are loaded and evaluated: the down context's broker alert starts
        deadline = time.monotonic() + DEADLINE
        alerts: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            alerts = api.get("/api/v1/alerts").json()["data"]["alerts"]
            if any(
                a["labels"]["alertname"] == "MqctlBrokerDown" and a["labels"]["context"] == "down"
                for a in alerts
            ):
                break
            time.sleep(1)
        else:
            pytest.fail(f"MqctlBrokerDown never became pending for context down: {alerts}")
        groups = api.get("/api/v1/rules").json()["data"]["groups"]
        assert [g["name"] for g in groups] == ["mqctl"]
