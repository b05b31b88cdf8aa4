"""RabbitMQ cluster checks through the management API: node alarms, nodes down and network
partitions, quorum queues without a leader or below quorum, connection churn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mqctl.doctor.model import CheckSpec, Finding, Severity, limited, where
from mqctl.doctor.probe import Probe
from mqctl.errors import MqctlError

if TYPE_CHECKING:
    from mqctl.backends.rabbitmq.management import ManagementClient

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
NODE_COLUMNS = (
    "name,running,mem_alarm,disk_free_alarm,mem_used,mem_limit,disk_free,disk_free_limit,partitions"
)


def _api(probe: Probe) -> ManagementClient:
    from mqctl.backends.rabbitmq.backend import RabbitMQBackend

    assert isinstance(probe.backend, RabbitMQBackend)  # the runner picks these checks for it
    return probe.backend.api


async def _nodes(probe: Probe) -> list[dict[str, Any]]:
    api = _api(probe)
    docs = await probe.shared(
        (probe.backend.name, "nodes"), lambda: api.get("/nodes", {"columns": NODE_COLUMNS})
    )
    return [d for d in docs or [] if isinstance(d, dict)]


def _mb(value: Any) -> str:
    return f"{int(value) // 1_000_000} MB" if isinstance(value, int | float) else "?"


async def check_alarms(probe: Probe) -> list[Finding]:
    try:
        nodes = await _nodes(probe)
    except MqctlError as exc:
        return [probe.unknown("alarms", exc, "node alarms")]
    raised: list[str] = []
    for node in nodes:
        if node.get("mem_alarm"):
            raised.append(
                f"{node.get('name')}: memory alarm, {_mb(node.get('mem_used'))} used of "
                f"the {_mb(node.get('mem_limit'))} watermark"
            )
        if node.get("disk_free_alarm"):
            raised.append(
                f"{node.get('name')}: disk alarm, {_mb(node.get('disk_free'))} free, limit "
                f"{_mb(node.get('disk_free_limit'))}"
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
    if not nodes or any("mem_alarm" not in n for n in nodes):
        return [probe.unknown("alarms", "the API did not report alarms for every node", "alarms")]
    return [probe.finding("alarms", Severity.OK, f"no alarm on {len(nodes)} node(s)")]


async def check_nodes(probe: Probe) -> list[Finding]:
    try:
        nodes = await _nodes(probe)
    except MqctlError as exc:
        return [probe.unknown("nodes", exc, "cluster nodes")]
    if not nodes or any("running" not in n for n in nodes):
        return [probe.unknown("nodes", "the API did not report every node's state", "nodes")]
    down = [str(n.get("name")) for n in nodes if n.get("running") is False]
    split = [
        f"{n.get('name')} cannot see {limited(n['partitions'])}"
        for n in nodes
        if n.get("partitions")
    ]
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
    api = _api(probe)
    try:
        docs = await api.get_paged("/queues", {"columns": "name,vhost,type,leader,members,online"})
    except MqctlError as exc:
        return [probe.unknown(name, exc, "quorum queues")]
    quorum = [d for d in docs if isinstance(d, dict) and d.get("type") == "quorum"]
    leaderless: list[str] = []
    below: list[str] = []
    degraded: list[str] = []
    for q in quorum:
        name_ = where(q.get("vhost"), str(q.get("name")))
        members = list(q.get("members") or [])
        online = list(q.get("online") or [])
        if not q.get("leader") or (online and q.get("leader") not in online):
            leaderless.append(f"{name_}: no leader (online {len(online)} of {len(members)})")
        elif members and len(online) < len(members) // 2 + 1:
            below.append(f"{name_}: {len(online)} of {len(members)} members online")
        elif len(online) < len(members):
            degraded.append(f"{name_}: {len(online)} of {len(members)} members online")
    findings = []
    if leaderless or below:
        findings.append(
            probe.finding(
                name,
                Severity.CRIT,
                f"{len(leaderless) + len(below)} quorum queue(s) unavailable",
                [*leaderless, *below][:20],
                "bring back the nodes hosting their members; the queue accepts nothing "
                "until a majority is online",
            )
        )
    if degraded:
        findings.append(
            probe.finding(
                name,
                Severity.WARN,
                f"{len(degraded)} quorum queue(s) with members offline",
                degraded[:20],
                "restart the missing nodes; one more loss may cost the quorum",
            )
        )
    if not findings:
        findings.append(
            probe.finding(
                name, Severity.OK, f"{len(quorum)} quorum queue(s) with leader and quorum"
            )
        )
    return findings


async def check_churn(probe: Probe) -> list[Finding]:
    name = "connection-churn"
    try:
        overview = await _api(probe).overview()
    except MqctlError as exc:
        return [probe.unknown(name, exc, "connection churn")]
    churn = overview.get("churn_rates") if isinstance(overview, dict) else None
    try:
        opened = float(churn["connection_created_details"]["rate"])  # type: ignore[index]
        closed = float(churn["connection_closed_details"]["rate"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return [probe.unknown(name, "the broker reported no churn rates", "connection churn")]
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
