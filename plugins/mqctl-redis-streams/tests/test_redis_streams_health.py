"""`mqctl doctor` on Redis Streams: the plugin's HealthChecks capability reports entries a
consumer read and never acknowledged for longer than ``pending-idle-seconds``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def test_pending_entries_idle_too_long(cli: Any, redis: Any, prefix: str, rs_config: Path) -> None:
    stream = f"{prefix}-orders"
    redis.xgroup_create(stream, "billing", id="0", mkstream=True)
    redis.xadd(stream, {"n": "1"})
    redis.xreadgroup("billing", "worker-1", {stream: ">"}, count=1)  # read, never acked
    clean = cli("doctor", "--check", "pending-idle", "-o", "json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)[0]["severity"] == "OK"  # under the 300 s default

    time.sleep(0.05)  # idle for a few milliseconds; the threshold below is 0.01 s
    with rs_config.open("a") as fh:
        fh.write("[contexts.rs.doctor]\npending-idle-seconds = 0.01\n")
    result = cli("doctor", "--check", "pending-idle", "-o", "json", "--fail-on", "warn")
    assert result.exit_code == 1, result.output
    finding = json.loads(result.stdout)[0]
    assert finding["severity"] == "WARN" and finding["backend"] == "redis-streams"
    assert f"{stream} group billing: 1 entr(ies) idle" in finding["evidence"][0]
    assert "worker-1" in finding["evidence"][0]
