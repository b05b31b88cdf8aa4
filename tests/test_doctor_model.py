"""Doctor findings without a broker: the order (CRIT, WARN, UNKNOWN, OK), `--fail-on`, and
the thresholds table's validation, as properties over generated findings and tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqctl.doctor.model import CheckSpec, Finding, Severity, failed, ordered
from mqctl.doctor.settings import DEFAULT_INTERVAL, parse_settings
from mqctl.errors import ConfigError

findings = st.lists(
    st.builds(
        Finding,
        check=st.sampled_from(["dlq", "groups", "alarms"]),
        severity=st.sampled_from(list(Severity)),
        backend=st.sampled_from(["kafka", "rabbitmq"]),
        summary=st.text(max_size=5),
        context=st.sampled_from(["a", "b"]),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(findings)
def test_order_and_fail_on(found: list[Finding]) -> None:
    result = ordered(found)
    assert sorted(map(id, result)) == sorted(map(id, found))
    ranks = [f.severity.rank for f in result]
    assert ranks == sorted(ranks)
    severities = {f.severity for f in found}
    assert failed(found, None) is False
    assert failed(found, "crit") is (Severity.CRIT in severities)
    assert failed(found, "warn") is bool(severities - {Severity.OK})


def test_severity_order_puts_unknown_above_ok() -> None:
    assert [s.value for s in sorted(Severity, key=lambda s: s.rank)] == [
        "CRIT",
        "WARN",
        "UNKNOWN",
        "OK",
    ]


SPECS = [CheckSpec("x", "x", {"limit": 10.0}), CheckSpec("y", "y", {"ratio": 0.5})]


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0, max_value=1e9), st.integers(min_value=0, max_value=3600))
def test_valid_tables_override_defaults(limit: float, interval: int) -> None:
    got = parse_settings({"limit": limit, "interval": interval}, SPECS, "doctor")
    assert got.threshold("limit") == limit and got.threshold("ratio") == 0.5
    assert got.interval == interval
    assert parse_settings({}, SPECS, "doctor").interval == DEFAULT_INTERVAL


@pytest.mark.parametrize(
    "table",
    [{"limt": 1}, {"limit": "1"}, {"limit": True}, {"limit": -1}, {"limit": float("nan")}],
)
def test_invalid_tables_name_the_key(table: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(table, SPECS, "config f: doctor")
    assert f"config f: doctor.{next(iter(table))}" in caught.value.message
