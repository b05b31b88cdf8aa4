"""The cluster facts ``mqctl doctor`` judges, read from the management API: nodes (state,
alarms, partitions), quorum queues (leader, members online) and connection churn."""

from __future__ import annotations

from typing import Any

from mqctl.backends.rabbitmq.management import ManagementClient
from mqctl.models.health import ConnectionChurn, NodeHealth, QuorumQueueHealth

NODE_COLUMNS = (
    "name,running,mem_alarm,disk_free_alarm,mem_used,mem_limit,disk_free,disk_free_limit,partitions"
)
QUORUM_COLUMNS = "name,vhost,type,leader,members,online"


def _flag(doc: dict[str, Any], key: str) -> bool | None:
    return bool(doc[key]) if key in doc else None  # absent: the API did not say


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) else None


def _node(doc: dict[str, Any]) -> NodeHealth:
    return NodeHealth(
        name=str(doc.get("name")),
        running=_flag(doc, "running"),
        mem_alarm=_flag(doc, "mem_alarm"),
        disk_free_alarm=_flag(doc, "disk_free_alarm"),
        mem_used=_number(doc.get("mem_used")),
        mem_limit=_number(doc.get("mem_limit")),
        disk_free=_number(doc.get("disk_free")),
        disk_free_limit=_number(doc.get("disk_free_limit")),
        partitions=[str(p) for p in doc.get("partitions") or []],
    )


async def node_health(api: ManagementClient) -> list[NodeHealth]:
    docs = await api.get("/nodes", {"columns": NODE_COLUMNS})
    return [_node(d) for d in docs or [] if isinstance(d, dict)]


async def quorum_queue_health(api: ManagementClient) -> list[QuorumQueueHealth]:
    docs = await api.get_paged("/queues", {"columns": QUORUM_COLUMNS})
    return [
        QuorumQueueHealth(
            vhost=d.get("vhost"),
            name=str(d.get("name")),
            leader=d.get("leader") or None,
            members=[str(m) for m in d.get("members") or []],
            online=[str(m) for m in d.get("online") or []],
        )
        for d in docs
        if isinstance(d, dict) and d.get("type") == "quorum"
    ]


async def connection_churn(api: ManagementClient) -> ConnectionChurn | None:
    overview = await api.overview()
    churn = overview.get("churn_rates") if isinstance(overview, dict) else None
    try:
        opened = float(churn["connection_created_details"]["rate"])  # type: ignore[index]
        closed = float(churn["connection_closed_details"]["rate"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
    return ConnectionChurn(opened_per_second=opened, closed_per_second=closed)
