"""`mqctl doctor` options and thresholds: `[doctor]` / `[contexts.X.doctor]` validated (exit
2 naming the key), thresholds applied, `--check` names checked, `--fail-on`, `-o yaml`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RABBIT_MGMT, run_cli

RABBIT_ONLY = f"""
current-context = "r"
[contexts.r.rabbitmq]
url = "amqp://guest@127.0.0.1:5672/"
management-url = "{RABBIT_MGMT}"
password = "guest"
"""


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[doctor]\nunacked-ratioo = 0.5\n", "doctor.unacked-ratioo: unknown doctor threshold"),
        ("[contexts.r.doctor]\nconnection-churn = 'x'\n", "connection-churn: expected a number"),
        ("[doctor]\ninterval = -1\n", "interval: must be a number >= 0"),
        ("[contexts.r]\ndoctor = 3\n", "doctor: expected a table"),
    ],
)
def test_invalid_thresholds_are_config_errors(
    isolated_config: Path, table: str, message: str
) -> None:
    isolated_config.write_text(RABBIT_ONLY + table)
    result = run_cli("doctor", "--check", "alarms")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_context_threshold_overrides_the_file_default(isolated_config: Path) -> None:
    # a churn limit of 0 per second is exceeded by any churn at all; the context's own value
    # (a huge limit) wins over the file's [doctor] table
    isolated_config.write_text(
        RABBIT_ONLY
        + "[doctor]\nconnection-churn = 0\n[contexts.r.doctor]\nconnection-churn = 1e9\n"
    )
    result = run_cli("doctor", "--check", "connection-churn", "-o", "json")
    assert result.exit_code == 0, result.output
    churn = [f for f in json.loads(result.stdout) if f["check"] == "connection-churn"]
    assert churn[0]["severity"] == "OK" and "limit 1e+09/s" in churn[0]["evidence"][0]


def test_unknown_check_and_fail_on(isolated_config: Path) -> None:
    isolated_config.write_text(RABBIT_ONLY)
    unknown = run_cli("doctor", "--check", "nope")
    assert unknown.exit_code == 2 and "unknown check 'nope'" in unknown.stderr, unknown.output
    assert "hint: checks:" in unknown.stderr and "pending-idle" in unknown.stderr  # plugin's
    bad = run_cli("doctor", "--fail-on", "sometimes")
    assert bad.exit_code == 2, bad.output


def test_yaml_and_table_output(isolated_config: Path) -> None:
    isolated_config.write_text(RABBIT_ONLY)
    yaml_out = run_cli("doctor", "--check", "nodes", "-o", "yaml")
    assert yaml_out.exit_code == 0, yaml_out.output
    assert "check: nodes" in yaml_out.stdout and "severity: OK" in yaml_out.stdout
    table = run_cli("doctor", "--check", "nodes,alarms")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].startswith("OK") and "rabbitmq" in lines[0]
    assert lines[-1].endswith("OK")  # the count line, e.g. "3 OK"


def test_interval_zero_makes_growth_unknown_never_ok(isolated_config: Path) -> None:
    isolated_config.write_text(RABBIT_ONLY)
    result = run_cli(
        "doctor", "--check", "queue-growth", "--interval", "0", "-o", "json", "--fail-on", "warn"
    )
    findings = json.loads(result.stdout)
    assert [f["severity"] for f in findings] == ["UNKNOWN"], findings
    assert result.exit_code == 1  # an unknown is not a pass under --fail-on warn


def test_unreachable_broker_is_crit_and_exit_3(isolated_config: Path, closed_port: int) -> None:
    isolated_config.write_text(
        f'current-context = "k"\n[contexts.k.kafka]\n'
        f'bootstrap-servers = "127.0.0.1:{closed_port}"\n'
    )
    result = run_cli("--timeout", "2", "doctor", "-o", "json")
    assert result.exit_code == 3, result.output
    findings = json.loads(result.stdout)
    assert findings[0]["check"] == "reachable" and findings[0]["severity"] == "CRIT"
    assert "UNREACHABLE" in findings[0]["summary"]
    skipped = [f for f in findings if f["check"] == "checks"]
    assert skipped and skipped[0]["severity"] == "UNKNOWN"
