"""Broker-neutral checks: reachability, dead-letter queues, topics nobody consumes.

DLQs are found by the same discovery as ``mqctl dlq list`` (the backend's
DeadLetterSupport with the context's ``dlq-patterns``); never a second rule book.
"""

from __future__ import annotations

from mqctl.backend import DeadLetterSupport, TopicCatalog
from mqctl.doctor.lag_checks import lag_window
from mqctl.doctor.model import CheckSpec, Finding, Severity, limited, where
from mqctl.doctor.probe import Probe
from mqctl.errors import MqctlError
from mqctl.services.lag import is_dlq

SPECS = {
    "reachable": CheckSpec("reachable", "the broker answers"),
    "dlq": CheckSpec("dlq", "dead-letter queues non-empty or growing"),
    "unconsumed-topics": CheckSpec("unconsumed-topics", "topics with records and no consumer"),
}


async def check_reachable(probe: Probe) -> list[Finding]:
    status = await probe.backend.status()
    if status.reachable:
        version = f" ({status.version})" if status.version else ""
        return [probe.finding("reachable", Severity.OK, f"{status.address} answers{version}")]
    return [
        probe.finding(
            "reachable",
            Severity.CRIT,
            f"UNREACHABLE: {status.address}",
            [status.error or "no answer"],
            "check that the broker is running and the context's address and credentials",
        )
    ]


async def check_dlq(probe: Probe) -> list[Finding]:
    name = "dlq"
    support = probe.backend_as(DeadLetterSupport)
    patterns = tuple(probe.session.context.dlq_patterns)
    try:
        first, second = await probe.two_samples(lambda: support.discover_dead_letters(patterns))
    except MqctlError as exc:
        return [probe.unknown(name, exc, "dead-letter queues")]

    before = {(c.vhost, c.name): c.depth for c in first}
    latest = second if second is not None else first
    growing: list[str] = []
    holding: list[str] = []
    for c in latest:
        was = before.get((c.vhost, c.name))
        if second is not None and was is not None and c.depth > was:
            growing.append(f"{where(c.vhost, c.name)}: {was} -> {c.depth} in {probe.interval:g}s")
        elif c.depth > 0:
            holding.append(f"{where(c.vhost, c.name)}: {c.depth} message(s)")
    findings = probe.tiers(
        name,
        (
            Severity.CRIT,
            growing,
            f"{len(growing)} dead-letter queue(s) growing",
            "messages are failing now: `mqctl dlq inspect NAME` shows the reasons; fix "
            "the cause before `mqctl dlq redrive`",
        ),
        (
            Severity.WARN,
            holding,
            f"{len(holding)} dead-letter queue(s) hold messages",
            "inspect with `mqctl dlq inspect NAME`; redrive or purge once understood",
        ),
        ok=f"{len(latest)} dead-letter queue(s), all empty",
    )
    if second is None:
        findings.append(
            probe.unknown(name, "needs two samples: run with --interval > 0", "DLQ growth")
        )
    return findings


async def check_unconsumed_topics(probe: Probe) -> list[Finding]:
    name = "unconsumed-topics"
    catalog = probe.backend_as(TopicCatalog)
    try:
        topics = await catalog.list_topics(include_internal=False)
        window = await lag_window(probe)
    except MqctlError as exc:
        return [probe.unknown(name, exc, "topic consumers")]
    consumed = {p.topic for e in window.raw for p in e.partitions}
    patterns = tuple(probe.session.context.dlq_patterns)
    nobody = sorted(
        t.name
        for t in topics
        if t.messages > 0
        and not t.internal
        and t.name not in consumed
        and not is_dlq(probe.backend.name, t.name, patterns)
    )
    if nobody:
        return [
            probe.finding(
                name,
                Severity.WARN,
                f"{len(nobody)} topic(s) with records and no consumer group",
                [limited(nobody, 20)],
                "a consumer may never have started (or uses no group); delete topics that "
                "are no longer used",
            )
        ]
    return [probe.finding(name, Severity.OK, f"every one of {len(topics)} topic(s) is consumed")]
