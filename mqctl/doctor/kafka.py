"""Kafka cluster checks: controller, offline and under-replicated partitions, shrunk ISR.

One metadata request answers all of them (the same request ``topics list`` makes); topic
configs are asked only for the topics with under-replicated partitions, to compare the ISR
with ``min.insync.replicas``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from mqctl.doctor.capability import ReplicaHealthSource
from mqctl.doctor.model import CheckSpec, Finding, Severity, limited
from mqctl.doctor.probe import Probe
from mqctl.errors import MqctlError
from mqctl.models.health import PartitionReplicas, ReplicaReport

SPECS = {
    "controller": CheckSpec("controller", "the cluster has an active controller"),
    "offline-partitions": CheckSpec("offline-partitions", "partitions without a leader"),
    "under-replicated": CheckSpec(
        "under-replicated", "partitions whose ISR is smaller than their replica set"
    ),
}
MAX_CONFIG_LOOKUPS = 20  # min.insync.replicas is asked for at most this many topics


async def _replicas(probe: Probe) -> ReplicaReport:
    source = probe.backend_as(ReplicaHealthSource)  # the three checks share one answer
    return await probe.shared("kafka-metadata", source.replica_health)


async def check_controller(probe: Probe) -> list[Finding]:
    try:
        report = await _replicas(probe)
    except MqctlError as exc:
        return [probe.unknown("controller", exc, "the controller")]
    evidence = [f"brokers in metadata: {', '.join(map(str, report.brokers)) or 'none'}"]
    if report.controller is None:
        return [
            probe.finding(
                "controller",
                Severity.CRIT,
                "no active controller",
                evidence,
                "the cluster cannot elect leaders or change topics: check the controller "
                "quorum (KRaft voters) and their logs",
            )
        ]
    return [
        probe.finding(
            "controller", Severity.OK, f"controller is broker {report.controller}", evidence
        )
    ]


async def check_offline(probe: Probe) -> list[Finding]:
    name = "offline-partitions"
    try:
        partitions = (await _replicas(probe)).partitions
    except MqctlError as exc:
        return [probe.unknown(name, exc, "partition leaders")]
    offline = sorted(f"{p.topic}/{p.partition}" for p in partitions if p.leader < 0)
    if offline:
        return [
            probe.finding(
                name,
                Severity.CRIT,
                f"{len(offline)} partition(s) offline (no leader)",
                [limited(offline, 20)],
                "producers and consumers of these partitions are blocked: bring back the "
                "brokers holding their replicas",
            )
        ]
    return [probe.finding(name, Severity.OK, f"all {len(partitions)} partition(s) have a leader")]


async def _min_isr(probe: Probe, topics: list[str]) -> dict[str, int]:
    """``min.insync.replicas`` of each topic (those that could not be asked are left out)."""
    source = probe.backend_as(ReplicaHealthSource)

    async def one(topic: str) -> tuple[str, int | None]:
        try:
            return topic, await source.min_insync_replicas(topic)
        except MqctlError:
            return topic, None

    found = await asyncio.gather(*(one(t) for t in topics[:MAX_CONFIG_LOOKUPS]))
    return {t: v for t, v in found if v is not None}


async def check_under_replicated(probe: Probe) -> list[Finding]:
    name = "under-replicated"
    try:
        partitions = (await _replicas(probe)).partitions
    except MqctlError as exc:
        return [probe.unknown(name, exc, "replication")]
    under = [p for p in partitions if p.leader >= 0 and len(p.isr) < len(p.replicas)]
    if not under:
        return [
            probe.finding(name, Severity.OK, f"all {len(partitions)} partition(s) fully in sync")
        ]
    by_topic: dict[str, list[PartitionReplicas]] = defaultdict(list)
    for p in under:
        by_topic[p.topic].append(p)
    topics = sorted(by_topic)
    min_isr = await _min_isr(probe, topics)
    below: list[str] = []
    shrunk: list[str] = []
    for topic in topics:  # one line per topic: readable with thousands of partitions
        parts = sorted(by_topic[topic], key=lambda p: p.partition)
        least = min_isr.get(topic)
        smallest = min(parts, key=lambda p: len(p.isr))
        ids = limited([str(p.partition) for p in parts], 8)
        text = (
            f"{topic}: {len(parts)} partition(s) [{ids}], e.g. {topic}/{smallest.partition} "
            f"isr {list(smallest.isr)} of replicas {list(smallest.replicas)}"
        )
        if least is not None and len(smallest.isr) < least:
            below.append(f"{text}, min.insync.replicas={least}")
        else:
            shrunk.append(text if least is not None else f"{text} (min.insync.replicas unknown)")
    return probe.tiers(
        name,
        (
            Severity.CRIT,
            below,
            f"{len(below)} topic(s) with partitions whose ISR is below min.insync.replicas",
            "producers with acks=all are refused (NotEnoughReplicas): bring the missing "
            "brokers back; lowering min.insync.replicas trades durability",
        ),
        (
            Severity.WARN,
            shrunk,
            f"{len(under)} partition(s) of {len(shrunk)} topic(s) under-replicated (ISR shrunk)",
            "a broker is down or cannot keep up: check the brokers missing from the ISR "
            "(disk, network, GC); one more failure risks data",
        ),
        most=50,
    )
