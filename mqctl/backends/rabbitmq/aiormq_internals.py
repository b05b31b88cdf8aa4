"""Every use of aiormq's private API, in one place (aiormq is pinned to an exact version).

The redrive's hot path takes over a channel's frame handlers (:func:`take_over_frames`):
aiormq resolves one future per publish (and schedules a callback per confirmed tag) and starts
a task per delivery; at tens of thousands of messages that bookkeeping is most of the cost. The
channel's reader dispatches through the ``_on_*_frame`` methods, so instance attributes replace
them for the redrive's two channels only. Raw frames go to the connection's writer through the
channel's ``write_queue`` (FIFO with aiormq's own frames).

tests/test_library_seams.py checks, without a broker, that the pinned aiormq still has every
name used here with the expected signature: an upgrade that changes them fails that test.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from aiormq.abc import ChannelFrame
from pamqp.header import ContentHeader

from mqctl.errors import MqctlError

FrameHandler = Callable[[Any], Awaitable[None]]

# The private names of aiormq.Channel this module relies on, with their parameters.
CHANNEL_PRIVATE_METHODS = {
    "_on_deliver_frame": ["self", "frame"],
    "_on_confirm_frame": ["self", "frame"],
    "_on_return_frame": ["self", "frame"],
    "_get_frame": ["self"],
    "_read_content": ["self", "frame", "header"],
}


def missing_channel_api() -> list[str]:
    """What of :data:`CHANNEL_PRIVATE_METHODS` the installed aiormq lacks (empty: all there)."""
    from aiormq.channel import Channel

    missing = []
    for name, parameters in CHANNEL_PRIVATE_METHODS.items():
        method = getattr(Channel, name, None)
        if not callable(method):
            missing.append(f"Channel.{name}")
        elif list(inspect.signature(method).parameters) != parameters:
            missing.append(f"Channel.{name}({', '.join(parameters)})")
    return missing


def take_over_frames(
    consume: Any,
    publish: Any,
    *,
    on_deliver: FrameHandler,
    on_confirm: FrameHandler,
    on_return: FrameHandler,
) -> None:
    """Route ``basic.deliver`` on ``consume`` and ``basic.ack/nack/return`` on ``publish`` (two
    aiormq channels) to the given handlers instead of aiormq's per-message machinery."""
    for channel, name in (
        (consume, "_on_deliver_frame"),
        (publish, "_on_confirm_frame"),
        (publish, "_on_return_frame"),
    ):
        if not callable(getattr(channel, name, None)) or not callable(
            getattr(channel, "_read_content", None)
        ):
            raise MqctlError(f"unsupported aiormq version (no Channel.{name})")
    consume._on_deliver_frame = on_deliver
    publish._on_confirm_frame = on_confirm
    publish._on_return_frame = on_return


async def read_delivered(channel: Any, frame: Any) -> Any:
    """The message (an aiormq ``DeliveredMessage``) whose method frame ``frame`` (deliver or
    return) the taken-over handler received: its header and body frames follow on the channel."""
    header = await channel._get_frame()
    if not isinstance(header, ContentHeader):
        raise ValueError(f"unexpected frame {header!r} instead of a content header")
    return await channel._read_content(frame, header)


async def write_raw(
    channel: Any, payload: bytes, stopped: Callable[[], bool], poll: float = 0.5
) -> None:
    """Queue pre-encoded frames for the connection's writer; gives up once ``stopped()``."""
    frame = ChannelFrame(payload=payload, should_close=False)
    queue = channel.write_queue
    while not stopped():
        try:
            queue.put_nowait(frame)
            return
        except asyncio.QueueFull:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.put(frame), poll)
                return


# --- names outside pamqp's ASCII pattern ------------------------------------------------------

# pamqp (aiormq's frame codec) checks queue and exchange names against the AMQP spec's
# informative pattern ``^[a-zA-Z0-9-_.:@#,/+ ]*$`` before it encodes a frame, although RabbitMQ
# takes any UTF-8 name up to 255 bytes (accents, Cyrillic, CJK, emoji, ``%``...): a queue mqctl
# itself created through the management API could not be peeked, published to or redriven.
# The check reads ``pamqp.constants.DOMAIN_REGEX`` at each frame, so widening those two
# patterns lets every name through; the encoder still refuses more than 255 bytes, and
# :func:`mqctl.backends.rabbitmq.names.check_name` turns that into a clear error first.
_ANY_NAME_PATTERN = r"(?s).*"


def allow_any_names() -> None:
    """Let pamqp encode every name RabbitMQ accepts (idempotent, process-wide)."""
    import re

    from pamqp import constants

    for domain in ("queue-name", "exchange-name"):
        pattern = constants.DOMAIN_REGEX.get(domain)
        if pattern is None or pattern.pattern != _ANY_NAME_PATTERN:
            constants.DOMAIN_REGEX[domain] = re.compile(_ANY_NAME_PATTERN)
