"""Why and where a message died, read from the metadata the broker or framework left on it.

Understood formats (docs/dlq.md lists them with examples):

* RabbitMQ broker dead-lettering: the ``x-death`` array (most recent first, one entry per
  queue and reason) and ``x-first-death-*`` / ``x-last-death-*`` headers;
* Spring Kafka ``kafka_dlt-*`` headers (numbers are big-endian binary ints/longs);
* Kafka Connect ``__connect.errors.*`` headers (text values);
* application envelopes: ``error``/``failedAt``/``retryCount`` in headers or a JSON body.

Several can be present at once (an application field next to Spring headers); the result
merges them, the more specific source winning for each field.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mqctl.models.messages import HeaderValue, Message

REDRIVE_COUNT_HEADER = "x-mqctl-redrive-count"
"""Our own loop-guard counter, incremented on every redrive (docs/dlq.md)."""

SPRING = "kafka_dlt-"
CONNECT = "__connect.errors."
RABBIT_OWNED_PREFIXES = ("x-first-death-", "x-last-death-")
RABBIT_OWNED = ("x-death",)

# Field names applications commonly use in their failure envelopes, most common first.
_ERROR_KEYS = ("error", "errorMessage", "error_message", "failureReason")
_FAILED_AT_KEYS = ("failedAt", "failed_at", "failedTime", "errorTime")
_RETRY_KEYS = ("retryCount", "retry_count", "retries", "attempts")
_EXCEPTION_KEYS = ("exception", "exceptionClass", "exception_class", "errorType")


@dataclass(slots=True)
class DeadLetterInfo:
    """Everything known about one dead-lettered message. JSON fields documented in docs/dlq.md.

    ``formats`` lists the metadata formats found (rabbitmq-x-death, spring, connect,
    application). ``reason`` is the short cause (RabbitMQ: rejected | expired | maxlen |
    delivery_limit; otherwise the application's or framework's error text).
    """

    formats: list[str] = field(default_factory=list)
    reason: str | None = None
    exception: str | None = None
    error_message: str | None = None
    source_queue: str | None = None
    source_exchange: str | None = None
    source_routing_keys: list[str] = field(default_factory=list)
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    consumer_group: str | None = None
    first_failure: datetime | None = None
    last_failure: datetime | None = None
    death_count: int | None = None
    retry_count: int | None = None
    redrive_count: int = 0
    application_error: str | None = None

    @property
    def source(self) -> str | None:
        """Where the message came from, as one string for grouping and display."""
        if self.source_topic:
            if self.source_partition is not None:
                return f"{self.source_topic}[{self.source_partition}]"
            return self.source_topic
        if self.source_queue:
            return self.source_queue
        if self.source_exchange is not None:
            keys = ",".join(self.source_routing_keys)
            return f"exchange {self.source_exchange or '(default)'} {keys}".strip()
        return None

    @property
    def source_name(self) -> str | None:
        """The topic or queue only (no partition), for ``source=`` filters."""
        return self.source_topic or self.source_queue


def text(value: HeaderValue | Any) -> str | None:
    """A header value as text; binary that is not UTF-8 is shown with escapes."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def integer(value: HeaderValue | Any) -> int | None:
    """An int from a header: big-endian binary (Spring), decimal text or a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, bytes):
        looks_binary = any(b < 0x20 or b > 0x7E for b in value)
        if len(value) in (4, 8) and looks_binary:
            return int(struct.unpack(">i" if len(value) == 4 else ">q", value)[0])
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            try:
                return int(stripped)
            except ValueError:  # "--5", "²" (isdigit but not decimal), over 4300 digits
                return None
    return None


def timestamp(value: HeaderValue | Any) -> datetime | None:
    """A time from a header or JSON field: datetime, ISO 8601 text, or epoch (s or ms)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    number = value if isinstance(value, int | float) else integer(value)
    if number is not None:
        try:
            seconds = number / 1000 if number > 1e11 else number  # epoch ms vs epoch seconds
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _headers(message: Message) -> dict[str, HeaderValue]:
    """Last value per header name (Kafka may repeat names; the last one is current)."""
    return dict(message.headers)


