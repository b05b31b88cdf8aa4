"""Peek (XRANGE / XREVRANGE / XREAD, never XREADGROUP: nothing is delivered or acknowledged)
and publish (XADD, one round trip per message, confirmed by the returned entry id)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mqctl.errors import UsageError
from mqctl.models.inventory import Destination
from mqctl.models.messages import (
    Message,
    OutgoingMessage,
    PeekOptions,
    PublishOptions,
    PublishResult,
)
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.entries import entry_to_message, message_to_fields
from mqctl_redis_streams.inventory import stream_info

MAX_BATCH = 500
FOLLOW_BLOCK_MS = 1000


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _check_destination(destination: Destination, what: str) -> None:
    if destination.kind != "topic":
        raise UsageError(f"{what}: Redis streams are topics, not {destination.kind}s")


async def peek(
    conn: RedisConnection, destination: Destination, options: PeekOptions
) -> AsyncIterator[Message]:
    _check_destination(destination, "peek")
    if options.partitions is not None and set(options.partitions) != {0}:
        raise UsageError("peek: a Redis stream has a single partition (0)")
    stream = destination.name
    info = await stream_info(conn, stream)  # NotFoundError for a missing stream
    client = conn.client()
    s = conn.settings
    batch = max(1, min(options.max_messages or MAX_BATCH, MAX_BATCH))

    def convert(entry_id: Any, fields: dict[bytes, bytes]) -> Message:
        return entry_to_message(
            stream, entry_id, fields, value_field=s.value_field, key_field=s.key_field
        )

    start = options.start
    last_id = _text(info.get("last-generated-id") or b"0-0")  # the end when peeking starts
    lower: str | None = None
    if start.kind == "beginning":
        lower = "-"
    elif start.kind == "timestamp":
        if start.value is None or start.value < 0:
            raise UsageError("peek: a start timestamp (epoch ms) is required")
        lower = f"{start.value}-0"
    elif start.kind == "last":
        count = 1 if start.value is None else start.value
        if count < 0:
            raise UsageError("peek: --last needs a positive count")
        if count > 0:
            newest = await conn.call(client.xrevrange(stream, "+", "-", count=count), "XREVRANGE")
            lower = _text(newest[-1][0]) if newest else None
    elif start.kind == "offset":
        raise UsageError(
            "peek: Redis stream entries have ids, not numeric offsets; "
            "use --from-beginning, --last N or --since"
        )
    elif start.kind != "end":
        raise UsageError(f"peek: unknown start position {start.kind!r}")
    # catch up with XRANGE pages; "(" makes the lower bound exclusive after the first page
    while lower is not None:
        page = await conn.call(client.xrange(stream, lower, "+", count=batch), "XRANGE")
        for entry_id, fields in page:
            yield convert(entry_id, fields)
            last_id = _text(entry_id)
        lower = f"({last_id}" if len(page) == batch else None
    # new entries: block for them (follow), or for one idle period at the end position
    if not options.follow and start.kind != "end":
        return
    block_ms = max(1, int(min(options.idle_timeout, conn.timeout / 2) * 1000))
    if options.follow:
        block_ms = min(FOLLOW_BLOCK_MS, max(1, int(conn.timeout * 500)))
    while True:
        reply = await conn.call(
            client.xread({stream: last_id}, count=batch, block=block_ms), "XREAD"
        )
        entries = reply[0][1] if reply else []
        for entry_id, fields in entries:
            yield convert(entry_id, fields)
            last_id = _text(entry_id)
        if not entries and not options.follow:
            return


async def publish(
    conn: RedisConnection,
    destination: Destination,
    messages: AsyncIterator[OutgoingMessage],
    options: PublishOptions,
) -> AsyncIterator[PublishResult]:
    _check_destination(destination, "publish")
    if options.partition is not None:
        raise UsageError("publish: a Redis stream has no partitions to choose")
    client = conn.client()
    s = conn.settings
    index = 0
    async for message in messages:
        if message.partition is not None:
            yield PublishResult(index, False, error="a Redis stream has no partitions")
            index += 1
            continue
        try:
            fields = message_to_fields(message, value_field=s.value_field, key_field=s.key_field)
        except UsageError as exc:
            yield PublishResult(index, False, error=str(exc))
            index += 1
            continue
        # NOMKSTREAM: publishing never creates a stream by accident (a typo would)
        entry_id = await conn.call(client.xadd(destination.name, fields, nomkstream=True), "XADD")
        if entry_id is None:
            yield PublishResult(index, False, error=f"stream {destination.name!r} does not exist")
        else:
            text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            yield PublishResult(index, True, partition=0, id=text)
        index += 1
