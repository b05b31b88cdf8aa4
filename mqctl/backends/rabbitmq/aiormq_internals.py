"""Every use of aiormq's private API, in one place (aiormq is pinned to an exact version).

The redrive's hot path takes over a channel's frame handlers (:func:`take_over_frames`):
aiormq resolves one future per publish (and schedules a callback per confirmed tag) and starts
a task per delivery; at tens of thousands of messages that bookkeeping is most of the cost. The
channel's reader dispatches through the ``_on_*_frame`` methods, so instance attributes replace
them for the redrive's two channels only. Raw frames go to the connection's writer through the
channel's ``write_queue`` (FIFO with aiormq's own frames).

Faster still, :func:`read_in_bulk` replaces how a connection's reader task reads frames
(``FrameReceiver.get_frame``) with :class:`~mqctl.backends.rabbitmq.redrive_reader.BulkReader`:
the redrive's deliveries, confirms and returns are decoded straight from the stream's buffer
and every other frame is handed to aiormq as before.

When the installed aiormq lacks those names, :func:`can_take_over_frames` says so (once in the
debug log) and the redrive uses aiormq's public API instead: one future per publish, a task per
delivery, ``basic_ack`` calls (slower, same outcome). tests/test_library_seams.py checks,
without a broker, that the pinned aiormq still has every name used here with the expected
signature: an upgrade that changes them fails that test.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiormq.abc import ChannelFrame
from pamqp.header import ContentHeader

from mqctl.errors import MqctlError

FrameHandler = Callable[[Any], Awaitable[None]]
log = logging.getLogger(__name__)
_fallback_logged = False

# The private names of aiormq.Channel this module relies on, with their parameters.
CHANNEL_PRIVATE_METHODS = {
    "_on_deliver_frame": ["self", "frame"],
    "_on_confirm_frame": ["self", "frame"],
    "_on_return_frame": ["self", "frame"],
    "_get_frame": ["self"],
    "_read_content": ["self", "frame", "header"],
}
# Connection.__reader(self, frame_receiver) iterates FrameReceiver, which reads with get_frame.
CONNECTION_READER_PARAMETERS = ["self", "frame_receiver"]


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
    from aiormq.connection import Connection, FrameReceiver

    reader = getattr(Connection, "_Connection__reader", None)
    if not callable(reader) or list(inspect.signature(reader).parameters) != (
        CONNECTION_READER_PARAMETERS
    ):
        missing.append("Connection.__reader(self, frame_receiver)")
    if list(inspect.signature(FrameReceiver.get_frame).parameters) != ["self"]:
        missing.append("FrameReceiver.get_frame(self)")
    if "self.get_frame()" not in inspect.getsource(FrameReceiver.__anext__):
        missing.append("FrameReceiver.__anext__ calling self.get_frame()")
    if "__last_frame_time" not in inspect.getsource(Connection):
        missing.append("Connection.__last_frame_time")
    from pamqp import decode  # the bulk reader's field decoders

    for name in ("embedded_value", "timestamp"):
        function = getattr(decode, name, None)
        if not callable(function) or list(inspect.signature(function).parameters) != ["value"]:
            missing.append(f"pamqp.decode.{name}(value)")
    return missing


def can_take_over_frames(consume: Any, publish: Any) -> bool:
    """Whether :func:`take_over_frames` works on these channels; if not, logs once at debug
    that the public (slower) API is used instead."""
    global _fallback_logged
    names = ("_on_deliver_frame", "_get_frame", "_read_content", "write_queue")
    ok = all(hasattr(consume, n) for n in names) and all(
        hasattr(publish, n) for n in (*names, "_on_confirm_frame", "_on_return_frame")
    )
    if not ok and not _fallback_logged:
        _fallback_logged = True
        log.debug(
            "aiormq's Channel has no frame handlers to take over: the redrive publishes and "
            "acks through the public API (slower)"
        )
    return ok


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


def read_in_bulk(connection: Any, make: Callable[[Any, Callable[[], None]], Any]) -> Any | None:
    """Replace ``connection``'s frame reading with ``make(read, touch)`` (a
    :class:`~mqctl.backends.rabbitmq.redrive_reader.BulkReader`); None when this aiormq
    does not look as expected (the taken-over frame handlers then keep working alone).

    aiormq's reader task iterates a ``FrameReceiver`` (a local of ``Connection.__reader``)
    whose ``__anext__`` calls ``self.get_frame()``: an instance attribute replaces it from
    the next frame on. ``read`` is the StreamReader's ``read``; ``touch`` sets aiormq's
    last-frame clock (its heartbeat check closes a connection that seems silent)."""
    task = getattr(connection, "_reader_task", None)
    coroutine = task.get_coro() if task is not None and not task.done() else None
    frame = getattr(coroutine, "cr_frame", None)
    receiver = frame.f_locals.get("frame_receiver") if frame is not None else None
    stream: Any = getattr(receiver, "reader", None)
    if (
        receiver is None
        or not callable(getattr(receiver, "get_frame", None))
        or not callable(getattr(stream, "read", None))
        or not hasattr(connection, "_Connection__last_frame_time")
    ):
        log.debug("aiormq's frame receiver not found: the redrive reads frames through aiormq")
        return None
    clock = asyncio.get_running_loop().time

    def touch() -> None:
        connection._Connection__last_frame_time = clock()

    bulk = make(stream.read, touch)
    receiver.get_frame = bulk.get_frame
    return bulk


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

# pamqp (aiormq's frame codec) checks names before it encodes a frame against the AMQP spec's
# informative domains, narrower than what RabbitMQ takes (any UTF-8 name up to 255 bytes:
# accents, Cyrillic, CJK, emoji, ``%``...), so a queue mqctl itself created through the
# management API could not be peeked, published to or redriven:
# * queue and exchange names must match ``^[a-zA-Z0-9-_.:@#,/+ ]*$``: the check reads
#   ``pamqp.constants.DOMAIN_REGEX`` at each frame, so those two patterns are widened;
# * exchange names (and the vhost of ``connection.open``) may have at most 127 characters:
#   each command's ``validate`` is wrapped to apply that one to the 255 bytes instead.
# pamqp's encoder still refuses a name over 255 bytes, and
# :func:`mqctl.backends.rabbitmq.names.check_name` turns that into a clear error first.
_ANY_NAME_PATTERN = r"(?s).*"
# Name fields pamqp caps at 127 characters; RabbitMQ's limit is the short string's 255 bytes.
SPEC_CAPPED_FIELDS = ("exchange", "source", "destination", "virtual_host")
_SPEC_MAX_CHARS = 127


def allow_any_names() -> None:
    """Let pamqp encode every name RabbitMQ accepts (idempotent, process-wide)."""
    import re

    from pamqp import base, commands, constants

    for domain in ("queue-name", "exchange-name"):
        pattern = constants.DOMAIN_REGEX.get(domain)
        if pattern is None or pattern.pattern != _ANY_NAME_PATTERN:
            constants.DOMAIN_REGEX[domain] = re.compile(_ANY_NAME_PATTERN)
    for group in vars(commands).values():
        for command in vars(group).values() if isinstance(group, type) else ():
            if (
                isinstance(command, type)
                and issubclass(command, base.Frame)
                and "validate" in vars(command)
                and set(SPEC_CAPPED_FIELDS) & set(command.__slots__)
                and not getattr(command.validate, "_mqctl_by_bytes", False)
            ):
                command.validate = _by_bytes(command.validate)  # type: ignore[method-assign, assignment]


def _by_bytes(validate: Callable[[Any], None]) -> Callable[[Any], None]:
    """``validate`` with long names shortened while it runs (their bytes are checked when
    the frame is encoded)."""

    def validate_names_by_bytes(self: Any) -> None:
        hidden: dict[str, str] = {}
        for field in SPEC_CAPPED_FIELDS:
            value = getattr(self, field, None)
            if isinstance(value, str) and len(value) > _SPEC_MAX_CHARS:
                hidden[field] = value
                setattr(self, field, value[:_SPEC_MAX_CHARS])
        try:
            validate(self)
        finally:
            for field, value in hidden.items():
                setattr(self, field, value)

    validate_names_by_bytes._mqctl_by_bytes = True  # type: ignore[attr-defined]
    validate_names_by_bytes.__wrapped__ = validate  # type: ignore[attr-defined]
    return validate_names_by_bytes