def _json_body(message: Message) -> dict[str, Any] | None:
    value = message.value
    if not value or len(value) > 1_000_000 or value.lstrip()[:1] != b"{":
        return None
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return doc if isinstance(doc, dict) else None


def _first(doc: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if doc.get(key) not in (None, ""):
            return doc[key]
    return None


def _apply_rabbit(info: DeadLetterInfo, headers: dict[str, HeaderValue]) -> None:
    deaths = headers.get("x-death")
    entries = [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []
    first_queue = text(headers.get("x-first-death-queue"))
    if not entries and not first_queue:
        return
    info.formats.append("rabbitmq-x-death")
    if entries:
        latest, earliest = entries[0], entries[-1]  # the broker keeps the most recent first
        info.reason = text(latest.get("reason"))
        info.source_queue = text(earliest.get("queue"))
        info.source_exchange = text(earliest.get("exchange"))
        keys = earliest.get("routing-keys")
        if isinstance(keys, list):
            info.source_routing_keys = [k for k in (text(k) for k in keys) if k is not None]
        counts = [integer(d.get("count")) for d in entries]
        info.death_count = sum(c for c in counts if c is not None) or None
        times = [t for t in (timestamp(d.get("time")) for d in entries) if t is not None]
        if times:
            info.first_failure, info.last_failure = min(times), max(times)
    # The explicit first/last headers (3.8+) are authoritative where present.
    info.source_queue = first_queue or info.source_queue
    first_exchange = headers.get("x-first-death-exchange")
    if first_exchange is not None:
        info.source_exchange = text(first_exchange)
    last_reason = text(headers.get("x-last-death-reason") or headers.get("x-first-death-reason"))
    info.reason = info.reason or last_reason


def _apply_spring(info: DeadLetterInfo, headers: dict[str, HeaderValue]) -> None:
    if not any(k.startswith(SPRING) for k in headers):
        return
    info.formats.append("spring")
    info.source_topic = text(headers.get(SPRING + "original-topic")) or info.source_topic
    info.source_partition = integer(headers.get(SPRING + "original-partition"))
    info.source_offset = integer(headers.get(SPRING + "original-offset"))
    info.consumer_group = text(headers.get(SPRING + "original-consumer-group"))
    # The cause names the real problem; the outer FQCN is usually Spring's wrapper.
    info.exception = text(
        headers.get(SPRING + "exception-cause-fqcn") or headers.get(SPRING + "exception-fqcn")
    )
    info.error_message = text(headers.get(SPRING + "exception-message"))


def _apply_connect(info: DeadLetterInfo, headers: dict[str, HeaderValue]) -> None:
    if not any(k.startswith(CONNECT) for k in headers):
        return
    info.formats.append("connect")
    info.source_topic = text(headers.get(CONNECT + "topic")) or info.source_topic
    info.source_partition = integer(headers.get(CONNECT + "partition"))
    info.source_offset = integer(headers.get(CONNECT + "offset"))
    info.consumer_group = text(headers.get(CONNECT + "connector.name"))
    info.exception = text(headers.get(CONNECT + "exception.class.name"))
    info.error_message = text(headers.get(CONNECT + "exception.message"))


def _dumps(doc: dict[str, Any]) -> str:
    """An error object as compact text: AMQP tables may hold bytes and datetimes."""
    try:
        return json.dumps(doc, default=text)
    except (ValueError, RecursionError):
        return text(doc) or ""


def _apply_application(
    info: DeadLetterInfo, headers: dict[str, HeaderValue], body: dict[str, Any] | None
) -> None:
    found = False
    for doc in (body or {}, headers):
        if not doc:  # nothing to look up (a redrive without filters reads no body)
            continue
        error = _first(doc, _ERROR_KEYS)
        failed_at = _first(doc, _FAILED_AT_KEYS)
        retries = _first(doc, _RETRY_KEYS)
        exception = _first(doc, _EXCEPTION_KEYS)
        if error is None and failed_at is None and retries is None:
            continue
        found = True
        if error is not None and info.application_error is None:
            info.application_error = text(error) if not isinstance(error, dict) else _dumps(error)
        if exception is not None and info.exception is None:
            info.exception = text(exception)
        when = timestamp(failed_at)
        if when is not None and info.last_failure is None:
            info.first_failure = info.last_failure = when
        if retries is not None and info.retry_count is None:
            info.retry_count = integer(retries)
    if found:
        info.formats.append("application")


def _cause_text(info: DeadLetterInfo) -> str | None:
    """Spring's ``Listener failed; com.x.CauseException: text`` reduced to ``text``."""
    message = info.error_message
    if message and info.exception:
        marker = f"{info.exception}: "
        if marker in message:
            return message.split(marker, 1)[1].strip() or message
    return message


def parse(message: Message, *, body: bool = True) -> DeadLetterInfo:
    """Read every dead-letter format present on ``message`` into one :class:`DeadLetterInfo`.

    ``body=False`` skips decoding a JSON body (application fields then come from headers
    only): a redrive whose filters do not need reasons or times saves that work per message.
    """
    headers = _headers(message)
    info = DeadLetterInfo()
    _apply_rabbit(info, headers)
    _apply_spring(info, headers)
    _apply_connect(info, headers)
    _apply_application(info, headers, _json_body(message) if body else None)
    if info.error_message is None:
        info.error_message = info.application_error
    if info.reason is None:
        # The application's own words beat a framework's wrapped exception text.
        info.reason = info.application_error or _cause_text(info) or info.exception
    if info.last_failure is None and message.timestamp is not None:
        # The DLQ record's own time is when it was dead-lettered (Spring, Connect).
        info.first_failure = info.last_failure = message.timestamp
    info.redrive_count = (integer(headers.get(REDRIVE_COUNT_HEADER)) or 0) + _shovel_moves(headers)
    return info


def _shovel_moves(headers: Mapping[str, Any]) -> int:
    """Redrives by ``--engine shovel``: the broker appends one ``x-shovelled`` entry per
    move, and mqctl's shovels are named ``mqctl-redrive-*`` (the loop guard counts them)."""
    entries = headers.get("x-shovelled")
    if not isinstance(entries, list):
        return 0
    return sum(
        1
        for e in entries
        if isinstance(e, dict) and str(e.get("shovel-name", "")).startswith("mqctl-redrive-")
    )


# Headers whose value is a number, written as big-endian binary (Spring) or decimal text.
NUMERIC_HEADERS = frozenset(
    {
        SPRING + "original-partition",
        SPRING + "original-offset",
        SPRING + "original-timestamp",
        CONNECT + "partition",
        CONNECT + "offset",
        CONNECT + "task.id",
    }
)


def plain(value: Any) -> Any:
    """A header value as JSON-friendly data: UTF-8 bytes as text, other bytes as
    ``{"base64": ...}``, times as ISO 8601, tables and arrays recursively."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # AMQP decimals and anything else a client library hands over


def decoded(name: str, value: HeaderValue | Any) -> Any:
    """A dead-letter header decoded: Spring/Connect numbers as ints, the rest as
    :func:`plain` data (x-death entries keep their counts as numbers, times as ISO text)."""
    if name in NUMERIC_HEADERS:
        number = integer(value)
        if number is not None:
            return number
    return plain(value)


def dead_letter_metadata(message: Message) -> dict[str, Any]:
    """The message's dead-letter headers (last value per name), decoded."""
    found: dict[str, Any] = {}
    for name, value in message.headers:
        if name in RABBIT_OWNED or name.startswith((*RABBIT_OWNED_PREFIXES, SPRING, CONNECT)):
            found[name] = decoded(name, value)
    return found


def has_dead_letter_headers(message: Message) -> bool:
    """True when headers show a dead-letter format (used to discover Kafka DLQ topics)."""
    for name, _ in message.headers:
        if name == "x-death" or name.startswith((SPRING, CONNECT, "x-first-death-")):
            return True
    return False


def is_broker_owned(header: str) -> bool:
    """RabbitMQ's own dead-letter headers, which a redrive must not republish."""
    return header in RABBIT_OWNED or header.startswith(RABBIT_OWNED_PREFIXES)
