"""How a RabbitMQ redrive's two channels hand it deliveries, confirms, returns and closes.

Three ways, fastest first, each used when the installed aiormq allows it (see
:mod:`.aiormq_internals`): both connections read in bulk by :class:`~.redrive_reader.BulkReader`
(no aiormq objects per frame); aiormq's reader with the channels' frame handlers taken over;
aiormq's public API (``basic_consume`` callback, one future per publish).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from pamqp.commands import Basic

from mqctl.backends.rabbitmq import aiormq_internals
from mqctl.backends.rabbitmq.redrive_reader import BulkReader, Delivery
from mqctl.backends.rabbitmq.redrive_window import ConfirmWindow
from mqctl.backends.rabbitmq.redrive_wire import FrameEncoder


class RedriveFrames:
    """The frame side of :class:`~.dlq_redrive._Run` (which sets these attributes)."""

    consume: Any  # the aiormq channels
    publish: Any
    fast: bool
    encoder: FrameEncoder | None
    bulk: BulkReader | None
    bulk_confirms: BulkReader | None
    deliveries: deque[Any]
    inflight: ConfirmWindow
    wake: asyncio.Event
    settled: asyncio.Event
    room: asyncio.Event
    lost: BaseException | None
    closing: bool

    def _hook_channels(self) -> None:
        """Take over the frames of the hot path from aiormq's per-message machinery (when
        the installed aiormq allows it: else its public API is used, see ``_publish_one``)."""
        consume, publish = self.consume, self.publish
        if self.fast:
            aiormq_internals.take_over_frames(
                consume,
                publish,
                on_deliver=self._on_deliver_frame,
                on_confirm=self._on_confirm_frame,
                on_return=self._on_return_frame,
            )
            self.encoder = FrameEncoder(publish.number, publish.max_content_size)
        for channel in (consume, publish):
            channel.closing.add_done_callback(self._channel_closed)

    def _read_in_bulk(self) -> None:
        """Read both connections with :class:`BulkReader` (deliveries, confirms and returns
        straight to this run; when aiormq does not allow it, its reader stays)."""
        self.bulk = aiormq_internals.read_in_bulk(
            self.consume.connection,
            lambda read, touch: BulkReader(
                read, self.consume.number, on_delivery=self._delivered, touch=touch
            ),
        )
        self.bulk_confirms = aiormq_internals.read_in_bulk(
            self.publish.connection,
            lambda read, touch: BulkReader(
                read,
                self.publish.number,
                on_confirm=self._confirmed,
                on_return=self._returned,
                touch=touch,
            ),
        )

    def _delivered(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.wake.set()

    def _confirmed(self, tag: int, multiple: bool, nack: bool) -> None:
        self.inflight.confirmed(tag, multiple, nack)
        self.settled.set()

    def _returned(self, returned: Delivery) -> None:
        message_id = returned.properties.get("message_id")
        self.inflight.returned((message_id, returned.exchange, returned.routing_key))

    # --------------------------------------------------------- frames through aiormq's reader

    async def _on_deliver_frame(self, frame: Any) -> None:
        self.deliveries.append(await aiormq_internals.read_delivered(self.consume, frame))
        self.wake.set()

    async def _on_message(self, message: Any) -> None:
        """basic_consume's callback (only used when ``_on_deliver_frame`` is not hooked)."""
        self.deliveries.append(message)
        self.wake.set()

    async def _on_confirm_frame(self, frame: Any) -> None:
        nack = isinstance(frame, Basic.Nack)
        self.inflight.confirmed(frame.delivery_tag, bool(getattr(frame, "multiple", False)), nack)
        self.settled.set()

    async def _on_return_frame(self, frame: Any) -> None:
        """An unroutable copy came back (it is confirmed right after: stays failed)."""
        message = await aiormq_internals.read_delivered(self.publish, frame)
        self.inflight.returned(
            (message.header.properties.message_id, frame.exchange, frame.routing_key)
        )

    def _connection_closed(self, _sender: Any, exc: BaseException | None = None) -> None:
        """The broker or the network closed the connection: every unacked message is back in
        the DLQ already, so stop at once; publishes still unconfirmed count as failed."""
        if self.closing:
            return
        self.lost = self.lost or exc or ConnectionError("connection closed")
        self.wake.set()
        self.settled.set()
        self.room.set()

    def _channel_closed(self, future: asyncio.Future[Any]) -> None:
        exc = None if future.cancelled() else future.exception()
        if self.closing:
            return
        self.lost = self.lost or exc or ConnectionError("a channel of the redrive closed")
        self.wake.set()
        self.settled.set()
        self.room.set()
