"""What to do with each dead-lettered message: filters, destination, loop guard, and the
message to publish. Broker-neutral: backends call :meth:`Planner.decide` per message.

Destination order (docs/dlq.md): ``--to``; the source recorded by the broker or framework
(x-death first-death queue, or its exchange + routing keys with ``--via-exchange``; Spring or
Connect original topic with its partition); the naming convention (``X.dlq`` → ``X``).
Messages without a destination stay in the DLQ and are reported as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mqctl.dlq import discovery, republish
from mqctl.dlq.metadata import DeadLetterInfo, parse, text, timestamp
from mqctl.errors import UsageError
from mqctl.messages.filters import bounded_search, compile_regex
from mqctl.models.messages import Message, OutgoingMessage

AMQP_PROPERTIES = republish.AMQP_PROPERTIES

SKIP_FILTERED = "filtered"
SKIP_LOOP_GUARD = "loop-guard"
SKIP_NO_DESTINATION = "no-destination"
SKIP_SELF = "destination-is-the-dlq"
SKIP_NO_ENVELOPE = "no-envelope-field"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Target:
    """Where one message goes: a queue (default exchange), an exchange, or a topic."""

    kind: str  # queue | exchange | topic
    name: str
    routing_key: str | None = None
    partition: int | None = None

    @property
    def label(self) -> str:
        """Grouping key for summaries (partition left out: too fine-grained)."""
        if self.kind == "exchange":
            return f"exchange {self.name or '(default)'} → {self.routing_key or ''}".rstrip()
        return self.name


@dataclass(slots=True)
class Filters:
    """Which messages a redrive (or inspect) takes. Kinds are ANDed, values of one kind ORed."""

    reasons: list[str] = field(default_factory=list)  # case-insensitive substrings
    exceptions: list[str] = field(default_factory=list)
    # ``reason==X``/``exception==X``: the whole text, as a row of `dlq inspect` shows it, so
    # a redrive picked from a row never also takes a longer reason that contains it
    exact_reasons: list[str] = field(default_factory=list)
    exact_exceptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    bodies: list[re.Pattern[bytes]] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.reasons
            or self.exceptions
            or self.exact_reasons
            or self.exact_exceptions
            or self.sources
            or self.headers
            or self.keys
            or self.bodies
            or self.since
            or self.until
        )

    def matches(self, message: Message, info: DeadLetterInfo) -> bool:
        if not _text_matches(info.reason, self.reasons, self.exact_reasons):
            return False
        if not _text_matches(info.exception, self.exceptions, self.exact_exceptions):
            return False
        if self.sources and not any(
            s in (info.source_name, info.source, info.source_exchange) for s in self.sources
        ):
            return False
        if self.headers and not any(text(message.header(n)) == v for n, v in self.headers):
            return False
        if self.keys and (message.key is None or text(message.key) not in self.keys):
            return False
        if self.bodies and not any(
            bounded_search(p, message.value or b"", f"--filter body~{_shown(p)}")
            for p in self.bodies
        ):
            return False
        when = info.last_failure or message.timestamp
        if self.since is not None and (when is None or when < self.since):
            return False
        return not (self.until is not None and (when is None or when > self.until))


def _shown(pattern: re.Pattern[bytes]) -> str:
    text = pattern.pattern.decode("utf-8", "backslashreplace")
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _text_matches(value: str | None, needles: list[str], exact: list[str]) -> bool:
    """Values of one kind are ORed: any substring or any exact text; none given matches all."""
    if not needles and not exact:
        return True
    return _contains_any(value, needles) or (value is not None and value in exact)


def _contains_any(value: str | None, needles: list[str]) -> bool:
    lowered = (value or "").lower()
    return any(n.lower() in lowered for n in needles)


def parse_time(raw: str, what: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (``2024-06-11T10:00:00Z``) or a duration ago (``30m``, ``2h``, ``7d``)."""
    match = _DURATION.match(raw.strip())
    if match:
        try:
            seconds = int(match.group(1)) * _UNITS[match.group(2)]
            return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
        except (OverflowError, ValueError):  # before year 1, or over 4300 digits
            raise UsageError(f"{what}: duration {raw!r} is too long") from None
    parsed = timestamp(raw) if not raw.strip().isdigit() else None
    if parsed is None:
        raise UsageError(
            f"{what}: cannot read {raw!r} as a time (use ISO 8601 like 2024-06-11T10:00:00Z "
            f"or a duration like 30m, 2h, 7d)"
        )
    return parsed


