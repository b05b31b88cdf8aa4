"""``mqctl doctor`` checks of Redis Streams (the HealthChecks capability): pending entries
that a consumer read and never acknowledged for longer than ``pending-idle-seconds``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mqctl.doctor.model import CheckSpec, Finding, Severity
from mqctl.errors import MqctlError
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.inventory import stream_names

if TYPE_CHECKING:
    from mqctl.doctor.probe import Probe

PENDING_IDLE = CheckSpec(
    "pending-idle",
    "pending entries read but not acknowledged for too long",
    {"pending-idle-seconds": 300.0},
)
CHECKS = (PENDING_IDLE,)
SHOWN = 100  # idle entries asked per group: enough to count and name the consumers


def _text(raw: Any) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


async def idle_pending(conn: RedisConnection, idle_ms: int) -> list[str]:
    """One evidence line per (stream, group) holding entries idle at least ``idle_ms``."""
    client = conn.client()
    found: list[str] = []
    for stream in await stream_names(conn):
        for group in await conn.call(client.xinfo_groups(stream), "XINFO GROUPS"):
            if not int(group.get("pending") or 0):
                continue
            name = _text(group["name"])
            entries = await conn.call(
                client.xpending_range(stream, name, "-", "+", SHOWN, idle=idle_ms), "XPENDING"
            )
            if not entries:
                continue
            oldest = max(int(e["time_since_delivered"]) for e in entries) / 1000
            consumers = sorted({_text(e["consumer"]) for e in entries})
            more = "+" if len(entries) >= SHOWN else ""
            found.append(
                f"{stream} group {name}: {len(entries)}{more} entr(ies) idle, oldest "
                f"{oldest:.0f}s, held by {', '.join(consumers)}"
            )
    return found


async def run_check(conn: RedisConnection, check: str, probe: Probe) -> list[Finding]:
    if check != PENDING_IDLE.name:
        return [probe.unknown(check, f"no such check {check!r} in redis-streams", check)]
    limit = probe.threshold("pending-idle-seconds")
    try:
        idle = await idle_pending(conn, int(limit * 1000))
    except MqctlError as exc:
        return [probe.unknown(check, exc, "pending entries")]
    if idle:
        return [
            probe.finding(
                check,
                Severity.WARN,
                f"{len(idle)} consumer group(s) with entries pending over {limit:g}s",
                idle[:20],
                "the consumer that read them died or hangs: restart it, or hand the entries "
                "to a live consumer (XAUTOCLAIM)",
            )
        ]
    return [probe.finding(check, Severity.OK, f"no entry pending over {limit:g}s")]
