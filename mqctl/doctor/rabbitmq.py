"""RabbitMQ cluster checks: node alarms, nodes down and network partitions, quorum queues
without a leader or below quorum, connection churn. The facts come through the doctor's
capability Protocols (mqctl/doctor/capability.py), never from the backend's clients."""

from __future__ import annotations

from mqctl.doctor.capability import ConnectionChurnSource, NodeHealthSource, QuorumHealthSource
from mqctl.doctor.model import CheckSpec, Finding, Severity, limited, where
from mqctl.doctor.probe import Probe
from mqctl.errors import MqctlError
from mqctl.models.health import NodeHealth

SPECS = {
    "alarms": CheckSpec("alarms", "memory and disk alarms (publishers blocked)"),
    "nodes": CheckSpec("nodes", "cluster nodes down or partitioned"),
    "quorum-queues": CheckSpec("quorum-queues", "quorum queues without a leader or quorum"),
    "connection-churn": CheckSpec(
        "connection-churn",
        "connections opened and closed per second",
        {"connection-churn": 10.0},
    ),
}


async def _nodes(probe: Probe) -> list[NodeHealth]:
    source = probe.backend_as(NodeHealthSource)  # the alarms and nodes checks share one answer
    return await probe.shared("nodes", source.node_health)


def _mb(value: float | None) -> str:
    return f"{int(value) // 1_000_000} MB" if value is not None else "?"


async def check_alarms(probe: Probe) -> list[Finding]:
    try:
        nodes = await _nodes(probe)
    except MqctlError as exc:
        return [probe.unknown("alarms", exc, "node alarms")]
    raised: list[str] = []
    for node in nodes:
        if node.mem_alarm:
            raised.append(
                f"{node.name}: memory alarm, {_mb(node.mem_used)} used of "
                f"the {_mb(node.mem_limit)} watermark"
            )
        if node.disk_free_alarm:
            raised.append(
                f"{node.name}: disk alarm, {_mb(node.disk_free)} free, limit "
                f"{_mb(node.disk_free_limit)}"
            )
    if raised:
        return [
            probe.finding(
                "alarms",
                Severity.CRIT,
                f"{len(raised)} resource alarm(s): publishers are blocked",
                raised,
                "free memory/disk: drain the deepest queues (start consumers), or raise "
                "vm_memory_high_watermark / disk_free_limit if the node has room",
            )
        ]
    if not nodes or any(n.mem_alarm is None for n in nodes):
        return [probe.unknown("alarms", "the API did not report alarms for every node", "alarms")]
    return [probe.finding("alarms", Severity.OK, f"no alarm on {len(nodes)} node(s)")]


async def check_nodes(probe: Probe) -> list[Finding]:
    try:
        nodes = await _nodes(probe)
    except MqctlError as exc:
        return [probe.unknown("nodes", exc, "cluster nodes")]
    if not nodes or any(n.running is None for n in nodes):
        return [probe.unknown("nodes", "the API did not report every node's state", "nodes")]
    down = [n.name for n in nodes if n.running is False]
    split = [f"{n.name} cannot see {limited(n.partitions)}" for n in nodes if n.partitions]
    findings = []
    if down:
        findings.append(
            probe.finding(
                "nodes",
                Severity.CRIT,
                f"{len(down)} of {len(nodes)} node(s) down",
                [limited(down)],
                "restart the node(s); queues led there are unavailable or run with fewer "
                "replicas meanwhile",
            )
        )
    if split:
        findings.append(
            probe.finding(
                "nodes",
                Severity.CRIT,
                "network partition between nodes",
                split,
                "follow the partition handling runbook: restart the minority side "
                "(cluster_partition_handling)",
            )
        )
    if not findings:
        findings.append(
            probe.finding("nodes", Severity.OK, f"{len(nodes)} node(s) running, no partition")
        )
    return findings


async def check_quorum_queues(probe: Probe) -> list[Finding]:
    name = "quorum-queues"
    try:
        quorum = await probe.backend_as(QuorumHealthSource).quorum_queue_health()
    except MqctlError as exc:
        return [probe.unknown(name, exc, "quorum queues")]
    leaderless: list[str] = []
    below: list[str] = []
    degraded: list[str] = []
    for q in quorum:
        name_ = where(q.vhost, q.name)
        members, online = q.members, q.online
        if not q.leader or (online and q.leader not in online):
            leaderless.append(f"{name_}: no leader (online {len(online)} of {len(members)})")
        elif members and len(online) < len(members) // 2 + 1:
            below.append(f"{name_}: {len(online)} of {len(members)} members online")
        elif len(online) < len(members):
            degraded.append(f"{name_}: {len(online)} of {len(members)} members online")
    unavailable = [*leaderless, *below]
    findings = probe.tiers(
        name,
        (
            Severity.CRIT,
            unavailable,
            f"{len(unavailable)} quorum queue(s) unavailable",
            "bring back the nodes hosting their members; the queue accepts nothing "
            "until a majority is online",
        ),
        (
            Severity.WARN,
            degraded,
            f"{len(degraded)} quorum queue(s) with members offline",
            "restart the missing nodes; one more loss may cost the quorum",
        ),
        ok=f"{len(quorum)} quorum queue(s) with leader and quorum",
    )
    return findings


async def check_churn(probe: Probe) -> list[Finding]:
    name = "connection-churn"
    try:
        churn = await probe.backend_as(ConnectionChurnSource).connection_churn()
    except MqctlError as exc:
        return [probe.unknown(name, exc, "connection churn")]
    if churn is None:
        return [probe.unknown(name, "the broker reported no churn rates", "connection churn")]
    opened, closed = churn.opened_per_second, churn.closed_per_second
    limit = probe.threshold("connection-churn")
    evidence = [f"{opened:.1f} opened/s, {closed:.1f} closed/s (limit {limit:g}/s)"]
    if opened + closed > limit:
        return [
            probe.finding(
                name,
                Severity.WARN,
                "high connection churn",
                evidence,
                "a client reconnects in a loop or opens a connection per message: find it "
                "with `mqctl connections list` and reuse connections",
            )
        ]
    return [probe.finding(name, Severity.OK, "connection churn is low", evidence)]
