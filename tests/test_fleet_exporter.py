"""The fleet exporter without Prometheus: one endpoint, every context's series labelled by
context, a context down only turns its own gauges to 0 (the real scrape is in
tests/test_prometheus_scrape.py)."""

from __future__ import annotations

import asyncio

import httpx

from mqctl.config.schema import Context
from mqctl.doctor.exporter import FleetExporter
from mqctl.services.lag import LagQuery
from tests.conftest import KAFKA


def test_two_contexts_one_down(closed_port: int) -> None:
    contexts = [
        Context(name="up", backends={"kafka": {"bootstrap-servers": KAFKA}}, timeout=5),
        Context(
            name="down",
            backends={"kafka": {"bootstrap-servers": f"127.0.0.1:{closed_port}"}},
            timeout=2,
        ),
    ]
    exporter = FleetExporter(contexts, "127.0.0.1:0")
    exporter.start()
    try:
        asyncio.run(asyncio.wait_for(exporter.run(LagQuery(), 0.2, 60, count=2), 120))
        text = httpx.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=10).text
    finally:
        exporter.stop()
    lines = text.splitlines()
    assert 'mqctl_lag_up{cluster_name="up"} 1.0' in lines
    assert 'mqctl_lag_up{cluster_name="down"} 0.0' in lines
    assert 'mqctl_up{backend="kafka",context="up"} 1.0' in lines
    assert 'mqctl_up{backend="kafka",context="down"} 0.0' in lines
    assert 'mqctl_doctor_check_severity{backend="kafka",check="reachable",context="down"} 2.0' in (
        lines
    )
    assert any(
        line.startswith('mqctl_doctor_check_severity{backend="kafka",check="controller"')
        and 'context="up"' in line
        for line in lines
    )
    # one HELP/TYPE per family even with several contexts (the text format's rule)
    types = [line for line in lines if line.startswith("# TYPE ")]
    assert len(types) == len(set(types))