def parse_filters(expressions: Sequence[str], now: datetime | None = None) -> Filters:
    """``reason=X``, ``exception=X`` (substring), ``reason==X``, ``exception==X`` (whole
    text), ``source=X``, ``header:NAME=VALUE``, ``key=K``,
    ``body~REGEX``, ``since=TIME``, ``until=TIME``."""
    filters = Filters()
    for expr in expressions:
        if expr.startswith("body~"):
            pattern = expr[len("body~") :]
            try:  # command-line bytes that are not UTF-8 (surrogate escapes) match as given
                raw = pattern.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raise UsageError(f"--filter {expr!r}: not a valid text pattern") from None
            shown = expr if len(expr) <= 60 else expr[:57] + "..."
            filters.bodies.append(compile_regex(raw, f"--filter {shown!r}"))
            continue
        name, sep, value = expr.partition("=")
        if not sep or not name:
            raise UsageError(
                f"--filter {expr!r}: expected NAME=VALUE (reason=, exception=, source=, "
                f"header:NAME=, key=, since=, until=) or body~REGEX"
            )
        if name == "reason" and value.startswith("="):
            filters.exact_reasons.append(value[1:])
        elif name == "reason":
            filters.reasons.append(value)
        elif name == "exception" and value.startswith("="):
            filters.exact_exceptions.append(value[1:])
        elif name == "exception":
            filters.exceptions.append(value)
        elif name == "source":
            filters.sources.append(value)
        elif name == "key":
            filters.keys.append(value)
        elif name.startswith("header:") and len(name) > len("header:"):
            filters.headers.append((name[len("header:") :], value))
        elif name == "since":
            filters.since = parse_time(value, f"--filter {expr!r}", now)
        elif name == "until":
            filters.until = parse_time(value, f"--filter {expr!r}", now)
        else:
            raise UsageError(
                f"--filter {expr!r}: unknown filter {name!r} (use reason, exception, source, "
                f"header:NAME, key, since, until or body~REGEX)"
            )
    return filters


def parse_assignments(items: Sequence[str], what: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` pairs (``--reset-header retryCount=0``)."""
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} {item!r}: expected NAME=VALUE, e.g. retryCount=0")
        pairs.append((name, value))
    return pairs


@dataclass(slots=True)
class RedriveOptions:
    to: str | None = None
    via_exchange: bool = False
    filters: Filters = field(default_factory=Filters)
    limit: int | None = None
    max_redrives: int = 3  # 0 disables the loop guard
    reset_headers: list[tuple[str, str]] = field(default_factory=list)
    rate: float | None = None  # messages per second
    unwrap: str | None = None  # republish this field of a JSON envelope (dotted path)


@dataclass(slots=True)
class Decision:
    """``move`` (publish ``outgoing`` to ``target``), ``skip`` (leave it, ``reason``) or
    ``stop`` (the limit is reached: leave this and every later message)."""

    action: str
    info: DeadLetterInfo
    target: Target | None = None
    outgoing: OutgoingMessage | None = None
    reason: str | None = None


class Planner:
    """Decides per message; counts the messages it selected to enforce ``--limit``."""

    def __init__(
        self,
        backend: str,
        dlq_name: str,
        options: RedriveOptions,
        patterns: tuple[str, ...] = (),
    ) -> None:
        self.backend = backend
        self.dlq_name = dlq_name
        self.options = options
        self.patterns = tuple(patterns) + discovery.conventions(backend)
        self.selected = 0
        f = options.filters
        # Only these filters can depend on application fields in a JSON body.
        self._needs_body = bool(f.reasons or f.exceptions or f.since or f.until)

    def decide(
        self, message: Message, *, apply_limit: bool = True, explain: bool = False
    ) -> Decision:
        """``apply_limit=False``: the plan applies ``--limit`` itself, in the run's order.
        ``explain``: read application fields from the body even when no filter needs them
        (the plan reports per reason)."""
        info = parse(message, body=self._needs_body or explain)
        options = self.options
        if not options.filters.matches(message, info):
            return Decision("skip", info, reason=SKIP_FILTERED)
        if options.max_redrives and info.redrive_count >= options.max_redrives:
            return Decision("skip", info, reason=SKIP_LOOP_GUARD)
        target = self.destination(message, info)
        if target is None:
            return Decision("skip", info, reason=SKIP_NO_DESTINATION)
        if target.kind != "exchange" and target.name == self.dlq_name:
            return Decision("skip", info, reason=SKIP_SELF)
        try:
            outgoing = republish.outgoing(message, info, target, options, self.dlq_name)
        except republish.NotAnEnvelope:
            return Decision("skip", info, reason=SKIP_NO_ENVELOPE)
        if apply_limit and options.limit is not None and self.selected >= options.limit:
            return Decision("stop", info)
        self.selected += 1
        return Decision("move", info, target, outgoing)

    def destination(self, message: Message, info: DeadLetterInfo) -> Target | None:
        to = self.options.to
        kafka = self.backend == "kafka"
        if to:
            if kafka:
                same = to == info.source_topic
                return Target("topic", to, partition=info.source_partition if same else None)
            if to.startswith("exchange:"):
                key = _first(info.source_routing_keys) or message.routing_key or ""
                return Target("exchange", to[len("exchange:") :], routing_key=key)
            return Target("queue", to, routing_key=to)
        if kafka and info.source_topic:
            return Target("topic", info.source_topic, partition=info.source_partition)
        if not kafka:
            if self.options.via_exchange and info.source_exchange is not None:
                key = _first(info.source_routing_keys) or ""
                if info.source_exchange == "":
                    return Target("queue", key, routing_key=key) if key else None
                return Target("exchange", info.source_exchange, routing_key=key)
            if info.source_queue:
                return Target("queue", info.source_queue, routing_key=info.source_queue)
        derived = discovery.source_from_name(self.dlq_name, self.patterns)
        if derived is None:
            return None
        if kafka:
            return Target("topic", derived)
        return Target("queue", derived, routing_key=derived)


def _first(items: list[str]) -> str | None:
    return items[0] if items else None
