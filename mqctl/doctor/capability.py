"""The backend capabilities of ``mqctl doctor``.

``HealthChecks`` is how a plugin adds checks of its own. The cluster facts the core's checks
judge (mqctl/doctor/kafka.py, rabbitmq.py) come through typed Protocols too, so the checks
never reach into a backend's clients: ``NodeHealthSource``, ``QuorumHealthSource``,
``ConnectionChurnSource`` (RabbitMQ) and ``ReplicaHealthSource`` (Kafka); a backend with one
of them gets the matching checks.

A backend (built-in or plugin) declares its checks in ``health_checks`` and runs one at a
time in ``run_health_check``; the doctor runs them concurrently with the core's checks and
orders the findings. Thresholds come from the context's ``[doctor]`` table (validated against
every declared check's defaults), so a plugin's keys are configured like the core's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mqctl.doctor.model import CheckSpec, Finding
    from mqctl.doctor.probe import Probe
    from mqctl.models.health import (
        ConnectionChurn,
        NodeHealth,
        QuorumQueueHealth,
        ReplicaReport,
    )


@runtime_checkable
class HealthChecks(Protocol):
    """Optional: checks of the ``mqctl doctor`` checklist for this backend."""

    health_checks: ClassVar[tuple[CheckSpec, ...]]

    async def run_health_check(self, check: str, probe: Probe) -> list[Finding]:
        """Findings of check ``check`` (one of ``health_checks``): at least one, OK when
        all is well, UNKNOWN (never OK) when the data was partial. ``probe`` gives the
        thresholds, the sampling interval and helpers to build findings."""
        ...


@runtime_checkable
class NodeHealthSource(Protocol):
    """Cluster nodes: running or not, resource alarms, network partitions."""

    async def node_health(self) -> list[NodeHealth]: ...


@runtime_checkable
class QuorumHealthSource(Protocol):
    """Every quorum queue's leader, members and online members."""

    async def quorum_queue_health(self) -> list[QuorumQueueHealth]: ...


@runtime_checkable
class ConnectionChurnSource(Protocol):
    """Connections opened and closed per second; None when the broker reports no rates."""

    async def connection_churn(self) -> ConnectionChurn | None: ...


@runtime_checkable
class ReplicaHealthSource(Protocol):
    """Partition leaders and replicas, and a topic's ``min.insync.replicas``."""

    async def replica_health(self) -> ReplicaReport:
        """One fresh metadata answer: brokers, controller, every partition's replicas."""
        ...

    async def min_insync_replicas(self, topic: str) -> int | None:
        """The topic's ``min.insync.replicas`` (None: not set or not reported)."""
        ...
