"""Broker-neutral checks built on the lag view (Kafka groups, RabbitMQ queues, plugin groups).

Statuses come from the same rules as ``mqctl lag`` (:mod:`mqctl.lag.status`: snapshot rules,
Burrow's rules over the two samples), and DLQs are left out by the same test as ``lag``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mqctl.backend import LagSource
from mqctl.doctor.model import CheckSpec, Finding, Severity, limited, where
from mqctl.doctor.probe import Probe
from mqctl.errors import MqctlError
from mqctl.lag.status import apply_snapshot_status, evaluate_window
from mqctl.models.lag import LagEntry, LagStatus
from mqctl.services.lag import without_dlq

SPECS = {
    "groups": CheckSpec("groups", "consumer groups stalled, stopped or in error"),
    "records-lost": CheckSpec("records-lost", "groups whose next records were deleted"),
    "queues-no-consumers": CheckSpec(
        "queues-no-consumers", "queues with messages and no consumers"
    ),
    "queue-growth": CheckSpec("queue-growth", "queues growing or not delivered despite consumers"),
    "unacked": CheckSpec(
        "unacked",
        "queues with a high share of unacknowledged messages",
        {"unacked-ratio": 0.5, "unacked-min": 100},
    ),
}


@dataclass(slots=True)
class LagWindow:
    raw: list[LagEntry]  # first sample, DLQs included (who consumes what)
    first: dict[tuple[str, str], LagEntry]  # first sample by (kind, vhost/name)
    judged: list[LagEntry]  # the last sample, statuses over both samples
    windowed: bool  # False: one sample only (--interval 0), snapshot statuses


def _key(entry: LagEntry) -> tuple[str, str]:
    vhost = entry.queue.vhost if entry.queue else ""
    return entry.kind, f"{vhost}/{entry.group}"


async def lag_window(probe: Probe) -> LagWindow:
    """Two lag samples of this backend, ``interval`` apart, judged by the lag rules."""
    source = probe.backend_as(LagSource)
    patterns = tuple(probe.session.context.dlq_patterns)
    raw: list[LagEntry] = []

    async def sample() -> list[LagEntry]:
        entries = await source.lag(None, None)
        if not raw:
            raw.extend(entries)
        return apply_snapshot_status(without_dlq(entries, patterns), 0)

    async def both() -> LagWindow:
        first, second = await probe.two_samples(sample)
        by_key = {_key(e): e for e in first}
        if second is None:
            return LagWindow(raw, by_key, first, False)
        judged = evaluate_window([(0.0, first), (probe.interval, second)])
        return LagWindow(raw, by_key, judged, True)

    return await probe.shared((probe.backend.name, "lag-window"), both)


GROUP_SEVERITY = {
    LagStatus.STALL: Severity.CRIT,
    LagStatus.STOP: Severity.CRIT,
    LagStatus.ERROR: Severity.CRIT,
    LagStatus.DATA_LOSS: Severity.CRIT,  # records removed before the group read them
    LagStatus.REWIND: Severity.WARN,
    LagStatus.WARN: Severity.WARN,
    LagStatus.STOPPED: Severity.WARN,  # one sample only: no members, backlog; not judged yet
}


def not_judged(probe: Probe, check: str, entries: list[LagEntry]) -> list[Finding]:
    """Entries the lag source could not judge (UNKNOWN: figures missing, e.g. statistics
    not rebuilt after a restart): one UNKNOWN finding naming them, so the check's other
    findings never read as a clean OK for them."""
    unknown = [e for e in entries if e.status is LagStatus.UNKNOWN]
    if not unknown:
        return []
    lines = [
        f"{where(e.queue.vhost if e.queue else None, e.group)}: {e.error or 'no figures'}"
        for e in unknown
    ]
    return [
        probe.finding(
            check,
            Severity.UNKNOWN,
            f"{len(unknown)} {'queue' if unknown[0].kind == 'queue' else 'group'}(s) could "
            f"not be judged",
            lines[:20],
            "run the doctor again in a minute; if it stays, check the broker's management "
            "statistics / the group coordinator",
        )
    ]


async def check_groups(probe: Probe) -> list[Finding]:
    name = "groups"
    try:
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "consumer groups")]
    groups = [e for e in window.judged if e.kind == "group"]
    unknown = not_judged(probe, name, groups)
    bad: dict[Severity, list[str]] = {Severity.CRIT: [], Severity.WARN: []}
    # the evidence shows at most 20 groups: the largest backlogs first, the rest are counted
    for e in sorted(groups, key=lambda e: (-(e.total_lag or 0), e.group)):
        severity = GROUP_SEVERITY.get(e.status)
        if severity is not None:
            topics = limited(sorted(set(e.topics)), 3)
            bad[severity].append(
                f"{e.group}: {e.status.value}, lag {e.total_lag} on {topics}, {e.members} member(s)"
            )
    crit, warn = bad[Severity.CRIT], bad[Severity.WARN]
    how = "over two samples" if window.windowed else "one sample (--interval 0)"
    findings = probe.tiers(
        name,
        (
            Severity.CRIT,
            crit,
            f"{len(crit)} consumer group(s) stalled, stopped or in error",
            "STOP: start the consumers or delete the unused group; STALL: the consumers "
            "are up but commit nothing, check their logs; see `mqctl lag GROUP --window`",
        ),
        (
            Severity.WARN,
            warn,
            f"{len(warn)} consumer group(s) falling behind or rewound",
            "watch with `mqctl lag GROUP --watch`; add consumers if the lag keeps growing",
        ),
        ok=None if unknown else f"{len(groups)} consumer group(s) healthy ({how})",
    )
    return findings + unknown


async def check_records_lost(probe: Probe) -> list[Finding]:
    name = "records-lost"
    try:
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "committed offsets")]
    lost: list[str] = []
    for e in window.raw:
        for p in e.partitions:
            if p.committed_offset is not None and p.committed_offset < p.log_start_offset:
                missing = p.log_start_offset - p.committed_offset
                lost.append(
                    f"{e.group} on {p.topic}/{p.partition}: committed {p.committed_offset}, "
                    f"log starts at {p.log_start_offset} ({missing} record(s) never consumed)"
                )
    if lost:
        return [
            probe.finding(
                name,
                Severity.CRIT,
                f"{len(lost)} partition(s) lost records to retention or deletion",
                lost[:20],
                "the records are gone: raise retention.ms/retention.bytes, or speed up the "
                "consumers; recover the data from its source if it matters",
            )
        ]
    return [probe.finding(name, Severity.OK, "no group is behind the start of its log")]


async def check_queues_no_consumers(probe: Probe) -> list[Finding]:
    name = "queues-no-consumers"
    try:
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "queue consumers")]
    queues = [e for e in window.judged if e.kind == "queue" and e.queue is not None]
    unknown = not_judged(probe, name, queues)
    queues = [e for e in queues if e.status is not LagStatus.UNKNOWN]
    growing: list[str] = []
    idle: list[str] = []
    for e in queues:
        assert e.queue is not None
        if e.total_lag <= 0 or e.queue.consumers > 0:
            continue
        before = window.first.get(_key(e))
        grew = window.windowed and before is not None and e.total_lag > before.total_lag
        text = f"{where(e.queue.vhost, e.group)}: {e.total_lag} message(s), no consumers"
        if grew and before is not None:
            growing.append(f"{text}, grew by {e.total_lag - before.total_lag} in the interval")
        else:
            idle.append(text)
    findings = probe.tiers(
        name,
        (
            Severity.CRIT,
            growing,
            f"{len(growing)} queue(s) without consumers and growing",
            "start the consuming service (it is down or disconnected); the queue grows "
            "until memory or disk alarms block publishers",
        ),
        (
            Severity.WARN,
            idle,
            f"{len(idle)} queue(s) hold messages nobody consumes",
            "start the consumer, or purge/delete the queue if it is abandoned",
        ),
        ok=None if unknown else f"{len(queues)} queue(s): none left without consumers",
    )
    return findings + unknown


async def check_queue_growth(probe: Probe) -> list[Finding]:
    name = "queue-growth"
    try:
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "queue depths")]
    if not window.windowed:
        return [probe.unknown(name, "needs two samples: run with --interval > 0", "growth")]
    stalled: list[str] = []
    growing: list[str] = []
    queues = [e for e in window.judged if e.kind == "queue"]
    unknown = not_judged(probe, name, queues)
    for e in queues:
        if e.status is LagStatus.UNKNOWN or e.queue is None or e.queue.consumers == 0:
            continue  # no consumers: queues-no-consumers reports it
        before = window.first.get(_key(e))
        name_ = where(e.queue.vhost, e.group)
        if e.status is LagStatus.STALL:
            stalled.append(f"{name_}: {e.total_lag} message(s), {e.queue.consumers} consumer(s)")
        elif e.status is LagStatus.WARN and before is not None:
            growing.append(
                f"{name_}: {before.total_lag} -> {e.total_lag} in {probe.interval:g}s "
                f"with {e.queue.consumers} consumer(s)"
            )
    findings = probe.tiers(
        name,
        (
            Severity.CRIT,
            stalled,
            f"{len(stalled)} queue(s) with consumers that deliver nothing",
            "the consumers are connected but stuck (prefetch full, blocked handler): "
            "check their logs, restart them",
        ),
        (
            Severity.WARN,
            growing,
            f"{len(growing)} queue(s) growing faster than consumed",
            "add consumers or find what slows them; `mqctl lag QUEUE --watch` shows the drain time",
        ),
        ok=None if unknown else "no consumed queue is growing",
    )
    return findings + unknown


async def check_unacked(probe: Probe) -> list[Finding]:
    name = "unacked"
    try:
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "unacknowledged messages")]
    ratio = probe.threshold("unacked-ratio")
    least = probe.threshold("unacked-min")
    high: list[str] = []
    queues = [e for e in window.judged if e.kind == "queue"]
    unknown = not_judged(probe, name, queues)
    for e in queues:
        if e.queue is None or e.status is LagStatus.UNKNOWN:
            continue
        total = e.queue.ready + e.queue.unacked
        if total and total >= least and e.queue.unacked / total >= ratio:
            high.append(
                f"{where(e.queue.vhost, e.group)}: {e.queue.unacked} of {total} unacknowledged "
                f"({e.queue.unacked / total:.0%})"
            )
    if high:
        return [
            probe.finding(
                name,
                Severity.WARN,
                f"{len(high)} queue(s) with most messages delivered but not acknowledged",
                high[:20],
                "consumers hold messages without acking: check for slow or hung handlers and "
                "the prefetch (basic.qos) setting",
            ),
            *unknown,
        ]
    if unknown:
        return unknown
    return [
        probe.finding(
            name, Severity.OK, f"no queue above {ratio:.0%} unacknowledged (at {least:g}+ msgs)"
        )
    ]
