"""The sliding window of a RabbitMQ redrive: copies published, their confirms, the DLQ acks.

Confirms are tracked by publish sequence number in a window of published copies kept in DLQ
order; after each burst of confirms the head of the window that is settled is acked on the DLQ
with one ``basic.ack multiple`` up to the highest contiguous confirmed delivery tag (single acks
once a message of this run is held, since a multiple ack would cover it too). A return
(``mandatory``, unroutable) is matched to the unconfirmed publishes by message id, exchange and
routing key; when that is ambiguous every candidate is treated as returned: they stay in the DLQ
(a possible duplicate, never a loss).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mqctl.dlq.engine import RedriveControl
    from mqctl.dlq.plan import Target

PENDING, CONFIRMED, FAILED = 0, 1, 2
ReturnKey = tuple[Any, str, str]  # (message id, exchange, routing key)


class InFlight:
    """One published copy: its publish sequence number and the DLQ delivery tag to ack."""

    __slots__ = ("error", "key", "seq", "state", "tag", "target")

    def __init__(self, seq: int, tag: int, target: Target, key: ReturnKey) -> None:
        self.seq = seq
        self.tag = tag
        self.target = target
        self.key = key  # to match a basic.return
        self.state = PENDING
        self.error = ""


class ConfirmWindow:
    def __init__(self) -> None:
        # In publish (= DLQ) order, and the unconfirmed part by publish sequence number.
        self.order: deque[InFlight] = deque()
        self.unconfirmed: OrderedDict[int, InFlight] = OrderedDict()
        self.seq = 0  # publish sequence number (the broker's confirm delivery tag)
        # Lowest DLQ delivery tag this run holds (leaves unacked): a ``multiple`` ack may
        # only reach below it; from there on every message is acked on its own.
        self.first_held: int | None = None
        self.held = 0
        self.progress_at = time.monotonic()

    def __len__(self) -> int:
        return len(self.order)

    def published(self, tag: int, target: Target, key: ReturnKey) -> None:
        """A copy of the DLQ message ``tag`` was encoded for sending."""
        self.seq += 1
        if not self.unconfirmed:
            self.progress_at = time.monotonic()
        entry = InFlight(self.seq, tag, target, key)
        self.unconfirmed[self.seq] = entry
        self.order.append(entry)

    def hold(self, tag: int) -> None:
        """A message stays unacked: no ``multiple`` ack may reach it any more."""
        self.held += 1
        if self.first_held is None or tag < self.first_held:
            self.first_held = tag

    # --- answers from the broker ------------------------------------------------------------

    def confirmed(self, tag: int, multiple: bool, nack: bool) -> None:
        """A ``basic.ack`` / ``basic.nack`` on the publishing channel."""
        self.progress_at = time.monotonic()
        unconfirmed = self.unconfirmed
        if multiple:
            while unconfirmed:
                seq = next(iter(unconfirmed))
                if seq > tag:
                    break
                self._settle(unconfirmed.popitem(last=False)[1], nack)
        else:
            entry = unconfirmed.pop(tag, None)
            if entry is not None:
                self._settle(entry, nack)

    def _settle(self, entry: InFlight, nack: bool) -> None:
        if entry.state != PENDING:  # returned before its confirm: stays failed
            return
        if nack:
            entry.state = FAILED
            entry.error = f"{entry.target.label}: the broker refused the message (nack)"
        else:
            entry.state = CONFIRMED

    def returned_publish(self, seq: int) -> None:
        """Publish ``seq`` came back as unroutable (known exactly: the public-API path)."""
        entry = self.unconfirmed.pop(seq, None)
        if entry is not None and entry.state == PENDING:
            entry.state = FAILED
            entry.error = f"{entry.target.label}: returned as unroutable (no queue bound)"

    def returned(self, key: ReturnKey) -> None:
        """An unroutable copy came back (it is confirmed right after: stays failed)."""
        candidates = [e for e in self.unconfirmed.values() if e.key == key]
        if not candidates:
            if any(e.key == key for e in self.order):  # already marked by an earlier return
                return
            candidates = list(self.unconfirmed.values())  # cannot tell: none is acked
        for entry in candidates:
            if entry.state == PENDING:
                entry.state = FAILED
                entry.error = f"{entry.target.label}: returned as unroutable (no queue bound)"

    def expire(self, timeout: float) -> bool:
        """Fail every publish if none was confirmed for ``timeout`` seconds; True if it did.

        They stay unacked: returned to the DLQ at the end of the run (a late confirm is
        ignored, so at worst the copy is a duplicate)."""
        if not self.unconfirmed or time.monotonic() - self.progress_at <= timeout:
            return False
        while self.unconfirmed:
            entry = self.unconfirmed.popitem(last=False)[1]
            if entry.state == PENDING:
                entry.state = FAILED
                entry.error = f"{entry.target.label}: not confirmed within {timeout:g}s"
        return True

    # --- acks on the DLQ --------------------------------------------------------------------

    def settled_acks(self, control: RedriveControl) -> list[tuple[int, bool]]:
        """Take the settled head of the window off, count it on ``control`` and return the
        acks to send on the DLQ for the copies that were confirmed: (delivery tag, multiple)."""
        order = self.order
        acks: list[tuple[int, bool]] = []
        run: list[int] = []  # confirmed DLQ delivery tags since the last hold, in order

        def ack_run() -> None:
            first_held = self.first_held
            if first_held is None or run[-1] < first_held:
                acks.append((run[-1], True))
            else:
                acks.extend((t, False) for t in run)
            run.clear()

        while order and order[0].state != PENDING:
            entry = order.popleft()
            if entry.state == CONFIRMED:
                run.append(entry.tag)
                control.moved(entry.target)
            else:
                if run:
                    ack_run()
                self.hold(entry.tag)
                control.failed(entry.error)
        if run:
            ack_run()
        return acks

    def abandon(self, control: RedriveControl) -> None:
        """Count what is left unacked at the end (it stays in or goes back to the DLQ)."""
        for entry in self.order:
            if entry.state == CONFIRMED:  # the copy arrived: a duplicate on the next run
                control.moved(entry.target)
            elif entry.state == FAILED:
                control.failed(entry.error)
            else:
                control.failed(
                    f"{entry.target.label}: not confirmed before the connection was lost"
                )
        self.order.clear()


async def publish_and_confirm(
    channel: Any,
    window: ConfirmWindow,
    seq: int,
    exchange: str,
    routing_key: str,
    body: bytes,
    properties: Any,
) -> None:
    """Publish ``seq`` with aiormq's public ``basic_publish`` (mandatory, on a confirming
    channel) and settle it in ``window`` from the outcome: the slower path used when the
    frames cannot be taken over (see :mod:`.aiormq_internals`)."""
    import aiormq.exceptions

    try:
        await channel.basic_publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            properties=properties,
            mandatory=True,
        )
    except aiormq.exceptions.PublishError:
        window.returned_publish(seq)
    except aiormq.exceptions.DeliveryError:
        window.confirmed(seq, False, True)
    except Exception:  # the channel or connection closed: the close callbacks report it
        return
    else:
        window.confirmed(seq, False, False)
