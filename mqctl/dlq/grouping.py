"""Group dead-lettered messages by reason, source, exception or a header value."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from mqctl.dlq.metadata import DeadLetterInfo, dead_letter_metadata, decoded, text
from mqctl.dlq.models import DeadLetterGroup, InspectedMessage, MessageSample, ReasonCount
from mqctl.errors import UsageError
from mqctl.models.messages import Message
from mqctl.output.sanitize import safe_text

GROUP_BY = ("reason", "source", "exception")
UNKNOWN = "(unknown)"
PREVIEW_CHARS = 120


def check_group_by(group_by: str) -> str:
    """Validate ``reason|source|exception|header:NAME``; bad input is a usage error."""
    if group_by in GROUP_BY:
        return group_by
    if group_by.startswith("header:") and group_by[len("header:") :]:
        return group_by
    raise UsageError(f"cannot group by {group_by!r}: use reason, source, exception or header:NAME")


def group_key(item: InspectedMessage, group_by: str) -> str:
    info = item.info
    if group_by == "reason":
        value = info.reason
    elif group_by == "source":
        value = info.source
    elif group_by == "exception":
        value = info.exception
    else:
        name = group_by[len("header:") :]
        raw = item.message.header(name)
        shown = None if raw is None else decoded(name, raw)
        value = shown if isinstance(shown, str) or shown is None else _compact(shown)
    return value if value else UNKNOWN


def _compact(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def message_id(message: Message) -> str:
    if message.partition is not None and message.offset is not None:
        return f"{message.partition}/{message.offset}"
    mid = message.properties.get("message_id")
    return str(mid) if mid else "-"


def preview(message: Message) -> str:
    if message.value is None:
        return "(null)"
    shown = message.value[:PREVIEW_CHARS].decode("utf-8", "backslashreplace")
    ellipsis = "…" if len(message.value) > PREVIEW_CHARS else ""
    return safe_text(shown) + ellipsis


def sample(item: InspectedMessage) -> MessageSample:
    message = item.message
    return MessageSample(
        id=message_id(message),
        key=None if message.key is None else safe_text(text(message.key) or ""),
        reason=item.info.reason,
        source=item.info.source,
        failed_at=item.info.last_failure,
        redrive_count=item.info.redrive_count,
        preview=preview(message),
        source_partition=item.info.source_partition,
        source_offset=item.info.source_offset,
        metadata=dead_letter_metadata(message),
    )


def group(
    items: Iterable[InspectedMessage], group_by: str, samples: int = 3
) -> list[DeadLetterGroup]:
    """Groups sorted by size (largest first), with first/last failure and a few samples."""
    groups: dict[str, DeadLetterGroup] = {}
    for item in items:
        key = group_key(item, group_by)
        found = groups.get(key)
        if found is None:
            found = groups[key] = DeadLetterGroup(key, 0, None, None)
        found.count += 1
        when = item.info.last_failure or item.message.timestamp
        found.first_seen = _earlier(found.first_seen, when)
        found.last_seen = _later(found.last_seen, when)
        if len(found.samples) < samples:
            found.samples.append(sample(item))
    return sorted(groups.values(), key=lambda g: (-g.count, g.key))


def top_reasons(infos: Iterable[DeadLetterInfo], limit: int = 3) -> list[ReasonCount]:
    counts = Counter(info.reason or UNKNOWN for info in infos)
    return [ReasonCount(r, n) for r, n in counts.most_common(limit)]


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
