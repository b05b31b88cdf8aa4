"""Dead-letter streams: found by naming convention, redriven through mqctl's DLQ engine.

Conventions: mqctl's usual ones (``orders.dlq``, ``orders-dlq``, ``dlq.orders``,
``orders.DLT``, ...) plus the Redis key style ``orders:dlq`` / ``dlq:orders`` / ``orders:dead``,
and the context's ``dlq-patterns``. The source is what the ``*`` stands for.

Redrive moves each entry with one Lua script, atomically: if the DLQ entry still exists,
``XADD`` it to the target stream (``NOMKSTREAM``: a missing target is a failure and the entry
stays) and only then ``XDEL`` it from the DLQ. On one Redis server nothing can be lost or
duplicated, even on a kill at any point; a rerun continues with what is left. If the two keys
live in different Redis Cluster slots the script is refused and the entry is moved in two
steps (XADD, then XDEL): at least once, at most one duplicate per interruption.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from mqctl.errors import MqctlError
from mqctl.models.inventory import Destination
from mqctl_redis_streams.connection import RedisConnection
from mqctl_redis_streams.entries import (
    BACKEND,
    FIELDS_PROPERTY,
    entry_to_message,
    message_to_fields,
)
from mqctl_redis_streams.inventory import stream_info, stream_names

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.models import Candidate
    from mqctl.dlq.plan import Planner

REDIS_PATTERNS = ("*:dlq", "dlq:*", "*:dead", "*:DLT", "*-dlt")
BATCH = 200

# KEYS[1] = DLQ stream, KEYS[2] = target stream; ARGV[1] = DLQ entry id, then field/value pairs.
# Returns 0 (entry gone: moved by someone else), 1 (target stream missing), or the new id.
MOVE_SCRIPT = """
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[2], 'NOMKSTREAM', '*', unpack(fields))
if not id then return 1 end
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""


def conventions(patterns: tuple[str, ...]) -> tuple[str, ...]:
    from mqctl.dlq import discovery

    merged = [*patterns, *discovery.conventions(BACKEND), *REDIS_PATTERNS]
    return tuple(dict.fromkeys(merged))


async def discover(conn: RedisConnection, patterns: tuple[str, ...]) -> list[Candidate]:
    from mqctl.dlq import discovery
    from mqctl.dlq.models import Candidate

    every = conventions(patterns)
    names = await stream_names(conn)
    existing = set(names)
    found: list[Candidate] = []
    for name in names:
        if discovery.matching_pattern(name, every) is None:
            continue
        info = await stream_info(conn, name)
        source = discovery.source_from_name(name, every)
        found.append(
            Candidate(
                backend=BACKEND,
                kind="topic",
                name=name,
                vhost=None,
                depth=int(info.get("length") or 0),
                detected_by=["name"],
                sources=[source] if source and source in existing else [],
            )
        )
    return found


async def redrive(
    conn: RedisConnection, dlq: Destination, planner: Planner, control: RedriveControl
) -> None:
    """Walk the DLQ from its oldest entry, moving what the planner selects."""
    client = conn.client()
    s = conn.settings
    planner.patterns = conventions(tuple(planner.patterns))  # the Redis key conventions too
    move = client.register_script(MOVE_SCRIPT)
    await stream_info(conn, dlq.name)  # NotFoundError for a missing DLQ
    lower = "-"
    while not control.stopping:
        page = await conn.call(client.xrange(dlq.name, lower, "+", count=BATCH), "XRANGE")
        for raw_id, fields in page:
            if control.stopping:
                break
            entry_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            lower = f"({entry_id}"
            message = entry_to_message(
                dlq.name, entry_id, fields, value_field=s.value_field, key_field=s.key_field
            )
            control.examined()
            decision = planner.decide(message)
            if decision.action == "stop":
                control.stopped_early("limit reached")
                return
            if decision.action != "move" or decision.outgoing is None or decision.target is None:
                control.skipped(decision.reason or "skipped")
                continue
            outgoing = decision.outgoing
            if message.properties.get(FIELDS_PROPERTY) == "json":  # keep the entry's shape
                outgoing = dataclasses.replace(
                    outgoing, properties={**outgoing.properties, FIELDS_PROPERTY: "json"}
                )
            try:
                data = message_to_fields(
                    dataclasses.replace(outgoing, partition=None),
                    value_field=s.value_field,
                    key_field=s.key_field,
                )
            except MqctlError as exc:
                control.failed(f"{entry_id}: {exc}")
                continue
            await control.throttle()
            target = decision.target.name
            args: list[Any] = [entry_id]
            for name, value in data.items():
                args.extend((name, value))
            try:
                result = await conn.call(move(keys=[dlq.name, target], args=args), "redrive")
            except MqctlError as exc:
                if "CROSSSLOT" not in str(exc):
                    raise
                result = await _two_step(conn, dlq.name, target, entry_id, data)
            if result == 0:
                control.skipped("already-moved")
            elif result == 1:
                control.failed(f"{entry_id}: target stream {target!r} does not exist")
            else:
                control.moved(decision.target)
        if len(page) < BATCH:
            return


async def _two_step(
    conn: RedisConnection, dlq: str, target: str, entry_id: str, fields: dict[str, bytes]
) -> Any:
    """Redis Cluster with the two streams in different slots: XADD, then XDEL."""
    client = conn.client()
    new_id = await conn.call(client.xadd(target, fields, nomkstream=True), "XADD")
    if new_id is None:
        return 1
    await conn.call(client.xdel(dlq, entry_id), "XDEL")
    return new_id
