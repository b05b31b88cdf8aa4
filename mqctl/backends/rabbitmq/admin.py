"""Queue create / delete / purge through the management API (test set-ups, runbooks).

Writes go through the management API rather than AMQP because it reports refusals (an
existing queue with other arguments, a missing vhost) as an answer instead of closing the
channel, and needs no AMQP connection per vhost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mqctl.backends.rabbitmq.inventory import queue_doc, queue_summary
from mqctl.backends.rabbitmq.management import ManagementClient, enc
from mqctl.errors import NotFoundError, UsageError
from mqctl.models.inventory import QueueSummary

QUEUE_TYPES = ("classic", "quorum", "stream")


async def create_queue(
    api: ManagementClient,
    name: str,
    *,
    vhost: str | None,
    queue_type: str,
    durable: bool,
    arguments: Mapping[str, Any] | None,
) -> tuple[QueueSummary, bool]:
    """Declare the queue; returns it and whether it was created (False: it already existed
    with the same settings, which is not an error, as with a passive re-declare)."""
    target = vhost or api.settings.vhost
    if not name or name.startswith("amq."):
        raise UsageError(f"invalid queue name {name!r} (empty, or amq.* which is reserved)")
    if queue_type not in QUEUE_TYPES:
        raise UsageError(
            f"unknown queue type {queue_type!r} (choose from {', '.join(QUEUE_TYPES)})"
        )
    if queue_type != "classic" and not durable:
        raise UsageError(f"{queue_type} queues are always durable; drop --transient")
    args = dict(arguments or {})
    given_type = args.get("x-queue-type")
    if given_type is not None and given_type != queue_type:
        raise UsageError(f"x-queue-type={given_type} contradicts --type {queue_type}")
    args["x-queue-type"] = queue_type
    await api.ensure_vhost(target)
    try:
        await queue_doc(api, name, target)
        existed = True
    except NotFoundError:
        existed = False
    # The broker checks an existing queue's settings (type, durability, arguments) and
    # answers 400 "inequivalent arg" when they differ: that becomes a usage error (exit 2).
    await api.request(
        "PUT",
        f"/queues/{enc(target)}/{enc(name)}",
        body={"durable": durable, "auto_delete": False, "arguments": args},
        what=f"vhost {target!r}",
    )
    doc = await queue_doc(api, name, target)
    return queue_summary(doc), not existed


async def delete_queue(
    api: ManagementClient,
    name: str,
    *,
    vhost: str | None,
    if_empty: bool = False,
    if_unused: bool = False,
) -> int:
    """Delete the queue; returns how many messages it held just before."""
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    doc = await queue_doc(api, name, target)
    params = {}
    if if_empty:
        params["if-empty"] = "true"
    if if_unused:
        params["if-unused"] = "true"
    await api.request(
        "DELETE",
        f"/queues/{enc(target)}/{enc(name)}",
        params=params,
        what=f"queue {name!r} in vhost {target!r}",
    )
    return int(doc.get("messages") or 0)


async def purge_queue(api: ManagementClient, name: str, *, vhost: str | None) -> int:
    """Remove every ready message; returns how many the queue reported just before."""
    target = vhost or api.settings.vhost
    await api.ensure_vhost(target)
    doc = await queue_doc(api, name, target)
    if (doc.get("type") or "classic") == "stream":
        raise UsageError(
            f"queue {name!r} is a stream: streams cannot be purged (set a retention with "
            f"x-max-age / x-max-length-bytes, or delete and re-create it)"
        )
    await api.request(
        "DELETE",
        f"/queues/{enc(target)}/{enc(name)}/contents",
        what=f"queue {name!r} in vhost {target!r}",
    )
    return int(doc.get("messages_ready") or 0)
